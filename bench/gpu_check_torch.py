"""The lecture's MNIST CNN in PyTorch on a GPU (cuDNN, TF32 off), as the
peer of bench/gpu-check.sh: the same layers, initializers' scales, Adam
(lr 1e-4), batch 50, dropout 0.5, on the bundled digits (first 7000 training
images, as dlc holds out the last 1000 for validation). Prints one JSON line
last: wall_s for the training loop plus the final test evaluation (timed like
dlc-rt's run), and the test accuracy."""
import argparse, gzip, json, os, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 5, padding=2)
        self.c2 = nn.Conv2d(32, 64, 5, padding=2)
        self.f3 = nn.Linear(3136, 1024)
        self.f4 = nn.Linear(1024, 10)
        for m in (self.c1, self.c2, self.f3, self.f4):
            nn.init.trunc_normal_(m.weight, std=0.1, a=-0.2, b=0.2)
            nn.init.constant_(m.bias, 0.1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.dropout(F.relu(self.f3(x.flatten(1))), 0.5, self.training)
        return self.f4(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=50)
    a = p.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    torch.manual_seed(0)
    xs = torch.tensor(idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"))[:7000],
                      dtype=torch.float32, device=dev).unsqueeze(1) / 255
    ys = torch.tensor(idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))[:7000],
                      dtype=torch.long, device=dev)
    xt = torch.tensor(idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")),
                      dtype=torch.float32, device=dev).unsqueeze(1) / 255
    yt = torch.tensor(idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz")),
                      dtype=torch.long, device=dev)
    model = CNN().to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    # Warm-up (cuDNN autotuning), not timed, as dlc's module load is not.
    model.train()
    for _ in range(5):
        step(xs[:a.batch], ys[:a.batch])
    torch.cuda.synchronize()
    start = time.perf_counter()
    perm = torch.randperm(len(xs), device=dev)
    at = 0
    for _ in range(a.steps):
        if at + a.batch > len(xs):
            perm, at = torch.randperm(len(xs), device=dev), 0
        i = perm[at:at + a.batch]
        at += a.batch
        step(xs[i].contiguous(memory_format=torch.channels_last), ys[i])
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(xt), 100):
            correct += (model(xt[s:s + 100]).argmax(1) == yt[s:s + 100]).sum().item()
    torch.cuda.synchronize()
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": wall, "test_accuracy": correct / len(xt),
                      "device": torch.cuda.get_device_name(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
