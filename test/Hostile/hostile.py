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

# A third corpus (issue 13, written fresh, apart from the two above): model
# files, data files, checkpoints, outputs, the C API and flags, as a hostile
# user writes them. Cases whose input is legal may succeed (rc (0, 1)): what
# they must not do is crash, hang, print an error without its location or
# destroy a file.
def model_file(name, text):
    return write(name, text)


def bad_model(what, name, text, pattern=None, cmd="compile", extra=()):
    f = model_file(name, text)
    case("fresh: model", what, [dlc, cmd, "--no-cache", f] + list(extra) if cmd != "compile" else [dlc, cmd, f] + list(extra),
         1, pattern or (re.escape(name) + r":\d+:\d+: error"))


def opt_model(name, train):
    return train_model(name, "", train)


# Model files: nesting, sizes, unicode, definitions.
bad_model("brackets nested 10,000 deep in a type", "n1.dl", "model n\ninput x: f32" + "[" * 10000 + "2" + "]" * 10000 + "\noutput x\n")
bad_model("a 3,000-long chain of defs", "n2.dl", "model n\ninput x: f32[2]\ndef f0(a) = a + 1\n" + "".join(
    "def f%d(a) = f%d(a) * 1\n" % (i, i - 1) for i in range(1, 3000)) + "y = f2999(x)\noutput y\n", r"n2\.dl:\d+:\d+: error")
bad_model("three defs calling in a ring", "n3.dl", "model n\ninput x: f32[2]\ndef f(a) = g(a)\ndef g(a) = h(a)\ndef h(a) = f(a)\ny = f(x)\noutput y\n")
bad_model("a def called with the wrong arity", "n4.dl", "model n\ninput x: f32[2]\ndef f(a, b) = a + b\ny = f(x)\noutput y\n")
bad_model("a def with 5,000 parameters called with one", "n5.dl", "model n\ninput x: f32[2]\ndef f(" + ", ".join("a%d" % i for i in range(5000)) + ") = a0\ny = f(x)\noutput y\n")
bad_model("a dimension of 2^63-1", "s1.dl", "model s\nparam W: f32[9223372036854775807] = zeros()\ny = sum(W)\noutput y\n")
bad_model("a dimension beyond 64 bits", "s2.dl", "model s\nparam W: f32[99999999999999999999999] = zeros()\ny = sum(W)\noutput y\n")
bad_model("a reshape with two -1", "s3.dl", "model s\ninput x: f32[4, 4]\ny = reshape(x, [-1, -1])\noutput y\n")
bad_model("a reshape to 2^62 x 4", "s4.dl", "model s\ninput x: f32[4, 4]\ny = reshape(x, [4611686018427387904, 4])\noutput y\n")
bad_model("an input of 2^40 x 2^40 elements", "s5.dl", "model s\ninput x: f32[1099511627776, 1099511627776]\ny = sum(x)\noutput y\n")
bad_model("a combining accent in a name", "u1.dl", "model u\ninput x\u0301: f32[2]\noutput y = 1\n")
bad_model("a right-to-left override in a name", "u2.dl", "model u\ninput x\u202e: f32[2]\noutput y = 1\n")
bad_model("invalid UTF-8", "u3.dl", b"model u\ninput \xff\xfe: f32[2]\noutput y = 1\n")
case("fresh: model", "a byte order mark before the model", [dlc, "compile", model_file("u4.dl", "\ufeffmodel u\noutput y = 1\n")],
     (0, 1), r"^|u4\.dl:1:\d+: error")
case("fresh: model", "CRLF line ends", [dlc, "compile", model_file("u5.dl", "model u\r\ninput x: f32[2]\r\noutput y = x\r\n")],
     (0, 1), r"^|u5\.dl:\d+:\d+: error")
bad_model("a unicode data path that does not exist", "u6.dl", "model u\ninput x: f32[B, 4]\ninput y: i32[B]\nparam W: f32[4, 3] = zeros()\n"
          "loss = mean(softmax_cross_entropy(matmul(x, W), y))\ndata train { x = idx(\"donn\u00e9es/\u00f1.idx\"); y = idx(\"lab.idx\") }\n"
          "train { steps = 1; batch = 2 }\n", r"u6\.dl:6:\d+: error: .*donn\u00e9es", cmd="train")
