#!/usr/bin/python3
"""Training throughput of dlc vs PyTorch on the same machine, in the same run.

For the MNIST softmax regression (sgd 0.5, batch 100) and the deep MNIST CNN
(Adam 1e-4, batch 50), both on the bundled digits, prints the examples/s of
the training step (after compilation / warm-up), the ratio dlc/PyTorch, and the
peak resident memory of each. Both run on one thread (dlc's CPU code is
single-threaded; torch.set_num_threads(1)).

    /usr/bin/python3 bench/train_vs_pytorch.py [--steps N] [--dlc build/bin/dlc]

Needs Debian's python3-torch (and numpy). Not a test.
"""
import argparse
import gzip
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data", "mnist-10k")


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def run_dlc(dlc, model, steps):
    """Returns (examples/s, peak RSS in MiB) of `dlc train`."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        rss = os.path.join(tmp, "rss")
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss, dlc, "train", model,
                        "--steps", str(steps), "--report", report],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        with open(report) as f:
            r = json.load(f)
        with open(rss) as f:
            peak_kib = int(f.read().split()[-1])
    return r["examples_per_s"], peak_kib / 1024.0


def run_torch(kind, steps):
    """Returns (examples/s, peak RSS in MiB) of the same model in PyTorch,
    measured in a child process so the peaks are comparable."""
    code = f"""
import resource, sys, time, json
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from train_vs_pytorch import read_idx, DATA
torch.set_num_threads(1)
torch.manual_seed(0)
x = torch.tensor(read_idx(DATA + '/train-images-idx3-ubyte.gz'), dtype=torch.float32) / 255
y = torch.tensor(read_idx(DATA + '/train-labels-idx1-ubyte.gz'), dtype=torch.long)
kind, steps = {kind!r}, {steps}
if kind == 'softmax':
    model = nn.Linear(784, 10); batch = 100
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x = x.reshape(-1, 784)
else:
    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(1, 32, 5, padding=2); self.c2 = nn.Conv2d(32, 64, 5, padding=2)
            self.f1 = nn.Linear(3136, 1024); self.f2 = nn.Linear(1024, 10)
        def forward(self, h):
            h = F.max_pool2d(F.relu(self.c1(h)), 2)
            h = F.max_pool2d(F.relu(self.c2(h)), 2)
            h = F.dropout(F.relu(self.f1(h.flatten(1))), 0.5, self.training)
            return self.f2(h)
    model = CNN(); batch = 50
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = x.reshape(-1, 1, 28, 28)
def step(i):
    lo = (i * batch) % (x.shape[0] - batch)
    opt.zero_grad()
    loss = F.cross_entropy(model(x[lo:lo + batch]), y[lo:lo + batch])
    loss.backward(); opt.step()
for i in range(5): step(i)
t = time.perf_counter()
for i in range(steps): step(i)
dt = time.perf_counter() - t
print(json.dumps({{'eps': steps * batch / dt,
                   'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return r["eps"], r["rss"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--dlc", default=os.path.join(ROOT, "build", "bin", "dlc"))
    args = p.parse_args()
    rows = []
    for kind, model in [("softmax", "examples/mnist_softmax.dl"), ("cnn", "examples/mnist_cnn.dl")]:
        d_eps, d_rss = run_dlc(args.dlc, model, args.steps)
        t_eps, t_rss = run_torch(kind, args.steps)
        rows.append((kind, d_eps, t_eps, d_rss, t_rss))
    print(f"{'model':<10}{'dlc ex/s':>12}{'torch ex/s':>12}{'dlc/torch':>11}{'dlc MiB':>10}{'torch MiB':>11}")
    for kind, d_eps, t_eps, d_rss, t_rss in rows:
        print(f"{kind:<10}{d_eps:>12.0f}{t_eps:>12.0f}{d_eps / t_eps:>11.2f}{d_rss:>10.0f}{t_rss:>11.0f}")


if __name__ == "__main__":
    main()
