#!/usr/bin/env python3
"""Writes the compile-time benchmark model of issue 12: an MLP on the bundled digits.

    python3 bench/gen_mlp.py N > mlp.dl        # 784 -> N hidden layers of 64 (ReLU) -> 10, Adam

Softmax cross-entropy, Adam, batch 100: the model of bench/peers.py's compile sweep (mlp_source). The data
paths are absolute (examples/data of this checkout), so the file can live anywhere (dlc resolves relative
paths against the model file's folder).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import mlp_source  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layers", type=int, help="hidden layers (64 wide)")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "examples", "data", "mnist-10k"))
    args = parser.parse_args()
    if args.layers < 1 or args.width < 1 or args.batch < 1:
        sys.exit("gen_mlp.py: layers, width and batch must be at least 1")
    sizes = [784] + [args.width] * args.layers + [10]
    sys.stdout.write(mlp_source(sizes, f"mlp{args.layers}", batch=args.batch,
                                data=os.path.normpath(args.data)))


if __name__ == "__main__":
    main()
