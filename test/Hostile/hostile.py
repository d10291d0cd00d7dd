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

# A second corpus (written independently of the cases above), across the
# nine classes of issue 13.
def npy(descr, shape, payload, version=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H", len(header)) + header.encode() + payload


def train_model(name, body, train="optimizer = sgd(lr=0.1); steps = 1; batch = 2"):
    return write(name, "model m\ninput x: f32[B, 4]\ninput y: i32[B]\nparam W: f32[4, 3] = zeros()\n"
                 "loss = mean(softmax_cross_entropy(matmul(x, W), y))\n%s\ntrain { %s }\n" % (body, train))


# 1. Depth and length.
case("depth", "20,000 nested calls", [dlc, "compile", write("calls.dl", "model c\ninput x: f32[2]\ny = " + "relu(" * 20000 + "x" + ")" * 20000 + "\noutput y\n")],
     1, r"calls\.dl:3:\d+: error: expression is nested too deeply")
case("depth", "a param literal nested 5,000 deep", [dlc, "compile", write("lit.dl", "model l\nparam W: f32[1] = " + "[" * 5000 + "1" + "]" * 5000 + "\noutput W\n")],
     1, r"lit\.dl:2:\d+: error")
case("depth", "a recursive def", [dlc, "compile", write("rec.dl", "model r\ninput x: f32[2]\ndef f(a) = f(a) + 1\ny = f(x)\noutput y\n")],
     1, r"rec\.dl:\d+:\d+: error")
case("depth", "two defs calling each other", [dlc, "compile", write("mutual.dl", "model r\ninput x: f32[2]\ndef f(a) = g(a)\ndef g(a) = f(a)\ny = f(x)\noutput y\n")],
     1, r"mutual\.dl:\d+:\d+: error")
case("depth", "a 1 MB identifier (a name like any other)", [dlc, "compile", write("ident.dl", "model i\ninput " + "x" * (1 << 20) + ": f32[2]\noutput y = 1\n")],
     0, r"^")
case("depth", "20,000 statements", [dlc, "compile", write("lines.dl", "model s\ninput x: f32[2]\ny0 = x\n" + "".join("y%d = y%d + 1\n" % (i, i - 1) for i in range(1, 20000)) + "output y19999\n")],
     0, r"^")

# 2. Sizes.
case("sizes", "a negative dimension", [dlc, "compile", write("neg-dim.dl", "model n\nparam W: f32[-3] = zeros()\noutput W\n")],
     1, r"neg-dim\.dl:2:\d+: error")
case("sizes", "--batch beyond the data", [dlc, "train", data_model("b1.dl", good_images, good_labels), "--batch", "1000000000000"],
     1, r"--batch 1000000000000 is larger than the 4 training examples")
case("sizes", "--steps that does not fit 64 bits", [dlc, "train", data_model("b2.dl", good_images, good_labels), "--steps", "99999999999999999999"],
     1, r"dlc: .*steps")
case("sizes", "--memory-limit 0", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--memory-limit", "0"],
     1, r"--memory-limit '0'")
case("sizes", "--memory-limit 1e30", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--memory-limit", "1e30"],
     1, r"--memory-limit '1e30'")
case("sizes", "IDX dimensions of 4 billion each", [dlc, "train", data_model("b3.dl", write("wide.idx", idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], bytes(8))), good_labels)],
     1, r"b3\.dl:\d+:\d+: error: .*wide\.idx")
case("sizes", "npy shape beyond the file", [dlc, "train", train_model("b4.dl", 'data train { x = npy("huge.npy"); y = idx("%s") }' % good_labels), "--quiet"],
     1, r"b4\.dl:\d+:\d+: error: .*huge\.npy")
write("huge.npy", npy("<f4", [1 << 40, 1 << 20], bytes(16)))
case("sizes", "activations beyond --memory-limit", [dlc, "train", write("act.dl", "model a\ninput x: f32[B, 4]\ninput y: f32[B]\nparam W: f32[4, 100000] = zeros()\n"
     "loss = mean(square(sum(relu(matmul(x, W)), axis=1) - y))\ndata train { x = [[1,2,3,4],[1,2,3,4]]; y = [1, 2] }\ntrain { steps = 1; batch = 2 }\n"), "--memory-limit", "3M"],
     1, r"act\.dl:5:\d+: error: the training step at batch 2: .* needs \d+ bytes")