bad_model("a NUL in a string", "u7.dl", b"model u\ninput x: f32[B, 4]\ndata train { x = idx(\"a\x00b.idx\") }\noutput x\n", r"u7\.dl:3:\d+: error")
bad_model("a number of 10,000 digits", "u8.dl", "model u\ny = " + "9" * 10000 + "\noutput y\n")
bad_model("1e999999 in an expression", "u9.dl", "model u\ninput x: f32[2]\ny = x * 1e999999\noutput y\n")
# An empty model is a model with nothing in it (as an empty Python file is
# a program): it compiles to an empty graph.
case("fresh: model", "an empty file", [dlc, "compile", model_file("e1.dl", "")], 0, r"^")
case("fresh: model", "only comments", [dlc, "compile", model_file("e2.dl", "# nothing\n# here\n")], 0, r"^")
bad_model("model without a name", "e3.dl", "model\noutput y = 1\n")
bad_model("a param declared twice", "e4.dl", "model e\nparam W: f32[2] = zeros()\nparam W: f32[2] = zeros()\noutput W\n")
bad_model("5 MB of spaces on one line", "e5.dl", "model e\ny = 1" + " " * (5 << 20) + "+\noutput y\n")
bad_model("an unterminated string", "e6.dl", "model e\ninput x: f32[B, 4]\ndata train { x = idx(\"img.idx) }\noutput x\n")

# Every hyperparameter out of range.
CONV = "model c\ninput x: f32[B, 8, 8, 1]\nparam K: f32[3, 3, 1, 2] = zeros()\n"
bad_model("conv2d stride 0", "h1.dl", CONV + "y = conv2d(x, K, stride=0)\noutput y\n", r"h1\.dl:4:\d+: error")
bad_model("conv2d stride -2", "h2.dl", CONV + "y = conv2d(x, K, stride=-2)\noutput y\n", r"h2\.dl:4:\d+: error")
bad_model("conv2d stride [1, 2, 3]", "h3.dl", CONV + "y = conv2d(x, K, stride=[1, 2, 3])\noutput y\n", r"h3\.dl:4:\d+: error")
bad_model("conv2d negative pads", "h4.dl", CONV + "y = conv2d(x, K, padding=[-5, 0, 0, 0])\noutput y\n", r"h4\.dl:4:\d+: error")
bad_model("conv2d pads of 2^62", "h5.dl", CONV + "y = conv2d(x, K, padding=[4611686018427387904, 0, 0, 0])\noutput y\n", r"h5\.dl:4:\d+: error")
bad_model("max_pool window 0", "h6.dl", CONV + "y = max_pool(x, window=0)\noutput y\n", r"h6\.dl:4:\d+: error")
bad_model("max_pool window beyond the input", "h7.dl", CONV + "y = max_pool(x, window=100)\noutput y\n", r"h7\.dl:4:\d+: error")
bad_model("avg_pool stride -1", "h8.dl", CONV + "y = avg_pool(x, window=2, stride=-1)\noutput y\n", r"h8\.dl:4:\d+: error")
bad_model("dropout rate -0.1", "h9.dl", "model d\ninput x: f32[B, 4]\ny = dropout(x, rate=-0.1)\noutput y\n", r"h9\.dl:3:\d+: error")
bad_model("dropout rate 0/0", "h10.dl", "model d\ninput x: f32[B, 4]\ny = dropout(x, rate=0/0)\noutput y\n", r"h10\.dl:3:\d+: error")
bad_model("leaky_relu alpha 1/0", "h11.dl", "model d\ninput x: f32[4]\ny = leaky_relu(x, alpha=1/0)\noutput y\n", r"h11\.dl:3:\d+: error")
bad_model("elu alpha 0/0", "h12.dl", "model d\ninput x: f32[4]\ny = elu(x, alpha=0/0)\noutput y\n", r"h12\.dl:3:\d+: error")
bad_model("softmax axis 99", "h13.dl", "model d\ninput x: f32[4]\ny = softmax(x, axis=99)\noutput y\n", r"h13\.dl:3:\d+: error")
bad_model("sum axis -99", "h14.dl", "model d\ninput x: f32[4]\ny = sum(x, axis=-99)\noutput y\n", r"h14\.dl:3:\d+: error")
bad_model("sum axis 2^62", "h15.dl", "model d\ninput x: f32[4]\ny = sum(x, axis=4611686018427387904)\noutput y\n", r"h15\.dl:3:\d+: error")
bad_model("transpose perm [0, 0]", "h16.dl", "model d\ninput x: f32[2, 3]\ny = transpose(x, perm=[0, 0])\noutput y\n", r"h16\.dl:3:\d+: error")
bad_model("one_hot depth 0", "h17.dl", "model d\ninput y: i32[B]\nz = one_hot(y, 0)\noutput z\n", r"h17\.dl:3:\d+: error")
bad_model("one_hot depth -3", "h18.dl", "model d\ninput y: i32[B]\nz = one_hot(y, -3)\noutput z\n", r"h18\.dl:3:\d+: error")
bad_model("one_hot depth 2^40 (8 TB of output)", "h19.dl", "model d\ninput y: i32[2]\nz = one_hot(y, 1099511627776)\noutput z\n", r"h19\.dl:3:\d+: error", cmd="run", extra=["--feed", "y=[1,2]"])
bad_model("fill(1/0)", "h20.dl", "model d\nparam W: f32[2] = fill(1/0)\noutput W\n", r"h20\.dl:2:\d+: error")
bad_model("normal stddev -1", "h21.dl", "model d\nparam W: f32[2] = normal(stddev=-1)\noutput W\n", r"h21\.dl:2:\d+: error")
bad_model("uniform low above high", "h22.dl", "model d\nparam W: f32[2] = uniform(low=1, high=0)\noutput W\n", r"h22\.dl:2:\d+: error")
bad_model("truncated_normal stddev 0/0", "h23.dl", "model d\nparam W: f32[2] = truncated_normal(stddev=0/0)\noutput W\n", r"h23\.dl:2:\d+: error")
for i, train in enumerate(("optimizer = sgd(lr=0.1); steps = 1; batch = 1e20", "optimizer = sgd(lr=0.1); steps = 1.5",
                           "optimizer = sgd(lr=0/0); steps = 1", "optimizer = momentum(lr=0.1, nu=-0.5); steps = 1",
                           "optimizer = adam(lr=0.1, beta2=1); steps = 1", "optimizer = sgd(lr=0.1); steps = 1; eval_every = -1",
                           "optimizer = sgd(lr=0.1); steps = 1; freeze = [nothing]", "optimizer = lbfgs(lr=0.1); steps = 1",
                           "optimizer = sgd(lr=0.1); steps = 1; steps = 2", "optimizer = sgd(lr=0.1); steps = 1; seed = -1",
                           "optimizer = adam(lr=0.1, beta1=-0.1); steps = 1", "optimizer = sgd(lr=0.1, bogus=1); steps = 1",
                           "optimizer = sgd(lr=0.1); steps = 99999999999999999999")):
    case("fresh: values", train, [dlc, "compile", opt_model("hv%d.dl" % i, train)], 1, r"hv%d\.dl:7:\d+: error" % i)

