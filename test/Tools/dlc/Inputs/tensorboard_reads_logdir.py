"""TensorBoard's own reader loads what `dlc train --logdir` writes.

Run by ctest with the CI virtualenv's Python (PyPI's tensorboard, installed by
.ci/run); exits 77 (skipped) when tensorboard cannot be imported.

  python tensorboard_reads_logdir.py DLC MODEL WORKDIR
"""
import json
import math
import os
import shutil
import subprocess
import sys

try:
    from tensorboard.backend.event_processing import event_accumulator as ea
except ImportError as e:
    print(f"skipped: tensorboard is not installed in this Python ({e}); .ci/run creates build/venv")
    sys.exit(77)

dlc, model, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
logdir = os.path.join(work, "logs")
# A compile cache of its own, as the lit tests have.
os.environ["XDG_CACHE_HOME"] = os.path.join(work, "cache")
subprocess.run([dlc, "train", model, "--steps", "250", "--validation", "500",
                "--logdir", logdir, "--quiet"], check=True, stdout=subprocess.DEVNULL)

jsonl = [json.loads(line) for line in open(os.path.join(logdir, "metrics.jsonl"))]
expected = {}  # (set, tag) -> [(step, value)]
for row in jsonl:
    for key, value in row.items():
        if key not in ("step", "set", "wall_time"):
            expected.setdefault((row["set"], key), []).append((row["step"], value))


def load(run):
    acc = ea.EventAccumulator(os.path.join(logdir, run), size_guidance={
        ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0})
    acc.Reload()  # raises on a bad CRC or a malformed record
    return acc


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


runs = {run: load(run) for run in ("train", "validation", "test")}
train = runs["train"]
tags = train.Tags()
check(sorted(tags["scalars"]) == ["accuracy", "examples_per_s", "grad_norm", "learning_rate", "loss"],
      f"train scalar tags {tags['scalars']}")
# Every scalar TensorBoard reads is the value metrics.jsonl holds (float32).
for (run, tag), series in expected.items():
    got = [(e.step, e.value) for e in runs[run].Scalars(tag)]
    check([s for s, _ in got] == [s for s, _ in series], f"{run}/{tag} steps {got} vs {series}")
    for (_, a), (_, b) in zip(got, series):
        check(math.isclose(a, b, rel_tol=1e-6), f"{run}/{tag}: {a} vs {b}")
check([s for s, _ in expected[("train", "loss")]] == [1, 100, 200, 250], "train steps")
check([s for s, _ in expected[("validation", "loss")]] == [100, 200, 250], "validation steps")
check([s for s, _ in expected[("test", "accuracy")]] == [250], "test steps")
check(expected[("train", "learning_rate")][0][1] == 0.5, "learning rate")
# The global gradient norm: positive and finite at every logged step (its value
# is checked against a closed form in GradNormTest).
check(all(0 < v < math.inf for _, v in expected[("train", "grad_norm")]), "grad_norm values")

check(sorted(tags["histograms"]) == ["params/W", "params/b"], f"histograms {tags['histograms']}")
for h in train.Histograms("params/W"):
    check(h.histogram_value.num == 7840, f"histogram count {h.histogram_value.num}")
    check(sum(h.histogram_value.bucket) == 7840, "bucket counts")
check([h.step for h in train.Histograms("params/W")] == [1, 100, 200, 250], "histogram steps")

check(tags["images"] == ["weights/W"], f"images {tags['images']}")
image = train.Images("weights/W")[-1]
check(image.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature")
check((image.width, image.height) == (4 * 57 - 1, 3 * 57 - 1), f"image size {image.width}x{image.height}")

check(tags["graph"], "no graph")
graph = train.Graph()
ops = {n.name: n.op for n in graph.node}
check(ops.get("x") == "input" and ops.get("W") == "param" and ops.get("loss") == "loss",
      f"graph nodes {ops}")
check("dl.matmul" in ops.values(), "no matmul node")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"tensorboard read {len(jsonl)} logged rows, {len(graph.node)} graph nodes: ok")