case("sizes", "--threads -1", [dlc, "train", data_model("b5.dl", good_images, good_labels), "--threads", "-1"],
     1, r"threads")

# 3. Files read.
case("files read", "a model with a NUL byte", [dlc, "compile", write("nul.dl", b"model n\ninput x: f32[2]\x00\noutput y = x\n")],
     1, r"nul\.dl:2:\d+: error")
case("files read", "a model of random bytes", [dlc, "compile", write("random.dl", bytes((i * 7919 + 13) % 256 for i in range(4096)))],
     1, r"random\.dl:1:\d+: error")
os.symlink("loop2.dl", path("loop1.dl")); os.symlink("loop1.dl", path("loop2.dl"))
case("files read", "a model that is a symlink loop", [dlc, "compile", path("loop1.dl")], 1, r"loop1\.dl")
case("files read", "an empty labels file", [dlc, "train", data_model("r1.dl", good_images, write("empty.idx", b""))],
     1, r"r1\.dl:\d+:\d+: error: .*empty\.idx")
case("files read", "a data path that is a folder", [dlc, "train", data_model("r2.dl", work, good_labels)],
     1, r"r2\.dl:\d+:\d+: error: .*")
case("files read", "labels beyond the classes", [dlc, "train", data_model("r3.dl", good_images, write("lab9.idx", idx(0x08, [4], bytes([0, 1, 9, 0]))))],
     1, r"r3\.dl:\d+:\d+: error: .*lab9\.idx: label 9 of example 2 is out of range for input 'y': expected a class id in \[0, 3\)")
case("files read", "a truncated npy header", [dlc, "train", train_model("r4.dl", 'data train { x = npy("cut.npy"); y = idx("%s") }' % good_labels)],
     1, r"r4\.dl:\d+:\d+: error: .*cut\.npy")
write("cut.npy", npy("<f4", [4, 4], bytes(64))[:20])
case("files read", "a module that is a directory", [dlc_rt, work, "run"], 1, re.escape(work))

# 4. Files written.
case("files written", "--save under a regular file", [dlc, "train", data_model("f1.dl", good_images, good_labels), "--save", path("w.dl") + "/out.ckpt"],
     1, r"w\.dl/out\.ckpt")
case("files written", "--report to a full device", [dlc, "train", data_model("f2.dl", good_images, good_labels), "--report", "/dev/full"],
     1, r"/dev/full")
case("files written", "-o to a full device", [dlc, "compile", "--emit=dl", path("w.dl"), "-o", "/dev/full"],
     1, r"cannot write '/dev/full'")
case("files written", "--logdir that is a file", [dlc, "train", data_model("f3.dl", good_images, good_labels), "--logdir", path("w.dl")],
     1, r"w\.dl")
case("files written", "--save over the model (dlc-rt)", [dlc_rt, path("w.dl"), "train", "--save", path("w.dl")], 1, r"w\.dl")

# 5. Checkpoints.
case("checkpoints", "a header that is a JSON array", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", write("array.st", safetensors([1, 2]))],
     1, r"array\.st")
case("checkpoints", "reversed offsets", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("rev.st", {"W": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, bytes(8))],
     1, r"rev\.st")
case("checkpoints", "a negative dimension", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("negshape.st", {"W": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, bytes(8))],
     1, r"negshape\.st")
case("checkpoints", "a header of length 0", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", write("zero.st", struct.pack("<Q", 0))],
     1, r"zero\.st")
case("checkpoints", "metadata that is not strings", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", ckpt("meta.st", {"__metadata__": {"step": 5}, "W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8))],
     1, r"meta\.st")
case("checkpoints", "a dimension beyond 64 bits", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", write("bigdim.st", struct.pack("<Q", 79) + b'{"W":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}   ' + bytes(8))],
     1, r"bigdim\.st")

# 6. Values.
for i, train in enumerate(("optimizer = sgd(lr=0.1); steps = 1; batch = 0", "optimizer = sgd(lr=0.1); steps = -5",
                           "optimizer = sgd(lr=0.1); steps = 1; log_every = 0", "optimizer = sgd(lr=0.1); validation = -3",
                           "optimizer = rmsprop(lr=0.1, decay=1.5)", "optimizer = adam(lr=1e999)")):
    case("values", train, [dlc, "compile", train_model("v%d.dl" % i, "", train)], 1, r"v%d\.dl:7:\d+: error" % i)
