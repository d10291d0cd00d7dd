#!/usr/bin/env python3
"""Runs the commands README.md shows, as written (test/Examples/readme.test).

Every command is taken from the README mechanically, so a README change to a
command that does not work fails the test:
  * fenced ```sh blocks: each line is a command (a `$ ` line is a command whose
    output follows it, and the output must match), `&&` chains run in order;
  * fenced ```python blocks: a snippet, run with /usr/bin/python3 when it
    imports only the standard library and numpy;
  * inline code spans that start with dlc, dlc-rt, mpirun, bash, cmake,
    apt-get or pip (a bare `dlc train`, a subcommand without its file, names
    the subcommand and is no command).
Each command is then, in README order, from a scratch folder holding a copy of
examples/ (so `examples/mnist_cnn.dl` and its data resolve as from a clone):
  * skipped, if SKIP below names it, with the reason printed;
  * option-checked, if it has placeholders (FILE, DIR, N, `[...]`, `a|b`): every
    option it shows must be one that `TOOL SUBCOMMAND --help` lists;
  * syntax-checked, if it needs a GPU (--device cuda, a --target=cuda module
    run) or MPI (mpirun): mpirun's own options must be known, and the command
    it starts is option-checked as above (its files must exist);
  * run, as written, except that a training (`dlc train`, `dlc-rt M train`)
    runs at most STEPS steps: a larger `--steps N` becomes `--steps 20`, and
    one without --steps gets `--steps 20` appended.
A command that is none of these (an unknown program) fails the test.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

STEPS = 20

# Commands the test does not run, and why (a regular expression on the command).
SKIP = [
    (r"^bash \.ci/", "installs Debian packages with apt and builds from scratch (CI runs it itself)"),
    (r"^cmake -S ", "configures and builds dlc: the build this test runs in"),
    (r"^cmake --install", "installs the build (Examples/embed.test installs into a scratch prefix)"),
    (r"^(sudo )?apt(-get)? ", "installs Debian packages"),
    (r"^pip3? ", "installs PyPI packages"),
    (r"fashion_mnist", "Fashion-MNIST is not bundled (/usr/share/datasets/fashion-mnist)",
     lambda: not os.path.isdir("/usr/share/datasets/fashion-mnist")),
    (r"\bmodel\.(onnx|dl|safetensors)\b", "model.onnx stands for the user's own ONNX model "
     "(test/Frontend/onnx runs real ones)"),
    (r"^dlc plot runs ", "runs/ stands for the user's --logdir runs (test/Tools/dlc/plot.test draws real ones)"),
]

TOOLS = ("dlc", "dlc-rt", "mpirun", "bash", "cmake", "apt-get", "apt", "pip", "pip3", "sudo")
FILE_SUBCOMMANDS = {"compile", "run", "train", "eval", "import", "plot", "graph"}
MPIRUN_OPTIONS = {"-np": 1, "-n": 1, "--hostfile": 1, "-hostfile": 1, "--oversubscribe": 0}
# What marks a synopsis: `[optional]`, `a|b`, `...`, and the README's placeholder words.
OUTPUT_OPTIONS = {"-o", "--save", "--report", "--logdir"}
PLACEHOLDER = re.compile(r"(^|\s)\[|\||\.\.\.|\b(FILE|DIR|N|NN|CKPT|SIZE|NAME|VALUE|MODEL|OUT|CPU|LOGDIR|P)\b")


def extract(readme):
    """(line, kind, text, expected output or None) in README order."""
    items, lines, i = [], readme.split("\n"), 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if fence:
            lang, start, body = fence.group(1), i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            i += 1
            if lang == "python":
                items.append((start, "python", "\n".join(body) + "\n", None))
            elif lang in ("sh", "bash", "shell", "console"):
                if not any(line.strip() for line in body):
                    sys.exit(f"README.md:{start}: error: an empty ```{lang} block")
                transcript = any(line.startswith("$ ") for line in body)
                for n, line in enumerate(body):
                    if transcript:
                        if line.startswith("$ "):
                            out = []
                            for more in body[n + 1:]:
                                if more.startswith("$ "):
                                    break
                                out.append(more)
                            items.append((start + n + 1, "sh", line[2:], "\n".join(out)))
                        continue
                    command = re.sub(r"\s+#.*$", "", line).strip()
                    if command:
                        items.append((start + n + 1, "sh", command, None))
            continue
        for span in re.findall(r"`([^`]+)`", lines[i]):
            words = span.split()
            if not words or words[0] not in TOOLS or len(words) == 1:
                continue
            rest = [w for w in words[2:] if not w.startswith("-")]
            if words[0] in ("dlc", "dlc-rt") and words[1] in FILE_SUBCOMMANDS | {"train|eval|run"} and not rest:
                continue  # `dlc train`, `dlc train --logdir`: names the subcommand
            items.append((i + 1, "sh", span, None))
        i += 1
    return items


def help_text(tokens, env, cwd):
    """`TOOL [MODULE] SUBCOMMAND --help` for the command `tokens`."""
    head = tokens[:1]
    rest = tokens[1:]
    if tokens[0] == "dlc-rt" and rest and not rest[0].startswith("-"):
        head, rest = tokens[:2], tokens[2:]
    if rest and not rest[0].startswith("-") and rest[0] in FILE_SUBCOMMANDS | {"devices"}:
        head.append(rest[0])
    p = subprocess.run(head + ["--help"], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Failure(f"`{' '.join(head)} --help` exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


class Failure(Exception):
    pass


def check_options(command, env, cwd, files_must_exist, synopsis=False):
    """Every option `command` shows is one its tool's --help lists."""
    if synopsis:
        command = re.sub(r"(^|\s)\[|\](\.\.\.)?", " ", command)
    tokens = shlex.split(command)
    if tokens[0] not in ("dlc", "dlc-rt"):
        raise Failure(f"cannot check a {tokens[0]} command")
    known = help_text(tokens, env, cwd)
    checked = 0
    for prev, t in zip(tokens, tokens[1:]):
        if prev in OUTPUT_OPTIONS:
            continue  # a file the command writes
        if t.startswith("-"):
            name = t.split("=")[0]
            if not re.search(r"(^|\s)-{1,2}" + re.escape(name.lstrip("-")) + r"([=\s<]|$)", known, re.M):
                raise Failure(f"option {name} is not in `{tokens[0]} ... --help`")
            checked += 1
        elif files_must_exist and re.search(r"\.(dl|so|onnx|ckpt)$", t) and not os.path.exists(os.path.join(cwd, t)):
            raise Failure(f"{t} does not exist")
    return checked