# Data paths and blocks.
fifo = path("fifo.idx")
os.mkfifo(fifo)
for i, (what, src) in enumerate((("a data path that is /dev/zero", 'idx("/dev/zero")'),
                                 ("a data path that is a FIFO", 'idx("%s")' % fifo),
                                 ("an empty data path", 'idx("")'),
                                 ("a data path of /proc/self/status", 'idx("/proc/self/status")'),
                                 ("an npy path that is /dev/urandom", 'npy("/dev/urandom")'))):
    case("fresh: data", what, [dlc, "train", train_model("dp%d.dl" % i, 'data train { x = %s; y = idx("%s") }' % (src, good_labels))],
         1, r"dp%d\.dl:6:\d+: error" % i)
case("fresh: data", "a data block for an unknown set", [dlc, "compile", train_model("db1.dl", 'data bogus { x = idx("img.idx"); y = idx("lab.idx") }')],
     1, r"db1\.dl:6:\d+: error")
case("fresh: data", "a data block binding an unknown input", [dlc, "compile", train_model("db2.dl", 'data train { z = idx("img.idx"); y = idx("lab.idx") }')],
     1, r"db2\.dl:6:\d+: error")

# Data files.
def data_case(what, name, content, pattern, images=True):
    f = write(name, content)
    model = data_model(name + ".dl", f, good_labels) if images else data_model(name + ".dl", good_images, f)
    case("fresh: data", what, [dlc, "train", model], 1, re.escape(name) + r"\.dl:\d+:\d+: error: .*" + pattern)


