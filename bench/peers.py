#!/usr/bin/env python3
"""dlc against PyTorch, JAX and TensorFlow at their best, on the same cores with the same threads.

    bench/peers.py [--rounds 5] [--systems dlc,torch,...] [--threads 1,2]
                   [--compile-sweep [--sweep-layers 8,32,128]] [--large] [--out-dir DIR]
    bench/peers.py --smoke --systems dlc --workloads softmax     (seconds: proves the script end to end)

Workloads (identical math on every side, bench/peer_step.py says exactly what): the
lecture's MNIST CNN (examples/mnist_cnn.dl, batch 50, Adam, dropout) and MNIST softmax
regression (examples/mnist_softmax.dl, batch 100, SGD), trained on the bundled digits.

Systems: dlc (the trainer of `dlc train` through the C++ API: build/bin/dlc-bench-train),
PyTorch 2.x eager (channels_last, fused Adam), torch.compile (inductor), JAX (jit of the
whole step), TensorFlow (tf.function of the whole step), all from a virtualenv this script
creates from bench/requirements-peers.txt (build/bench-venv), and Debian's PyTorch 1.13
(/usr/bin/python3, python3-torch) run with OpenBLAS first on its library path (Debian's
libopenblas0-pthread; the script checks in /proc/self/maps that OpenBLAS, not netlib's
reference BLAS, is what the process loaded, and skips the row when the package is missing).

Timing, the same on every side: each measurement is a fresh process pinned with taskset to
the first T cores of this process's affinity mask, with T threads (dlc --threads; torch
set_num_threads; TensorFlow's intra- and inter-op threads; OMP_NUM_THREADS,
MKL_NUM_THREADS, OPENBLAS_NUM_THREADS; XLA without its multi-threaded Eigen at one
thread), that trains W warm-up steps (compiling, tracing, caches) and then N timed steps
of the whole training loop (batch gathered from a per-epoch permutation, the step, the
loss read back). Rounds are interleaved (every system once, then again, the order rotated
each round); each figure is the median over rounds, with [min, max]. Each process
measures the CPU time other processes took during its timed steps (/proc/stat less its
own); a measurement where that exceeds --max-foreign cores is rejected and redone, at most
--retries times (then kept and counted as loaded). Peak memory is each process's resident
high-water mark (VmHWM) at the end of its timed steps: startup, compilation and data
included. dlc's compile cache is on for the training runs (a second `dlc train`); the
compile sweep measures it cold.

GFLOP/s: the CNN step's FLOPs are counted once, here (cnn_step_flops), and compared with the
FP32 FMA peak of the same cores measured by `dlc-bench-kernels --fma-peak T`.

--compile-sweep: cold compile of the CNN (dlc: --no-cache; then from dlc's cache) and of a
generated MLP of 64-wide layers with Adam (8, 32 and 128 layers; others with --sweep-layers), dlc
against jax.jit's lower+compile of the same train step. --large: the MLP 784-8192-8192-10
(batch 64, Adam), dlc against PyTorch 2.x eager, s/step and peak memory.

Writes DIR/peers-DATE.md and .json (default DIR: build/bench) and prints the Markdown.
Not a test: run it on an otherwise idle machine.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

from peer_step import machine_busy_s

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
REQUIREMENTS = os.path.join(BENCH, "requirements-peers.txt")
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
DEBIAN_PYTHON = "/usr/bin/python3"

SYSTEMS = ["dlc", "torch", "torch-compile", "tf", "torch1.13", "jax"]
LABELS = {
    "dlc": "dlc",
    "torch": "PyTorch 2.x eager, channels_last, fused Adam",
    "torch-compile": "PyTorch 2.x torch.compile (inductor)",
    "tf": "TensorFlow 2.x tf.function",
    "torch1.13": "PyTorch 1.13 (Debian) with OpenBLAS",
    "jax": "JAX jit of the whole step",
}
MODELS = {"cnn": "examples/mnist_cnn.dl", "softmax": "examples/mnist_softmax.dl"}
# (warm-up steps, timed steps) per workload: timed windows of about 1-3 s.
STEPS = {"cnn": (5, 60), "softmax": (20, 3000), "mlp-large": (2, 5)}


def cnn_step_flops(batch=50):
    """FLOPs of one CNN train step, a multiply-add counted as 2: the forward's two
    convolutions and two dense layers, their weight gradients (as many FLOPs again) and
    their input gradients (again, except the first convolution's, whose input is the data).
    Bias, relu, pooling, dropout, softmax and Adam (about 1% more) are left out.
    Batch 50: 1.388 GFLOP forward, 4.102 GFLOP a step."""
    conv1 = 2 * batch * 28 * 28 * 32 * 5 * 5 * 1
    conv2 = 2 * batch * 14 * 14 * 64 * 5 * 5 * 32
    fc1 = 2 * batch * 3136 * 1024
    fc2 = 2 * batch * 1024 * 10
    forward = conv1 + conv2 + fc1 + fc2
    return forward + forward + (conv2 + fc1 + fc2)


def mlp_source(sizes, name, batch=64, data="data/mnist-10k"):
    """A dl model of a dense relu MLP with Adam on the bundled digits (the compile sweep's
    and --large's, and bench/gen_mlp.py's; bench/peer_step.py builds the same). `data` is
    the digits' folder, relative to the model file or absolute."""
    lines = ["# Generated by bench/peers.py.", "model " + name, "",
             "input x: f32[B, 784]", "input y: i32[B]", ""]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:]), 1):
        lines.append(f"param W{i}: f32[{a}, {b}] = truncated_normal(stddev=0.1)")
        lines.append(f"param b{i}: f32[{b}] = fill(0.1)")
    lines.append("")
    h = "x"
    n = len(sizes) - 1
    for i in range(1, n + 1):
        expr = f"matmul({h}, W{i}) + b{i}"
        if i < n:
            lines.append(f"h{i} = relu({expr})")
            h = f"h{i}"
        else:
            lines.append(f"logits = {expr}")
    lines += ["", "loss = mean(softmax_cross_entropy(logits, y))",
              "metric accuracy = mean(argmax(logits, axis=1) == y)", "",
              f'data train {{ x = idx("{data}/train-images-idx3-ubyte.gz", scale=1/255); '
              f'y = idx("{data}/train-labels-idx1-ubyte.gz") }}', "",
              "train {", "  optimizer = adam(lr=1e-3)", f"  batch     = {batch}", "  steps     = 100", "}", ""]
    return "\n".join(lines)


