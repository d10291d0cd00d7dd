# -*- Python -*-
# lit configuration for dlc: .mlir and .dl tests, tools dlc and dlc-opt.

import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DLC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".dl", ".test", ".py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test")
config.excludes = ["unittests", "fuzz", "CMakeLists.txt", "lit.cfg.py", "Inputs", "ptxas-examples.sh"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%dlc_src_root", config.dlc_src_root))
config.substitutions.append(("%examples", os.path.join(config.dlc_src_root, "examples")))
# The CI virtualenv (.ci/run creates it in the build folder and installs
# test/requirements-ci.txt): the real `safetensors` package, for the tests
# that read and write checkpoints from Python.
venv_python = os.path.join(config.dlc_obj_root, "venv", "bin", "python")
tool_python = sys.executable
try:
    import subprocess
    if os.path.exists(venv_python) and subprocess.run(
            [venv_python, "-c", "import safetensors.numpy, numpy"], capture_output=True,
            timeout=120).returncode == 0:
        config.available_features.add("safetensors")
        config.substitutions.append(("%venv_python", venv_python))
        tool_python = venv_python
except (OSError, subprocess.TimeoutExpired):
    pass
# Reads, compares and edits safetensors checkpoints: with the safetensors
# package where the virtualenv has it, else with its own reader.
config.substitutions.append(("%safetensors", tool_python + " " + os.path.join(
    config.dlc_src_root, "test", "Execution", "Inputs", "safetensors_tool.py")))
config.substitutions.append(("%dlc_obj_root", config.dlc_obj_root))
# The build's own CMake, generator and compilers (examples/embed is built
# against the installed package by Examples/embed.test).
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%make_program", config.cmake_make_program))
config.substitutions.append(("%host_cc", config.cmake_c_compiler))
config.substitutions.append(("%host_cxx", config.cmake_cxx_compiler))

# ONNX models in tests are written in protobuf's text format and encoded by
# protoc with Debian's libonnx-dev schema; the conformance data is Debian's
# libonnx-testdata. (.ci/install installs both and protobuf-compiler.)
config.substitutions.append(("%onnx_encode",
    "protoc --encode=onnx.ModelProto -I/usr/include onnx/onnx.proto"))
config.substitutions.append(("%onnx_tensor_encode",
    "protoc --encode=onnx.TensorProto -I/usr/include onnx/onnx.proto"))
config.substitutions.append(("%onnx_testdata", "/usr/share/libonnx-testdata/data"))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Keep the compile cache of tests away from the user's.
config.environment["XDG_CACHE_HOME"] = os.path.join(config.test_exec_root, "cache")

# `not`, `split-file` and `count` come from LLVM's tools folder.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.dlc_tools_dir, config.llvm_tools_dir]
tools = ["dlc", "dlc-opt", "dlc-rt"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The host can JIT: always true for the CPU target on x86-64 Linux.
config.available_features.add("jit")
if config.dlc_enable_cuda or os.environ.get("DLC_TEST_CUDA") == "1":
    config.available_features.add("cuda")
# A sanitizer build (DLC_SANITIZE): libdlc.so needs the ASan runtime, which a
# host built without it lacks. Leaks are not reported (LLVM's and MLIR's
# registries live until exit), nor container overflows (std::vector crosses
# between instrumented code and the uninstrumented LLVM libraries).
if config.dlc_sanitize.upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("asan")
    config.environment["ASAN_OPTIONS"] = "detect_leaks=0:detect_container_overflow=0:abort_on_error=0:allocator_may_return_null=1"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
# A CUDA driver without a GPU, for the runtime's GPU paths (Targets/CUDA).
config.substitutions.append(("%fakecuda", os.path.join(config.dlc_obj_root, "lib",
                                                       "libdlc-fake-cuda.so")))
# No test may find a real driver unless it asks for one.
if "cuda" not in config.available_features:
    config.environment["DLC_CUDA_DRIVER"] = "/nonexistent/libcuda.so.1"

# Open MPI's mpirun (openmpi-bin) and a dlc that loads MPI: the data-parallel
# tests. CI runs as root, which mpirun refuses unless told; --oversubscribe
# lets three processes share two cores.
import shutil
mpirun = shutil.which("mpirun")
if config.dlc_have_mpi and mpirun:
    config.available_features.add("mpi")
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    config.substitutions.append(("%mpirun", mpirun + " --oversubscribe --bind-to none"))

# Debian's PyTorch (python3-torch), an independent autodiff to check gradients
# against. .ci/run installs it.
import subprocess
torch_python = "/usr/bin/python3"
try:
    if subprocess.run([torch_python, "-c", "import torch, numpy"], capture_output=True,
                      timeout=120).returncode == 0:
        config.available_features.add("torch")
        config.substitutions.append(("%torch_python", torch_python))
except (OSError, subprocess.TimeoutExpired):
    pass

# Graphviz's dot draws `dlc graph -o model.svg|png`.
import shutil
if shutil.which("dot"):
    config.available_features.add("graphviz")