data_case("IDX with no dimensions", "i1.idx", idx(0x08, [], b""), r"i1\.idx")
data_case("IDX of an unknown type code", "i2.idx", idx(0x42, [4, 4], bytes(16)), r"i2\.idx")
data_case("IDX with 255 dimensions", "i3.idx", bytes([0, 0, 8, 255]) + struct.pack(">I", 1) * 10, r"i3\.idx")
data_case("IDX header cut inside the dimensions", "i4.idx", idx(0x08, [4, 4], b"")[:6], r"i4\.idx")
data_case("IDX magic not zero", "i5.idx", b"\x01\x02" + idx(0x08, [4, 4], bytes(16))[2:], r"i5\.idx")
data_case("int32 labels of 2^31-1", "i6.idx", idx(0x0C, [4], struct.pack(">4i", 0, 1, 2147483647, 0)), r"i6\.idx: label 2147483647", images=False)
data_case("signed byte labels of -1", "i7.idx", idx(0x09, [4], bytes([0, 255, 1, 0])), r"i7\.idx: label -1", images=False)
data_case("float labels of 1.5", "i8.idx", idx(0x0D, [4], struct.pack(">4f", 0, 1.5, 1, 0)), r"i8\.idx", images=False)
data_case("more labels than images", "i9.idx", idx(0x08, [9], bytes(9)), r"(i9\.idx|9|4)", images=False)
data_case("gzip cut mid-stream", "g1.idx.gz", gzip.compress(idx(0x08, [4, 4], bytes(range(16))))[:-12], r"g1\.idx\.gz")
good_gz = bytearray(gzip.compress(idx(0x08, [4, 4], bytes(range(16)))))
good_gz[-8] ^= 0xFF
data_case("gzip with a bad CRC", "g2.idx.gz", bytes(good_gz), r"g2\.idx\.gz")
data_case("gzip of nothing", "g3.idx.gz", gzip.compress(b""), r"g3\.idx\.gz")
data_case("a gzip bomb (100 MB of zeros after a 4x4 IDX)", "g4.idx.gz", gzip.compress(idx(0x08, [4, 4], bytes(16)) + bytes(100 << 20), 9), r"g4\.idx\.gz")
data_case("two gzip members with junk between", "g5.idx.gz", gzip.compress(idx(0x08, [4, 4], bytes(8))) + b"JUNK" + gzip.compress(bytes(8)), r"g5\.idx\.gz")
data_case("gzip magic, then garbage", "g6.idx.gz", b"\x1f\x8b" + bytes(range(200)), r"g6\.idx\.gz")


def npy_case(what, name, content, pattern):
    f = write(name, content)
    case("fresh: data", what, [dlc, "train", train_model(name + ".dl", 'data train { x = npy("%s"); y = idx("%s") }' % (f, good_labels))],
         1, re.escape(name) + r"\.dl:6:\d+: error: .*" + pattern)


npy_case("npy in Fortran order", "p1.npy", npy("<f4", [4, 4], bytes(64)).replace(b"'fortran_order': False", b"'fortran_order': True "), r"p1\.npy")
npy_case("npy of complex numbers", "p2.npy", npy("<c8", [4, 4], bytes(128)), r"p2\.npy")
npy_case("npy of objects", "p3.npy", npy("|O", [4, 4], bytes(128)), r"p3\.npy")
npy_case("npy version 9", "p4.npy", npy("<f4", [4, 4], bytes(64), version=9), r"p4\.npy")
npy_case("npy with a negative dimension", "p5.npy", npy("<f4", [-4, 4], bytes(64)), r"p5\.npy")
npy_case("npy header length beyond the file", "p6.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'", r"p6\.npy")
npy_case("npy with NaN images", "p7.npy", npy("<f4", [4, 4], struct.pack("<16f", *([float("nan")] * 16))), r"(p7\.npy|NaN|nan)")

