# Feeds class ids out of range through the C API (ctypes on libdlc.so):
# dlc_model_run and dlc_model_gradients refuse them with an error naming the
# feed and the example; in range, the same calls run.
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
lib.dlc_last_error.restype = ctypes.c_char_p


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("role", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int64), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("data", ctypes.c_void_p)]


model = ctypes.c_void_p()
assert lib.dlc_model_from_file(sys.argv[2].encode(), None, ctypes.byref(model)) == 0, lib.dlc_last_error()
xs = (ctypes.c_float * 8)(1, 2, 3, 4, 1, 1, 1, 1)
xshape = (ctypes.c_int64 * 2)(2, 4)
yshape = (ctypes.c_int64 * 1)(2)
results = ctypes.POINTER(Tensor)()
count = ctypes.c_size_t()
for labels in ((0, 2), (0, 3), (-5, 1), (0, 2147483647)):
    ys = (ctypes.c_int32 * 2)(*labels)
    feeds = (Tensor * 2)(Tensor(b"x", None, 0, 2, xshape, ctypes.cast(xs, ctypes.c_void_p)),
                         Tensor(b"y", None, 1, 1, yshape, ctypes.cast(ys, ctypes.c_void_p)))
    for call in ("dlc_model_run", "dlc_model_gradients"):
        status = getattr(lib, call)(model, feeds, 2, ctypes.byref(results), ctypes.byref(count))
        if status == 0:
            print("%s y=%s: ok, %d results" % (call, list(labels), count.value))
            lib.dlc_tensors_free(results, count)
        else:
            print("%s y=%s: status %d: %s" % (call, list(labels), status, lib.dlc_last_error().decode()))
lib.dlc_model_free(model)
