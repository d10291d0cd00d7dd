# Hostile inputs, one table per class of issue 13: each case is a command on
# a generated input, the exit status it must end with (1: an error; never a
# signal) and a regular expression its stderr must match (the error's
# location: `file:line:col: error:` for a model, the file's path for data,
# checkpoints and modules). No case may print `LLVM ERROR` or a stack dump.
#
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %dlc_obj_root/bin %t | FileCheck %s
# CHECK: hostile inputs: {{[0-9]+}} cases, 0 failed
# REQUIRES: jit

import gzip
import json
import os
import re
import struct
import subprocess
import sys

bin_dir, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
dlc, dlc_rt = os.path.join(bin_dir, "dlc"), os.path.join(bin_dir, "dlc-rt")


def path(name):
    return os.path.join(work, name)


def write(name, data):
    with open(path(name), "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path(name)


def idx(code, dims, payload):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def safetensors(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def data_model(name, images, labels):
    return write(name, "model m\ninput x: f32[B, 4]\ninput y: i32[B]\nparam W: f32[4, 3] = zeros()\n"
                 "loss = mean(softmax_cross_entropy(matmul(x, W), y))\n"
                 'data train { x = idx("%s"); y = idx("%s") }\n'
                 "train { optimizer = sgd(lr=0.1); steps = 1; batch = 2 }\n" % (images, labels))


W = "model w\nparam W: f32[2] = [1, 2]\ninput x: f32[2]\ny = W * x\noutput y\n"
write("w.dl", W)
good_images = write("img.idx", idx(0x08, [4, 4], bytes(16)))
good_labels = write("lab.idx", idx(0x08, [4], bytes([0, 1, 2, 0])))

cases = []  # (class, what, argv, stdin, expected rc, stderr regex)


def case(cls, what, argv, rc, pattern):
    cases.append((cls, what, argv, rc, pattern))


# 1. Depth and length.
case("depth", "deep parentheses", [dlc, "compile", write("paren.dl", "model p\ny = " + "(" * 300 + "1" + ")" * 300 + "\noutput y\n")],
     1, r"paren\.dl:2:\d+: error: expression is nested too deeply")
case("depth", "a 30,000-term chain", [dlc, "compile", write("chain.dl", "model c\ninput x: f32[2]\ny = " + " + ".join(["x"] * 30000) + "\noutput y\n")],
     1, r"chain\.dl:3:\d+: error: expression is too deep")
case("depth", "deep unary minus", [dlc, "compile", write("neg.dl", "model n\ny = " + "-" * 5000 + "1\noutput y\n")],
     1, r"neg\.dl:2:\d+: error: expression is nested too deeply")
case("depth", "deep nested lists", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=" + "[" * 400 + "1" + "]" * 400],
     1, r"error")
defs = "model d\ninput x: f32[2]\ndef f0(a) = a * a\n" + "".join(
    "def f%d(a) = f%d(a) + f%d(a) + f%d(a)\n" % (i, i - 1, i - 1, i - 1) for i in range(1, 20)) + "y = f19(x)\noutput y\n"
case("depth", "exponential defs", [dlc, "compile", write("defs.dl", defs)], 1,
     r"defs\.dl:\d+:\d+: error: the model expands to more than")

# 2. Sizes.
case("sizes", "element count overflows", [dlc, "compile", write("big.dl", "model b\nparam W: f32[4294967296, 4294967296, 4294967296] = zeros()\ny = sum(W)\noutput y\n")],
     1, r"big\.dl:2:\d+: error")
case("sizes", "params beyond --memory-limit", [dlc, "run", "--no-cache", "--memory-limit", "1M", write("mem.dl", "model m\nparam W: f32[1000, 1000] = zeros()\ny = sum(W)\noutput y\n")],
     1, r"mem\.dl:2:\d+: error: param .W. of type")

# 3. Files read.
case("files read", "model file is a directory", [dlc, "compile", work], 1, re.escape(work) + r".*(directory|not a regular file)")
case("files read", "model file is a device", [dlc, "compile", "/dev/zero"], 1, r"/dev/zero.*not a regular file")
case("files read", "model file missing", [dlc, "compile", path("missing.dl")], 1, r"missing\.dl")
truncated = write("trunc.idx", idx(0x08, [4, 4], bytes(10)))
case("files read", "IDX data cut short", [dlc, "train", data_model("t1.dl", truncated, good_labels)], 1,
     r"t1\.dl:\d+:\d+: error: .*trunc\.idx: truncated IDX data")
garbage = write("garbage.idx.gz", gzip.compress(idx(0x08, [4, 4], bytes(16))) + b"junk")
case("files read", "garbage after gzip data", [dlc, "train", data_model("t2.dl", garbage, good_labels)], 1,
     r"t2\.dl:\d+:\d+: error: .*garbage\.idx\.gz: trailing garbage: 4 bytes after the gzip data")
fewer = write("fewer.idx", idx(0x08, [3], bytes([0, 1, 2])))
case("files read", "fewer labels than images", [dlc, "train", data_model("t3.dl", good_images, fewer)], 1,
     r"t3\.dl:\d+:\d+: error: .*(3|4)")
case("files read", "module cut short", [dlc_rt, write("cut.so", b"\x7fELF\x02\x01\x01" + bytes(57)), "run"], 1,
     r"cut\.so: cannot load compiled module")
case("files read", "a model as a module", [dlc_rt, path("w.dl"), "run"], 1, r"w\.dl: cannot load compiled module: no ELF magic")

# 4. Files written.
case("files written", "-o over the model", [dlc, "compile", "--emit=llvm", path("w.dl"), "-o", path("w.dl")], 1,
     r"is the model file .*w\.dl; refusing to overwrite it")
case("files written", "binary output over a device", [dlc, "compile", "--emit=obj", path("w.dl"), "-o", "/dev/null"], 1,
     r"/dev/null: is not a regular file")
case("files written", "two outputs on one path", [dlc, "train", data_model("t4.dl", good_images, good_labels), "--save", path("o"), "--report", path("o")], 1,
     r"name the same file")
case("files written", "--save over the data file", [dlc, "train", data_model("t5.dl", good_images, good_labels), "--save", good_images], 1,
     r"--save .*img\.idx: is the data file .*img\.idx that this run reads; refusing to overwrite it")
case("files written", "--report over the data file", [dlc, "train", data_model("t6.dl", good_images, good_labels), "--report", good_labels], 1,
     r"--report .*lab\.idx: is the data file")

# 5. Checkpoints.
ckpt = lambda name, header, data=b"": write(name, safetensors(header, data))
case("checkpoints", "header size beyond the file", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", write("huge.st", struct.pack("<Q", 1 << 60) + b"{}")], 1,
     r"huge\.st")
case("checkpoints", "offsets beyond the data", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("off.st", {"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 80]}}, bytes(8))], 1,
     r"off\.st")
case("checkpoints", "overlapping tensors", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("overlap.st", {"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "V": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8))], 1,
     r"overlap\.st")
case("checkpoints", "wrong dtype", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("dtype.st", {"W": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8))], 1,
     r"dtype\.st")
case("checkpoints", "wrong shape", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("shape.st", {"W": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, bytes(12))], 1,
     r"shape\.st: param 'W'")

# 6. Values.
for i, opt in enumerate(("adam(lr=0.1, beta1=2.0)", "adam(lr=0.1, eps=0)", "momentum(lr=0.1, nu=5)", "sgd(lr=-1)")):
    case("values", opt, [dlc, "compile", write("opt%d.dl" % i, "model o\nparam W: f32[2] = zeros()\nloss = sum(W * W)\n"
                                                "train { optimizer = %s; steps = 1 }\n" % opt)], 1, r"opt%d\.dl:4:\d+: error" % i)

os.chdir(work)
failed = 0
for cls, what, argv, rc, pattern in cases:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120, errors="replace")
        out, got = p.stderr + p.stdout, p.returncode
    except subprocess.TimeoutExpired:
        out, got = "(hang: killed after 120 s)", "timeout"
    bad = []
    if got != rc:
        bad.append("exit %s, expected %d" % (got, rc))
    if not re.search(pattern, out):
        bad.append("stderr does not match /%s/" % pattern)
    if "LLVM ERROR" in out or "Stack dump" in out or "PLEASE submit" in out:
        bad.append("crash report")
    if bad:
        failed += 1
        print("FAIL [%s] %s: %s\n  %s\n  %s" % (cls, what, "; ".join(bad), " ".join(a[:80] for a in argv), out[-600:]))
# Refused outputs leave the data intact.
if open(good_images, "rb").read() != idx(0x08, [4, 4], bytes(16)):
    failed += 1
    print("FAIL [files written] the data file was overwritten")
print("hostile inputs: %d cases, %d failed" % (len(cases), failed))