# Checkpoints.
def ckpt_case(what, name, content, pattern=None, argv_extra=()):
    f = write(name, content)
    case("fresh: checkpoints", what, [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", f] + list(argv_extra),
         1, pattern or re.escape(name))


W8 = struct.pack("<2f", 1, 2)
ckpt_case("data cut short", "c1.st", safetensors({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, W8)[:-3])
ckpt_case("BF16 tensors", "c2.st", safetensors({"W": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)))
ckpt_case("I32 for an F32 param", "c3.st", safetensors({"W": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)))
ckpt_case("partly overlapping tensors", "c4.st", safetensors({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                                             "V": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)))
ckpt_case("a header that is not JSON", "c5.st", struct.pack("<Q", 8) + b"\xff\xfe{{{{{{" + W8)
ckpt_case("a header with a key twice", "c6.st", struct.pack("<Q", 120) + (b'{"W":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"W":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}').ljust(120) + W8)
ckpt_case("a header of 2^63 bytes", "c7.st", struct.pack("<Q", 1 << 63) + b"{}")
os.makedirs(path("c8.st"), exist_ok=True)
case("fresh: checkpoints", "a checkpoint that is a folder", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", path("c8.st")], 1, r"c8\.st")
case("fresh: checkpoints", "a checkpoint that is /dev/zero", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", "/dev/zero"], 1, r"/dev/zero")
case("fresh: checkpoints", "a checkpoint that is a FIFO", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--restore", fifo], 1, r"fifo\.idx")
TRAIN = data_model("ct.dl", good_images, good_labels)
for i, step in enumerate(("99999999999999999999", "-5", "abc", "1e3", "")):
    f = write("cs%d.st" % i, safetensors({"__metadata__": {"step": step}, "W": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]}}, bytes(48)))
    case("fresh: checkpoints", "an absurd step %r" % step, [dlc, "train", TRAIN, "--restore", f], 1, r"cs%d\.st" % i)
f = write("cm.st", safetensors({"W": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]},
                                "opt.W.m": {"dtype": "F32", "shape": [7], "data_offsets": [48, 76]}}, bytes(76)))
case("fresh: checkpoints", "optimizer state of the wrong shape", [dlc, "train", write("ctm.dl", open(TRAIN).read().replace("sgd(lr=0.1)", "adam(lr=0.1)")), "--restore", f],
     (0, 1), r"^|cm\.st")

os.makedirs(path("plotfifo"), exist_ok=True)
os.mkfifo(path("plotfifo/metrics.jsonl"))
case("fresh: data", "a metrics.jsonl that is a FIFO (dlc plot)", [dlc, "plot", path("plotfifo"), "-o", path("p.svg")], 1,
     r"plotfifo/metrics\.jsonl.*not a regular file")
os.makedirs(path("evfifo/train"), exist_ok=True)
os.mkfifo(path("evfifo/train/events.out.tfevents.1.h.1.1.dlc"))
write("evfifo/metrics.jsonl", '{"step": 1, "set": "train", "loss": 1}\n')
case("fresh: data", "an event file that is a FIFO (dlc plot)", [dlc, "plot", path("evfifo"), "-o", path("q.svg")], (0, 1), r"^")

# Outputs.
case("fresh: outputs", "--save to a read-only file system", [dlc, "train", TRAIN, "--save", "/proc/dlc.ckpt"], 1, r"/proc/dlc\.ckpt")
case("fresh: outputs", "--save and --report, the same file spelled twice", [dlc, "train", TRAIN, "--save", path("same.out"), "--report", work + "/./same.out"], 1, r"same")
os.symlink(good_images, path("img-link"))
case("fresh: outputs", "--save over the data through a symlink", [dlc, "train", TRAIN, "--save", path("img-link")], 1, r"img")
case("fresh: outputs", "-o to a folder", [dlc, "compile", "--emit=llvm", path("w.dl"), "-o", work], 1, re.escape(work))
case("fresh: outputs", "-o ''", [dlc, "compile", "--emit=llvm", path("w.dl"), "-o", ""], 1, r"-o|empty|''")
case("fresh: outputs", "--save ''", [dlc, "train", TRAIN, "--save", ""], 1, r"--save|empty|''")
case("fresh: outputs", "--logdir on the --save path", [dlc, "train", TRAIN, "--save", path("ld"), "--logdir", path("ld")], 1, r"ld")
case("fresh: outputs", "dlc graph -o the model", [dlc, "graph", path("w.dl"), "-o", path("w.dl")], 1, r"w\.dl")
case("fresh: outputs", "--outputs-dir that is a file", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,1]", "--outputs-dir", path("w.dl")], 1, r"w\.dl")
case("fresh: outputs", "--save over the restored checkpoint's folder", [dlc, "train", TRAIN, "--save", work], 1, re.escape(work))
case("fresh: outputs", "--report to a device", [dlc, "train", TRAIN, "--report", "/dev/null"], 1, r"/dev/null")
case("fresh: outputs", "dlc-rt --save over the module", [dlc_rt, path("t.so"), "train", "--data", work, "--save", path("t.so")], 1, r"t\.so")
case("fresh: outputs", "dlc-rt --report over --save", [dlc_rt, path("t.so"), "train", "--data", work, "--save", path("rr"), "--report", path("rr")], 1, r"rr")

# Flags.
for i, (what, argv, pattern) in enumerate((
        ("--steps ''", [dlc, "train", TRAIN, "--steps", ""], r"steps"),
        ("--steps 1e3", [dlc, "train", TRAIN, "--steps", "1e3"], r"steps|1e3"),
        ("--batch -1", [dlc, "train", TRAIN, "--batch", "-1"], r"batch"),
        ("--seed abc", [dlc, "train", TRAIN, "--seed", "abc"], r"seed|abc"),
        ("--memory-limit -5", [dlc, "train", TRAIN, "--memory-limit", "-5"], r"memory-limit"),
        ("--memory-limit 1.5", [dlc, "train", TRAIN, "--memory-limit", "1.5"], r"memory-limit"),
        ("--memory-limit 10X", [dlc, "train", TRAIN, "--memory-limit", "10X"], r"memory-limit"),
        ("--memory-limit ''", [dlc, "train", TRAIN, "--memory-limit", ""], r"memory-limit"),
        ("--validation 99999999999", [dlc, "train", TRAIN, "--validation", "99999999999"], r"validation"),
        ("--mcpu bogus", [dlc, "compile", "--emit=llvm", path("w.dl"), "--mcpu", "bogus"], r"bogus"),
        ("--emit=''", [dlc, "compile", path("w.dl"), "--emit="], r"emit"),
        ("--target=bogus", [dlc, "compile", path("w.dl"), "--target=bogus"], r"bogus|target"),
        ("--device cuda:-1", [dlc, "train", TRAIN, "--device", "cuda:-1"], r"cuda:-1|device"),
        ("--device cuda:99999999999999999999", [dlc, "train", TRAIN, "--device", "cuda:99999999999999999999"], r"device|cuda"),
        ("--gpu-memory-limit bogus", [dlc, "train", TRAIN, "--gpu-memory-limit", "bogus"], r"gpu-memory-limit"),
        ("--threads 1000000", [dlc, "train", TRAIN, "--threads", "1000000"], r"threads"),
        ("--feed '='", [dlc, "run", "--no-cache", "w.dl", "--feed", "="], r"feed"),
        ("--feed 'x=[1,2'", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,2"], r"feed|x"),
        ("--feed x of the wrong shape", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1,2,3]"], r"x"),
        ("--feed x=[1e999, 1]", [dlc, "run", "--no-cache", "w.dl", "--feed", "x=[1e999, 1]"], r"x"),
        ("dlc-rt --threads -3", [dlc_rt, path("t.so"), "train", "--data", work, "--threads", "-3"], r"threads"),
        ("dlc-rt --memory-limit ''", [dlc_rt, path("t.so"), "train", "--data", work, "--memory-limit", ""], r"memory-limit"),
        ("dlc-rt --steps 1e99", [dlc_rt, path("t.so"), "train", "--data", work, "--steps", "1e99"], r"steps"),
        ("dlc-rt --batch 0", [dlc_rt, path("t.so"), "train", "--data", work, "--batch", "0"], r"batch"),
        ("dlc-rt --feed x", [dlc_rt, path("w.so"), "run", "--feed", "x"], r"feed"),
        ("dlc-rt --feed x=[[[", [dlc_rt, path("w.so"), "run", "--feed", "x=[[["], r"feed|x"),
        ("dlc-rt --data ''", [dlc_rt, path("t.so"), "train", "--data", ""], r"data|''"),
        ("dlc-rt --restore ''", [dlc_rt, path("t.so"), "train", "--data", work, "--restore", ""], r"restore|''"),
        ("dlc-rt an empty module path", [dlc_rt, "", "run"], r"module|''|dlc-rt"),
        ("dlc-rt a bogus command", [dlc_rt, path("w.so"), "bogus"], r"bogus|run"),
        ("dlc --steps 2^70", [dlc, "train", TRAIN, "--steps", "1180591620717411303424"], r"steps"))):
    case("fresh: flags", what, argv, 1, pattern)

# The C API, one misuse per call (ctypes on libdlc.so).
capi3 = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.dlc_last_error.restype = ctypes.c_char_p
class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("role", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int64), ("shape", ctypes.POINTER(ctypes.c_int64)), ("data", ctypes.c_void_p)]
class Info(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int64),
                ("shape", ctypes.c_void_p), ("dim_names", ctypes.c_void_p)]