class Failed(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.allowed = sorted(os.sched_getaffinity(0))
        self.venv_python = os.path.join(args.venv, "bin", "python")
        self.samples = []     # every accepted or loaded measurement
        self.rejected = {}    # key -> windows rejected for outside load
        self.skipped = {}     # system -> why
        self.versions = {}
        self.notes = {}
        self.peaks = {}       # threads -> best FMA GFLOP/s
        self.peak_note = ""   # why there is none
        self.sweep = []
        self.interrupted = False
        self.gen_dir = os.path.join(ROOT, "build", "bench")
        os.makedirs(self.gen_dir, exist_ok=True)

    # --- processes

    def cores(self, threads):
        if threads > len(self.allowed):
            raise SystemExit(f"peers.py: {threads} threads but only {len(self.allowed)} cores in the affinity mask")
        return ",".join(str(c) for c in self.allowed[:threads])

    def env(self, system, threads):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
        env["TF_NUM_INTRAOP_THREADS"] = env["TF_NUM_INTEROP_THREADS"] = str(threads)
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        env["PYTHONWARNINGS"] = "ignore"
        if system == "jax" and threads == 1:
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
        if system == "torch1.13":
            # torch's own OpenMP threads parallelise its ops; OpenBLAS's pthreads on the same
            # cores would fight them (measured: a softmax step of 1.7 ms instead of 0.15 at 2T).
            env["OPENBLAS_NUM_THREADS"] = "1"
            env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        return env

    def command(self, system, threads, rest):
        pin = ["taskset", "-c", self.cores(threads)]
        if system == "dlc":
            return pin + [self.args.dlc_train] + rest + ["--threads", str(threads)]
        python = DEBIAN_PYTHON if system == "torch1.13" else self.venv_python
        name = "torch" if system == "torch1.13" else system
        return pin + [python, os.path.join(BENCH, "peer_step.py"), "--system", name,
                      "--threads", str(threads)] + rest

    def run(self, argv, env=None, timeout=None):
        """Runs a child; returns (its output, the seconds of CPU it used)."""
        timeout = timeout or self.args.timeout
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            p = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Failed(f"{e}: {' '.join(argv)}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if p.returncode != 0:
            tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-5:])
            raise Failed(f"exit {p.returncode}: {' '.join(argv)}\n{tail}")
        return p.stdout, cpu

    def run_json(self, argv, env=None):
        """Runs a child that prints a JSON line last; returns it."""
        out, _ = self.run(argv, env)
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if not lines:
            raise Failed(f"no result from {' '.join(argv)}")
        return json.loads(lines[-1])

    def too_loaded(self, foreign_s, window_s):
        # /proc/stat counts in clock ticks: allow three ticks per CPU of resolution.
        tick = 1.0 / os.sysconf("SC_CLK_TCK")
        return foreign_s > max(self.args.max_foreign * window_s, 3 * tick * os.cpu_count())

    # --- measurements

    def fma_peak(self, threads):
        for attempt in range(self.args.retries + 1):
            busy0, t0 = machine_busy_s(), time.perf_counter()
            try:
                out, cpu = self.run(["taskset", "-c", self.cores(threads), self.args.kernels,
                                     "--fma-peak", str(threads)])
            except Failed as e:
                self.peak_note = str(e).splitlines()[-1]
                return
            gflops = float(dict(f.split("=") for f in out.split())["fma_peak_gflops"])
            window = time.perf_counter() - t0
            foreign = machine_busy_s() - busy0 - cpu
            if not self.too_loaded(foreign, window) or attempt == self.args.retries:
                break
            self.rejected[("fma", threads)] = self.rejected.get(("fma", threads), 0) + 1
        self.peaks[threads] = max(self.peaks.get(threads, 0), gflops)

    def train(self, system, workload, threads, rnd):
        warmup, steps = STEPS[workload]
        if self.args.smoke:
            warmup, steps = 2, 3
        if system == "dlc":
            model = MODELS.get(workload) or self.generated_mlp([784, 8192, 8192, 10], "mlp_large")
            rest = [model, "--data", os.path.join(ROOT, "examples")]
        else:
            rest = ["--workload", workload]
        rest += ["--warmup", str(warmup), "--steps", str(steps)]
        key = (system, workload, threads)
        for attempt in range(self.args.retries + 1):
            r = self.run_json(self.command(system, threads, rest), self.env(system, threads))
            if system == "torch1.13" and not any("openblas" in b for b in r.get("blas", [])):
                raise Failed("Debian's PyTorch did not load OpenBLAS (it mapped %s)" % r.get("blas"))
            loaded = self.too_loaded(r["foreign_cores"] * r["loop_s"], r["loop_s"])
            if not loaded or self.args.smoke:
                break
            self.rejected[key] = self.rejected.get(key, 0) + 1
            if attempt == self.args.retries:
                break
        r.update(system=system, workload=workload, threads=threads, round=rnd,
                 loaded=loaded and not self.args.smoke)
        if system != "dlc":
            self.versions.setdefault(system, r.get("version"))
            self.notes.setdefault(system, r.get("note"))
        self.samples.append(r)
        return r

    def generated_mlp(self, sizes, name):
        path = os.path.join(self.gen_dir, name + ".dl")
        text = mlp_source(sizes, name)
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)
        return path

    def compile_sweep(self):
        """Cold compiles, interleaved dlc / JAX, --sweep-rounds times."""
        cases = [("cnn", None)] + [("mlp", n) for n in self.args.sweep_layers]
        for rnd in range(self.args.sweep_rounds):
            for workload, layers in cases:
                name = "CNN" if workload == "cnn" else f"MLP {layers}x64"
                model = MODELS["cnn"] if workload == "cnn" else \
                    self.generated_mlp([784] + [64] * layers + [10], f"mlp_{layers}")
                jobs = [("dlc", "cold", [self.args.dlc_train, model, "--no-cache", "--compile-only"])]
                if workload == "cnn":
                    jobs.append(("dlc", "cached", [self.args.dlc_train, model, "--compile-only"]))
                if "jax" in self.args.systems and "jax" not in self.skipped:
                    jax_args = ["--workload", workload, "--compile-only"] + \
                        (["--layers", str(layers)] if layers else [])
                    jobs.append(("jax", "cold", self.command("jax", 1, jax_args)[3:]))
                for system, mode, argv in jobs:
                    argv = ["taskset", "-c", self.cores(1)] + argv
                    try:
                        r = self.run_json(argv, self.env(system, 1))
                    except Failed as e:
                        print(f"# compile sweep: {name} {system}: {e}", file=sys.stderr)
                        r = {"error": str(e).splitlines()[0]}
                    r.update(case=name, system=system, mode=mode, round=rnd)
                    if system == "jax" and "version" in r:
                        self.versions.setdefault(system, r["version"])
                    self.sweep.append(r)
                    progress(f"compile {name} {system} {mode}: {r.get('compile_s', 'failed')}")

    # --- the whole run

    def available(self):
        systems = []
        for s in self.args.systems:
            if s == "dlc":
                if not os.access(self.args.dlc_train, os.X_OK):
                    raise SystemExit(f"peers.py: {self.args.dlc_train} is not built (cmake --build build)")
            elif s == "torch1.13":
                if not os.path.exists(os.path.join(OPENBLAS_DIR, "libblas.so.3")):
                    self.skipped[s] = "Debian's libopenblas0-pthread is not installed (apt-get install libopenblas0-pthread)"
                    continue
                if subprocess.run([DEBIAN_PYTHON, "-c", "import torch"], capture_output=True).returncode:
                    self.skipped[s] = "Debian's python3-torch is not installed"
                    continue
            elif not os.path.exists(self.venv_python):
                self.setup_venv()
            systems.append(s)
        return systems

    def setup_venv(self):
        progress(f"creating {self.args.venv} from {REQUIREMENTS}")
        subprocess.run([DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable,
                        "-m", "venv", self.args.venv], check=True)
        subprocess.run([self.venv_python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS]
                       + self.args.pip_args.split(), check=True)

    def main(self):
        args = self.args
        systems = self.available()
        started = time.time()
        # Stopped (Ctrl-C, a timeout's SIGTERM): the report still says what was measured.
        signal.signal(signal.SIGTERM, interrupt)
        try:
            self.measure(systems)
        except KeyboardInterrupt:
            self.interrupted = True
            progress("interrupted: writing what was measured")
        self.write(started, systems)

    def measure(self, systems):
        args = self.args
        for rnd in range(args.rounds):
            for t in args.threads:
                self.fma_peak(t)
            order = systems[rnd % len(systems):] + systems[:rnd % len(systems)]
            for workload in args.workloads:
                for t in args.threads:
                    for s in order:
                        if s in self.skipped:
                            continue
                        try:
                            r = self.train(s, workload, t, rnd)
                        except Failed as e:
                            self.skipped[s] = str(e).splitlines()[0][:300]
                            print(f"# {s}: {e}", file=sys.stderr)
                            continue
                        progress(f"round {rnd + 1}/{args.rounds} {workload} {t}T {s}: "
                                 f"{r['loop_s'] / r['steps'] * 1e3:.3f} ms/step"
                                 f"{' (loaded)' if r['loaded'] else ''}")
            if args.large:
                for t in args.threads:
                    for s in [x for x in order if x in ("dlc", "torch") and x not in self.skipped]:
                        if rnd < args.large_rounds:
                            r = self.train(s, "mlp-large", t, rnd)
                            progress(f"round {rnd + 1} mlp-large {t}T {s}: {r['loop_s'] / r['steps']:.3f} s/step")
        if args.compile_sweep:
            self.compile_sweep()

    # --- the report

    def cell(self, system, workload, threads, value):
        vals = [value(r) for r in self.samples
                if (r["system"], r["workload"], r["threads"]) == (system, workload, threads)]
        if not vals:
            return None
        return statistics.median(vals), min(vals), max(vals), len(vals)

    def write(self, started, systems):
        args = self.args
        machine = machine_facts()
        versions = {"dlc": git_revision(), "python (peers' venv)": self.venv_version()}
        versions.update({LABELS[s]: v for s, v in self.versions.items()})
        if "torch1.13" in self.versions:
            versions["OpenBLAS (Debian)"] = dpkg_version("libopenblas0-pthread")
        flops = cnn_step_flops()
        md = [f"# dlc and its peers, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}", "",
              f"Machine: {machine['model']} ({machine['cpus']} CPUs, {machine['isa']}), Linux {machine['kernel']}. "
              f"FP32 FMA peak (`dlc-bench-kernels --fma-peak`): "
              + (", ".join(f"{self.peaks[t]:.0f} GFLOP/s on {t} core{'s' if t > 1 else ''}" for t in sorted(self.peaks))
                 or f"not measured ({self.peak_note})")
              + ".", "",
              "Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + ".", "",
              f"{args.rounds} interleaved rounds; each cell is the median [min, max] over rounds. "
              f"Timed: {STEPS['cnn'][1]} CNN / {STEPS['softmax'][1]} softmax steps after "
              f"{STEPS['cnn'][0]} / {STEPS['softmax'][0]} warm-up steps"
              + (" (smoke: 3 after 2)" if args.smoke else "")
              + f", whole training loop. CNN step = {flops / 1e9:.3f} GFLOP (cnn_step_flops). "
              f"Peak RSS: the process's high-water mark at the end of its timed steps.", ""]
        threads = args.threads

        def fmt(c, f):
            return "–" if c is None else f"{f(c[0])} [{f(c[1])}, {f(c[2])}]"

        head = ["system"]
        if "cnn" in args.workloads:
            head += [f"CNN steps/s, {t}T" for t in threads] + \
                    [f"CNN GFLOP/s (% of peak), {t}T" for t in threads] + [f"CNN peak RSS MiB, {threads[-1]}T"]
        if "softmax" in args.workloads:
            head += [f"softmax µs/step, {t}T" for t in threads] + [f"softmax peak RSS MiB, {threads[-1]}T"]
        head += ["windows rejected (kept loaded)"]
        if args.workloads:
            md += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

        def rejected(s, workloads):
            """'windows rejected (kept loaded)' of a system's measurements of these workloads."""
            rej = sum(n for k, n in self.rejected.items() if k[0] == s and k[1] in workloads)
            kept = sum(1 for r in self.samples if r["system"] == s and r["workload"] in workloads and r["loaded"])
            return f"{rej} ({kept})"

        for s in systems if args.workloads else []:
            if s in self.skipped and not any(r["system"] == s for r in self.samples):
                continue
            row = [LABELS[s]]
            if "cnn" in args.workloads:
                sps = lambda r: r["steps"] / r["loop_s"]
                row += [fmt(self.cell(s, "cnn", t, sps), lambda v: f"{v:.1f}") for t in threads]
                for t in threads:
                    c = self.cell(s, "cnn", t, sps)
                    row.append("–" if c is None else f"{c[0] * flops / 1e9:.0f}" +
                               (f" ({100 * c[0] * flops / 1e9 / self.peaks[t]:.0f}%)" if t in self.peaks else ""))
                row.append(fmt(self.cell(s, "cnn", threads[-1], lambda r: r["peak_rss_mib"]), lambda v: f"{v:.0f}"))
            if "softmax" in args.workloads:
                us = lambda r: r["loop_s"] / r["steps"] * 1e6
                row += [fmt(self.cell(s, "softmax", t, us), lambda v: f"{v:.0f}") for t in threads]
                row.append(fmt(self.cell(s, "softmax", threads[-1], lambda r: r["peak_rss_mib"]),
                               lambda v: f"{v:.0f}"))
            row.append(rejected(s, args.workloads))
            md.append("| " + " | ".join(row) + " |")
        md.append("")
        for s, note in self.notes.items():
            md.append(f"- {LABELS[s]}: {', '.join(note or [])}")
        for s, why in self.skipped.items():
            md.append(f"- {LABELS[s]}: not measured: {why}")
        if args.large:
            md += ["", "MLP 784-8192-8192-10, batch 64, Adam (s/step, median [min, max]; peak RSS MiB):", "",
                   "| system | " + " | ".join(f"s/step, {t}T | peak RSS, {t}T" for t in threads)
                   + " | windows rejected (kept loaded) |",
                   "|" + " --- |" * (2 + 2 * len(threads))]
            for s in ("dlc", "torch"):
                row = [LABELS[s]]
                for t in threads:
                    row.append(fmt(self.cell(s, "mlp-large", t, lambda r: r["loop_s"] / r["steps"]),
                                   lambda v: f"{v:.3f}"))
                    row.append(fmt(self.cell(s, "mlp-large", t, lambda r: r["peak_rss_mib"]), lambda v: f"{v:.0f}"))
                row.append(rejected(s, ["mlp-large"]))
                md.append("| " + " | ".join(row) + " |")
        if self.sweep:
            md += ["", "Compile time, one core (cold unless said; dlc: parse, passes and code generation "
                   "of the training program; JAX: jit's lower + compile of the train step), "
                   "median [min, max] s, and the compiling process's peak RSS MiB:", "",
                   "| model | dlc cold | dlc peak RSS | JAX jit | JAX peak RSS | dlc from its cache |",
                   "| --- | --- | --- | --- | --- | --- |"]
            for case in dict.fromkeys(r["case"] for r in self.sweep):
                def sw(system, mode, field, f):
                    vals = [r[field] for r in self.sweep
                            if (r["case"], r["system"], r["mode"]) == (case, system, mode) and field in r]
                    return fmt((statistics.median(vals), min(vals), max(vals)) if vals else None, f)
                s3, s0 = (lambda v: f"{v:.3f}"), (lambda v: f"{v:.0f}")
                md.append(f"| {case} | {sw('dlc', 'cold', 'compile_s', s3)} | {sw('dlc', 'cold', 'peak_rss_mib', s0)} | "
                          f"{sw('jax', 'cold', 'compile_s', s3)} | {sw('jax', 'cold', 'peak_rss_mib', s0)} | "
                          f"{sw('dlc', 'cached', 'compile_s', lambda v: f'{v:.4f}')} |")
        md.append("")
        if self.interrupted:
            md.append("**Interrupted**: the tables hold what was measured before the stop.")
        md.append(f"Took {(time.time() - started) / 60:.1f} min: `{' '.join(['bench/peers.py'] + sys.argv[1:])}`.")
        text = "\n".join(md) + "\n"
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
        os.makedirs(args.out_dir, exist_ok=True)
        base = os.path.join(args.out_dir, f"peers-{stamp}")
        with open(base + ".md", "w") as f:
            f.write(text)
        with open(base + ".json", "w") as f:
            json.dump({"date": stamp, "interrupted": self.interrupted, "machine": machine, "versions": versions, "fma_peak_gflops": self.peaks,
                       "cnn_step_flops": flops, "args": vars(args), "samples": self.samples,
                       "rejected": [{"key": list(k), "count": n} for k, n in self.rejected.items()],
                       "skipped": self.skipped, "notes": self.notes, "compile_sweep": self.sweep},
                      f, indent=1, default=str)
        print(text, end="")
        progress(f"wrote {base}.md and {base}.json")

    def venv_version(self):
        if not os.path.exists(self.venv_python):
            return "–"
        return subprocess.run([self.venv_python, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True).stdout.strip()


def machine_facts():
    facts = {"cpus": os.cpu_count(), "kernel": platform.release(), "model": platform.processor() or "?"}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info = dict(l.split(":", 1) for l in out.splitlines() if ":" in l)
        info = {k.strip(): v.strip() for k, v in info.items()}
        facts["model"] = f"{info.get('Model name', '?')} (family {info.get('CPU family', '?')}, " \
                         f"model {info.get('Model', '?')})"
        flags = info.get("Flags", "").split()
        facts["isa"] = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
        facts["cores_per_socket"] = info.get("Core(s) per socket")
        facts["threads_per_core"] = info.get("Thread(s) per core")
    except OSError:
        facts["isa"] = "?"
    return facts


def git_revision():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def dpkg_version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def interrupt(signum, frame):
    raise KeyboardInterrupt


def progress(text):
    print("# " + text, file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    csv = lambda conv: (lambda s: [conv(x) for x in s.split(",") if x])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--systems", type=csv(str.lower), default=SYSTEMS,
                   help="comma-separated, of " + ",".join(SYSTEMS) + " (any case)")
    p.add_argument("--workloads", type=csv(str), default=["cnn", "softmax"], help="cnn,softmax")
    p.add_argument("--threads", type=csv(int), default=[1, 2], help="thread counts (default 1,2)")
    p.add_argument("--retries", type=int, default=3, help="redos of a window with outside load (then kept)")
    p.add_argument("--max-foreign", type=float, default=0.05,
                   help="CPU other processes may take during a timed window, in cores (default 0.05)")
    p.add_argument("--timeout", type=int, default=600, help="seconds one process may take")
    p.add_argument("--compile-sweep", action="store_true", help="cold compile times, dlc and JAX")
    p.add_argument("--sweep-layers", type=csv(int), default=[8, 32, 128], help="MLP depths")
    p.add_argument("--sweep-rounds", type=int, default=3)
    p.add_argument("--large", action="store_true", help="MLP 784-8192-8192-10, dlc and PyTorch eager")
    p.add_argument("--large-rounds", type=int, default=2)
    p.add_argument("--smoke", action="store_true", help="1 round of 2+3 steps, no rejection")
    p.add_argument("--venv", default=os.path.join(ROOT, "build", "bench-venv"))
    p.add_argument("--pip-args", default="", help="extra pip install arguments for the venv")
    p.add_argument("--dlc-train", default=os.path.join(ROOT, "build", "bin", "dlc-bench-train"))
    p.add_argument("--kernels", default=os.path.join(ROOT, "build", "bin", "dlc-bench-kernels"))
    p.add_argument("--out-dir", default=os.path.join(ROOT, "build", "bench"))
    args = p.parse_args()
    for s in args.systems:
        if s not in SYSTEMS:
            p.error(f"unknown system {s!r} (known: {', '.join(SYSTEMS)})")
    for w in args.workloads:
        if w not in MODELS:
            p.error(f"unknown workload {w!r} (known: cnn, softmax)")
    if args.smoke:
        args.rounds, args.sweep_rounds, args.large_rounds = 1, 1, 1
    if args.rounds < 1 or not args.threads or min(args.threads) < 1:
        p.error("--rounds and --threads must be positive")
    if not shutil.which("taskset"):
        p.error("taskset (util-linux) is needed to pin the processes")
    Bench(args).main()


if __name__ == "__main__":
    main()
