# The gradients dlc derives for the MNIST CNN (examples/mnist_cnn.dl) agree
# with PyTorch's autograd, an independent autodiff, to float32 precision: same
# params, same 50 bundled digits, dropout off (dlc_model_gradients makes it
# the identity). PyTorch computes in float64; dlc in float32.
#
# REQUIRES: torch
# UNSUPPORTED: asan
# RUN: %torch_python %s %dlc_obj_root/lib/libdlc.so %examples/mnist_cnn.dl %examples/data/mnist-10k | FileCheck %s
# CHECK: loss {{.+}} ok
# CHECK-DAG: grad W1 {{.+}} ok
# CHECK-DAG: grad b1 {{.+}} ok
# CHECK-DAG: grad W2 {{.+}} ok
# CHECK-DAG: grad b2 {{.+}} ok
# CHECK-DAG: grad W3 {{.+}} ok
# CHECK-DAG: grad b3 {{.+}} ok
# CHECK-DAG: grad W4 {{.+}} ok
# CHECK-DAG: grad b4 {{.+}} ok
# CHECK: 8 gradients checked

import ctypes
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

lib_path, model_path, data_dir = sys.argv[1:4]


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("role", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int64), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("data", ctypes.c_void_p)]


class Options(ctypes.Structure):
    _fields_ = [("target", ctypes.c_int), ("opt_level", ctypes.c_uint), ("vectorize", ctypes.c_int),
                ("use_cache", ctypes.c_int)]


lib = ctypes.CDLL(lib_path)
lib.dlc_last_error.restype = ctypes.c_char_p
lib.dlc_tensor_num_elements.restype = ctypes.c_int64


def check(status):
    if status != 0:
        sys.exit("dlc: " + lib.dlc_last_error().decode())


def read_idx(name, count):
    with gzip.open(os.path.join(data_dir, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)[:count]


options = Options()
lib.dlc_options_init(ctypes.byref(options))
model = ctypes.c_void_p()
check(lib.dlc_model_from_file(model_path.encode(), ctypes.byref(options), ctypes.byref(model)))
check(lib.dlc_model_init_params(model, ctypes.c_int64(7)))

names = ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]
params = {}
for name in names:
    out = ctypes.POINTER(Tensor)()
    check(lib.dlc_model_get_param(model, name.encode(), ctypes.byref(out)))
    t = out[0]
    shape = [t.shape[i] for i in range(t.rank)]
    n = lib.dlc_tensor_num_elements(out)
    params[name] = np.ctypeslib.as_array(ctypes.cast(t.data, ctypes.POINTER(ctypes.c_float)),
                                         shape=(n,)).reshape(shape).copy()
    lib.dlc_tensors_free(out, ctypes.c_size_t(1))

x = (read_idx("train-images-idx3-ubyte.gz", 50).astype(np.float32) / 255.0).reshape(50, 28, 28, 1)
y = read_idx("train-labels-idx1-ubyte.gz", 50).astype(np.int32)
keep = []


def feed(name, array):
    array = np.ascontiguousarray(array)
    shape = (ctypes.c_int64 * array.ndim)(*array.shape)
    keep.append((array, shape))
    return Tensor(name.encode(), None, 0 if array.dtype == np.float32 else 1, array.ndim,
                  ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64)), array.ctypes.data)


feeds = (Tensor * 2)(feed("x", x), feed("y", y))
results = ctypes.POINTER(Tensor)()
count = ctypes.c_size_t()
check(lib.dlc_model_gradients(model, feeds, ctypes.c_size_t(2), ctypes.byref(results),
                              ctypes.byref(count)))
got = {}
for i in range(count.value):
    t = results[i]
    shape = [t.shape[j] for j in range(t.rank)]
    n = lib.dlc_tensor_num_elements(ctypes.byref(t))
    if t.dtype != 0:
        continue
    value = np.ctypeslib.as_array(ctypes.cast(t.data, ctypes.POINTER(ctypes.c_float)),
                                  shape=(n,)).reshape(shape).copy()
    got[(t.role.decode(), t.name.decode())] = value
lib.dlc_tensors_free(results, count)
lib.dlc_model_free(model)

# The same network in PyTorch (NCHW inside, dlc's NHWC/HWCF layouts outside).
torch.set_default_dtype(torch.float64)
p = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in params.items()}
h = torch.tensor(x.astype(np.float64)).permute(0, 3, 1, 2)


def block(h, w, b):
    h = F.conv2d(h, w.permute(3, 2, 0, 1), padding=2) + b.view(1, -1, 1, 1)
    return F.max_pool2d(F.relu(h), 2)


h2 = block(block(h, p["W1"], p["b1"]), p["W2"], p["b2"])
f = F.relu(h2.permute(0, 2, 3, 1).reshape(50, -1) @ p["W3"] + p["b3"])
logits = f @ p["W4"] + p["b4"]
loss = F.cross_entropy(logits, torch.tensor(y.astype(np.int64)))
loss.backward()


def compare(what, mine, ref):
    ref = np.asarray(ref, dtype=np.float64)
    err = float(np.max(np.abs(mine.astype(np.float64) - ref))) if ref.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    ok = err <= 1e-4 * scale + 1e-6
    print(f"{what} max|dlc-torch| {err:.3g} max|torch| {scale:.3g} {'ok' if ok else 'MISMATCH'}")
    return ok


ok = compare("loss", got[("loss", "loss")], loss.item())
for name in names:
    ok &= compare("grad " + name, got[("grad", name)], p[name].grad.numpy())
print(f"{len(names)} gradients checked")
sys.exit(0 if ok else 1)