class TrainOptions(ctypes.Structure):
    _fields_ = [("data_dir", ctypes.c_char_p), ("steps", ctypes.c_int64), ("batch", ctypes.c_int64),
                ("validation", ctypes.c_int64), ("seed", ctypes.c_int64), ("restore", ctypes.c_char_p)]
lib.dlc_tensor_num_elements.restype = ctypes.c_int64
model = ctypes.c_void_p()
assert lib.dlc_model_from_file(sys.argv[2].encode(), None, ctypes.byref(model)) == 0, lib.dlc_last_error()
results, count = ctypes.POINTER(Tensor)(), ctypes.c_size_t()
two = (ctypes.c_int64 * 1)(2)
xs = (ctypes.c_float * 2)(1, 2)
bad = []
def expect(what, status):
    if status == 0 or not lib.dlc_last_error():
        bad.append(what)
def run(t, what):
    expect(what, lib.dlc_model_run(model, ctypes.byref(t), 1, ctypes.byref(results), ctypes.byref(count)))
case = sys.argv[3]
if case == "rank":
    run(Tensor(b"x", None, 0, -1, two, ctypes.cast(xs, ctypes.c_void_p)), "rank -1")
elif case == "shape":
    run(Tensor(b"x", None, 0, 2, None, ctypes.cast(xs, ctypes.c_void_p)), "null shape")