case("values", "dropout rate 1", [dlc, "compile", write("drop.dl", "model d\ninput x: f32[B, 4]\ny = dropout(x, rate=1.0)\noutput y\n")],
     1, r"drop\.dl:3:\d+: error")
case("values", "a NaN feed", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[nan, 1]"], 1, r"x=|column|nan")
case("values", "a data scale of 1/0", [dlc, "compile", train_model("v9.dl", 'data train { x = idx("img.idx", scale=1/0); y = idx("lab.idx") }')],
     1, r"v9\.dl:6:\d+: error: 'scale' must be finite, got inf")

# 7. The compile cache.
env_cache = dict(os.environ, XDG_CACHE_HOME=path("w.dl"))
cases_env = {}
case("compile cache", "the cache folder is a file", [dlc, "run", "w.dl", "--feed", "x=[1,1]"], 0, r"^")
cases_env[len(cases) - 1] = env_cache
case("compile cache", "a cache cap that is not a number", [dlc, "run", "w.dl", "--feed", "x=[1,1]"], 0, r"^")
cases_env[len(cases) - 1] = dict(os.environ, DLC_CACHE_MAX_MB="lots", XDG_CACHE_HOME=path("cache"))

# 8. The C API (through ctypes on libdlc.so).
capi = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.dlc_last_error.restype = ctypes.c_char_p
model = ctypes.c_void_p()
bad = []
def expect(what, status):
    if status == 0 or not lib.dlc_last_error():
        bad.append(what)
expect("null source", lib.dlc_model_from_source(None, None, None, ctypes.byref(model)))
expect("null out", lib.dlc_model_from_source(b"model m\n", None, None, None))
expect("syntax", lib.dlc_model_from_source(b"model m\ninput", None, None, ctypes.byref(model)))
expect("missing file", lib.dlc_model_from_file(b"/nonexistent.dl", None, ctypes.byref(model)))
expect("null file", lib.dlc_model_from_file(None, None, ctypes.byref(model)))
options = (ctypes.c_int * 4)(7, 9, 1, 0)  # target 7, opt level 9
expect("bad options", lib.dlc_model_from_source(b"model m\noutput y = 1\n", None, options, ctypes.byref(model)))
expect("init null", lib.dlc_model_init_params(None, 1))
expect("run null", lib.dlc_model_run(None, None, 0, None, None))
expect("trainer null", lib.dlc_trainer_new(None, None, None))
expect("save null", lib.dlc_trainer_save(None, None))
lib.dlc_model_free(None)
print("capi:", "all refused" if not bad else "accepted " + ", ".join(bad))
"""
libdlc = os.path.join(os.path.dirname(bin_dir), "lib", "libdlc.so")
# (Not under the sanitizers: an uninstrumented Python cannot load the
# instrumented library; lit sets ASAN_OPTIONS only for that build.)
if os.path.exists(libdlc) and "ASAN_OPTIONS" not in os.environ:
    case("C API", "null and bad arguments", [sys.executable, "-c", capi, libdlc], 0, r"capi: all refused")

# 9. Exit codes.
case("exit codes", "dlc with no command", [dlc], 1, r"dlc")
case("exit codes", "an unknown dlc flag", [dlc, "train", "w.dl", "--bogus"], 1, r"--bogus|bogus")
case("exit codes", "--emit of an unknown stage", [dlc, "compile", "w.dl", "--emit=bogus"], 1, r"bogus")
case("exit codes", "dlc-rt with no arguments", [dlc_rt], 1, r"dlc-rt|MODEL")
case("exit codes", "dlc-rt --steps abc", [dlc_rt, path("w.dl"), "train", "--steps", "abc"], 1, r"--steps|abc")
case("exit codes", "dlc plot of a missing folder", [dlc, "plot", path("nowhere"), "-o", path("c.svg")], 1, r"nowhere")

os.chdir(work)
failed = 0
for number, (cls, what, argv, rc, pattern) in enumerate(cases):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120, errors="replace",
                           env=cases_env.get(number))
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
