#!/usr/bin/python3
"""Writes cnn.onnx, the small ONNX CNN that examples/onnx/ fine-tunes.

Made with the `onnx` Python package (Debian: python3-onnx), as another framework would export it: NCHW input
x[N, 1, 28, 28], two conv/relu/max-pool blocks (8 and 16 channels, 3x3 kernels, pads 1), then flatten and a Gemm to
ten logits. The weights are drawn from a seeded generator (He initialization), standing in for a pretrained
feature extractor; dlc freezes the convolutions and retrains only the last layer (fc.weight, fc.bias).

    /usr/bin/python3 examples/onnx/make_cnn.py examples/onnx/cnn.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(path):
    rng = np.random.default_rng(7)

    def he(*shape):
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    inits = [
        numpy_helper.from_array(he(8, 1, 3, 3), "conv1.weight"),
        numpy_helper.from_array(np.zeros(8, np.float32), "conv1.bias"),
        numpy_helper.from_array(he(16, 8, 3, 3), "conv2.weight"),
        numpy_helper.from_array(np.zeros(16, np.float32), "conv2.bias"),
        numpy_helper.from_array((rng.standard_normal((10, 784)) * 0.01).astype(np.float32), "fc.weight"),
        numpy_helper.from_array(np.zeros(10, np.float32), "fc.bias"),
    ]
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool = dict(kernel_shape=[2, 2], strides=[2, 2])
    nodes = [
        helper.make_node("Conv", ["x", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", **conv),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", **pool),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", **pool),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits)
    model = helper.make_model(graph, producer_name="dlc examples/onnx/make_cnn.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cnn.onnx")