elif case == "data":
    run(Tensor(b"x", None, 0, 1, two, None), "null data")
elif case == "dtype":
    run(Tensor(b"x", None, 7, 1, two, ctypes.cast(xs, ctypes.c_void_p)), "dtype 7")
elif case == "size":
    three = (ctypes.c_int64 * 1)(3)
    expect("set_param wrong size", lib.dlc_model_set_param(model, b"W", ctypes.byref(Tensor(b"W", None, 0, 1, three, ctypes.cast(xs, ctypes.c_void_p)))))
elif case == "unknown":
    out = ctypes.POINTER(Tensor)()
    expect("get_param unknown", lib.dlc_model_get_param(model, b"nope", ctypes.byref(out)))
    expect("get_param null name", lib.dlc_model_get_param(model, None, ctypes.byref(out)))
    expect("get_param null out", lib.dlc_model_get_param(model, b"W", None))
elif case == "free":
    if lib.dlc_tensor_num_elements(None) != -1:
        bad.append("num_elements(NULL)")
    lib.dlc_tensors_free(None, 5)
elif case == "trainer":
    opts = TrainOptions(None, -7, 0, -1, -1, None)
    trainer = ctypes.c_void_p()
    expect("trainer steps -7 batch 0", lib.dlc_trainer_new(model, ctypes.byref(opts), ctypes.byref(trainer)))
    expect("trainer null out", lib.dlc_trainer_new(model, None, None))
elif case == "evaluate":
    expect("evaluate null trainer", lib.dlc_trainer_evaluate(None, b"test", ctypes.byref(results), ctypes.byref(count)))
elif case == "info":
    info = Info()
    expect("input_info 99", lib.dlc_model_input_info(model, 99, ctypes.byref(info)))
    expect("param_info huge", lib.dlc_model_param_info(model, ctypes.c_size_t(-1).value, ctypes.byref(info)))
    expect("input_info null", lib.dlc_model_input_info(model, 0, None))
elif case == "load":
    expect("load_params null", lib.dlc_model_load_params(model, None))
    expect("load_params missing", lib.dlc_model_load_params(model, b"/nonexistent.st"))
    expect("load_params dir", lib.dlc_model_load_params(model, b"/"))
elif case == "source":
    m2 = ctypes.c_void_p()
    expect("deep source", lib.dlc_model_from_source(b"model d\ny = " + b"(" * 100000 + b"1" + b")" * 100000 + b"\noutput y\n", b"deep.dl", None, ctypes.byref(m2)))
elif case == "feeds":
    expect("null feeds with count", lib.dlc_model_run(model, None, 3, ctypes.byref(results), ctypes.byref(count)))
    expect("feed with null name", lib.dlc_model_run(model, ctypes.byref(Tensor(None, None, 0, 1, two, ctypes.cast(xs, ctypes.c_void_p))), 1, ctypes.byref(results), ctypes.byref(count)))
    expect("run null results", lib.dlc_model_run(model, ctypes.byref(Tensor(b"x", None, 0, 1, two, ctypes.cast(xs, ctypes.c_void_p))), 1, None, ctypes.byref(count)))
