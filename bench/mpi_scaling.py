#!/usr/bin/env python3
"""Data-parallel scaling of `dlc train` on MPI: the lecture's CNN
(examples/mnist_cnn.dl, global batch 50, Adam, dropout) trained by 1 process
and by 2 processes started with mpirun, one thread each (--threads 1), in
fresh processes, interleaved over several rounds.

Per rank count: the median [min, max] over the rounds of the steps per
second, the allreduce time per step (the gradients' sum, with its packing),
the compute time per step (the rest), and the scaling efficiency
S_N / (N * S_1), S being steps per second at the same global batch (strong
scaling: N processes share each batch of 50). Also prints the gradient bytes
each process sends per step, the input of docs/CHOICES.md's estimate for 8
and 64 machines.

  bench/mpi_scaling.py [--rounds N] [--steps N] [--ranks 1,2]
      (build first; needs mpirun from openmpi-bin)

Numbers measured while other work runs on the machine are noisy: the script
reports the min and max next to the median so that the noise shows.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLC = os.path.join(ROOT, "build", "bin", "dlc")
MODEL = os.path.join(ROOT, "examples", "mnist_cnn.dl")


def run(ranks, steps, data, report, env):
    cmd = [DLC, "train", MODEL, "--data", data, "--steps", str(steps),
           "--validation", "0", "--threads", "1", "--report", report]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "none"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    with open(report) as f:
        r = json.load(f)
    steps_per_s = r["examples_per_s"] / 50.0
    allreduce = r.get("allreduce_s", 0.0) / r["steps"]
    return steps_per_s, allreduce, 1.0 / steps_per_s - allreduce


def grad_bytes():
    # The CNN's trained params, all f32 (examples/mnist_cnn.dl).
    shapes = [(5, 5, 1, 32), (32,), (5, 5, 32, 64), (64,), (3136, 1024), (1024,),
              (1024, 10), (10,)]
    n = 0
    for s in shapes:
        k = 1
        for d in s:
            k *= d
        n += k
    return 4 * n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--ranks", default="1,2")
    args = ap.parse_args()
    if not shutil.which("mpirun"):
        print("mpirun not found (apt-get install openmpi-bin)")
        return 1
    ranks = [int(r) for r in args.ranks.split(",")]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    tmp = tempfile.mkdtemp()
    try:
        # 1000 training images keep the final evaluation short; the
        # timings cover the steps only.
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "Execution", "Inputs",
                                                     "mnist_subset.py"),
                        os.path.join(ROOT, "examples"), tmp, "1000", "100"], check=True)
        # Compile once (the compile cache), outside the timings.
        run(1, 1, tmp, os.path.join(tmp, "r.json"), env)
        run(2, 1, tmp, os.path.join(tmp, "r.json"), env)
        results = {n: [] for n in ranks}
        for _ in range(args.rounds):
            for n in ranks:
                results[n].append(run(n, args.steps, tmp, os.path.join(tmp, "r.json"), env))
    finally:
        shutil.rmtree(tmp)

    def cell(values, scale=1.0, fmt="%.1f"):
        return (fmt + " [" + fmt + ", " + fmt + "]") % (
            statistics.median(values) * scale, min(values) * scale, max(values) * scale)

    print("# %s, %s, %d rounds of %d steps, global batch 50, --threads 1 per process" % (
        os.uname().nodename, open("/proc/cpuinfo").read().split("model name")[1].split(":")[1]
        .split("\n")[0].strip(), args.rounds, args.steps))
    print("# gradient bytes per step and process: %d (%.1f MB)" % (grad_bytes(), grad_bytes() / 1e6))
    print("| processes | steps/s | allreduce ms/step | compute ms/step | efficiency |")
    print("| --- | --- | --- | --- | --- |")
    base = statistics.median([r[0] for r in results[ranks[0]]])
    for n in ranks:
        sps = [r[0] for r in results[n]]
        eff = statistics.median(sps) / (n * base) if ranks[0] == 1 else float("nan")
        print("| %d | %s | %s | %s | %.0f%% |" % (
            n, cell(sps, 1, "%.2f"), cell([r[1] for r in results[n]], 1e3),
            cell([r[2] for r in results[n]], 1e3), 100 * eff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