def check_mpirun(command, env, cwd):
    tokens = shlex.split(command)
    i = 1
    while i < len(tokens) and tokens[i].startswith("-"):
        if tokens[i] not in MPIRUN_OPTIONS:
            raise Failure(f"mpirun option {tokens[i]} is not one the test knows ({', '.join(MPIRUN_OPTIONS)})")
        i += 1 + MPIRUN_OPTIONS[tokens[i]]
    if i >= len(tokens):
        raise Failure("mpirun starts nothing")
    return check_options(shlex.join(tokens[i:]), env, cwd, files_must_exist=True)


def needs_gpu(command):
    """Runs on a GPU: --device cuda, or a run/train/eval of CUDA code (compiling it needs none)."""
    if re.search(r"--device[= ]cuda", command):
        return True
    runs = re.search(r"^(dlc (run|train|eval)|dlc-rt )", command)
    return bool(runs and (re.search(r"--target[= ]cuda(\s|$)", command) or
                          any(m in command.split() for m in GPU_MODULES)))


# Modules a README command compiled with --target=cuda: running them needs a GPU.
GPU_MODULES = set()


def fewer_steps(command):
    """A training runs at most STEPS steps."""
    if not re.search(r"^(mpirun .*)?(dlc train|dlc-rt \S+ train)\b", command) or "--help" in command:
        return command
    m = re.search(r"--steps[= ](\d+)", command)
    if m is None:
        return command + f" --steps {STEPS}"
    if int(m.group(1)) <= STEPS:
        return command
    return command[:m.start(1)] + str(STEPS) + command[m.end(1):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    src = os.path.dirname(os.path.abspath(args.readme))
    shutil.rmtree(args.work, ignore_errors=True)
    shutil.copytree(os.path.join(src, "examples"), os.path.join(args.work, "examples"))
    env = dict(os.environ)
    env["PATH"] = os.path.abspath(args.bin_dir) + os.pathsep + env.get("PATH", "")
    cwd = args.work

    start = time.monotonic()
    counts = {"run": 0, "syntax": 0, "options": 0, "skipped": 0}
    failures = []
    for line, kind, text, expected in extract(open(args.readme).read()):
        where = f"README.md:{line}"
        try:
            if kind == "python":
                imports = set(re.findall(r"^\s*(?:import|from)\s+([\w, ]+?)(?:\s+import|\s+as|$)", text, re.M))
                modules = {m.strip().split(".")[0] for group in imports for m in group.split(",")}
                modules = {m.split()[0] for m in modules if m}
                other = sorted(m for m in modules if m != "numpy" and m not in sys.stdlib_module_names)
                if "numpy" in modules and subprocess.run(["/usr/bin/python3", "-c", "import numpy"],
                                                         capture_output=True).returncode != 0:
                    other.append("numpy (python3-numpy, which .ci/run installs)")
                if other:
                    print(f"{where}: skipped python snippet: needs {', '.join(other)}")
                    counts["skipped"] += 1
                    continue
                p = subprocess.run(["/usr/bin/python3", "-"], input=text, env=env, cwd=cwd,
                                   capture_output=True, text=True, timeout=60)
                if p.returncode != 0:
                    raise Failure(f"python snippet exited {p.returncode}:\n{p.stderr}")
                print(f"{where}: ran python snippet")
                counts["run"] += 1
                continue
            skip = next((s for s in SKIP if re.search(s[0], text) and (len(s) < 3 or s[2]())), None)
            if skip:
                print(f"{where}: skipped `{text}`: {skip[1]}")
                counts["skipped"] += 1
                continue
            for part in [p.strip() for p in text.split("&&")]:
                program = part.split()[0]
                if program not in ("dlc", "dlc-rt", "mpirun"):
                    raise Failure(f"`{part}`: the test neither runs nor checks {program} commands; "
                                  "add it to SKIP in test/Examples/Inputs/readme_commands.py with a reason")
                if PLACEHOLDER.search(part):
                    if program == "mpirun":
                        raise Failure(f"`{part}`: an mpirun synopsis")
                    n = check_options(part, env, cwd, files_must_exist=False, synopsis=True)
                    print(f"{where}: options of `{part}`: {n} checked against --help")
                    counts["options"] += 1
                elif program == "mpirun":
                    n = check_mpirun(part, env, cwd)
                    print(f"{where}: syntax of `{part}` (MPI): {n} options checked against --help")
                    counts["syntax"] += 1
                elif needs_gpu(part):
                    n = check_options(part, env, cwd, files_must_exist=True)
                    print(f"{where}: syntax of `{part}` (GPU): {n} options checked against --help")
                    counts["syntax"] += 1
                else:
                    words = shlex.split(part)
                    if part.startswith("dlc compile") and re.search(r"--target[= ]cuda(\s|$)", part) \
                            and "-o" in words[:-1]:
                        GPU_MODULES.add(words[words.index("-o") + 1])
                    command = fewer_steps(part)
                    p = subprocess.run(command, shell=True, env=env, cwd=cwd, capture_output=True,
                                       text=True, timeout=120)
                    if p.returncode != 0:
                        raise Failure(f"`{command}` exited {p.returncode}:\n{p.stdout}{p.stderr}")
                    if expected is not None and p.stdout.rstrip("\n") != expected.rstrip("\n"):
                        raise Failure(f"`{command}` printed\n{p.stdout}instead of the README's\n{expected}")
                    print(f"{where}: ran `{command}`" + (" (output as shown)" if expected is not None else ""))
                    counts["run"] += 1
        except (Failure, subprocess.TimeoutExpired) as e:
            print(f"{where}: error: {e}")
            failures.append(where)
    print(f"readme: {counts['run']} run, {counts['syntax']} syntax-checked (GPU/MPI), "
          f"{counts['options']} synopses option-checked, {counts['skipped']} skipped, {len(failures)} failed "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