elif case == "dims":
    big = (ctypes.c_int64 * 2)(1 << 40, 1 << 40)
    run(Tensor(b"x", None, 0, 2, big, ctypes.cast(xs, ctypes.c_void_p)), "2^80 elements")
    neg = (ctypes.c_int64 * 1)(-2)
    run(Tensor(b"x", None, 0, 1, neg, ctypes.cast(xs, ctypes.c_void_p)), "negative dim")
elif case == "save":
    expect("save null trainer", lib.dlc_trainer_save(None, b"/tmp/x.st"))
lib.dlc_model_free(model)
print("capi:", "all refused" if not bad else "accepted " + ", ".join(bad))
"""
if os.path.exists(libdlc) and "ASAN_OPTIONS" not in os.environ:
    for what in ("rank", "shape", "data", "dtype", "size", "unknown", "free", "trainer", "evaluate", "info", "load",
                 "source", "feeds", "dims", "save"):
        case("fresh: C API", what, [sys.executable, "-c", capi3, libdlc, path("w.dl"), what], 0, r"capi: all refused")

# The modules the dlc-rt cases load, and the files no case may change.
for model, module in ((TRAIN, "t.so"), (path("w.dl"), "w.so"), (path("h19.dl"), "h19.so")):
    subprocess.run([dlc, "compile", model, "--emit=module", "-o", path(module)], check=True)
case("fresh: model", "one_hot depth 2^40 in an AOT module", [dlc_rt, path("h19.so"), "run", "--feed", "y=[1,2]"], 1,
     r"h19\.dl:3:\d+: error: the run at batch 1: the result of dl\.one_hot")
protected = {f: open(f, "rb").read() for f in (good_images, good_labels, path("w.dl"), TRAIN, path("t.so"), path("w.so"))}

os.chdir(work)
failed = 0
# What went wrong, by kind: a signal or crash report, a hang, an error
# without its location (or a wrong exit status), a file destroyed.
kinds = {"crash": 0, "hang": 0, "unlocated or bad exit": 0, "data loss": 0}


def run_case(number):
    cls, what, argv, rc, pattern = cases[number]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120, errors="replace",
                           env=cases_env.get(number))
        out, got = p.stderr + p.stdout, p.returncode
    except subprocess.TimeoutExpired:
        out, got = "(hang: killed after 120 s)", "timeout"
    return out, got


import concurrent.futures
with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    outcomes = list(pool.map(run_case, range(len(cases))))
for number, ((cls, what, argv, rc, pattern), (out, got)) in enumerate(zip(cases, outcomes)):
    bad, kind = [], None
    allowed = rc if isinstance(rc, tuple) else (rc,)
    if got == "timeout":
        bad.append("hang"); kind = "hang"
    elif got not in allowed:
        bad.append("exit %s, expected %s" % (got, "/".join(map(str, allowed))))
        kind = "crash" if got < 0 or got > 128 else "unlocated or bad exit"
    if not re.search(pattern, out):
        bad.append("stderr does not match /%s/" % pattern)
        kind = kind or "unlocated or bad exit"
    if "LLVM ERROR" in out or "Stack dump" in out or "PLEASE submit" in out or "Sanitizer" in out:
        bad.append("crash report"); kind = "crash"
    if bad:
        failed += 1
        kinds[kind] += 1
        print("FAIL [%s] %s: %s\n  %s\n  %s" % (cls, what, "; ".join(bad), " ".join(a[:80] for a in argv), out[-600:]))
# Refused outputs leave the data intact.
if open(good_images, "rb").read() != idx(0x08, [4, 4], bytes(16)):
    failed += 1
    kinds["data loss"] += 1
    print("FAIL [files written] the data file was overwritten")
for f, content in protected.items():
    if not os.path.isfile(f) or open(f, "rb").read() != content:
        failed += 1
        kinds["data loss"] += 1
        print("FAIL [outputs] %s was changed or removed" % f)
print("the third corpus: %d cases" % sum(1 for c in cases if c[0].startswith("fresh")))
print("by kind: " + ", ".join("%s %d" % kv for kv in kinds.items()))
print("hostile inputs: %d cases, %d failed" % (len(cases), failed))
