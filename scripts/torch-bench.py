#!/usr/bin/env python3
"""The notebook's network in PyTorch on the CPU: the native speed anchor of BENCHMARKS.md.

Trains the network of ../shared/DESIGN.md (conv1 stride 2, conv2, conv3, each with ReLU and the
batch-statistics normalisation, TF "SAME" padding and pooling, dense 128 ReLU, 128 sigmoid, 10
logits; Adam at 0.005) on random images of MNIST's shape, since the speed does not depend on the
pixels, and prints the same JSON lines as `make bench` (figure torch_train_images_per_sec).
Needs Debian's python3-torch; not part of `make test`. Usage: python3 scripts/torch-bench.py
[threads, default 2].
"""
import datetime
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    # A python3 of its own (pyenv, a virtualenv) does not see Debian's package.
    sys.exit(f"torch-bench: {sys.executable} has no torch: install Debian's python3-torch and run "
             "/usr/bin/python3 scripts/torch-bench.py")


def same_pad(size, k, stride):
    """TF "SAME" padding of one axis: (before, after), the odd pad after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def normalise(x, eps=1e-12):
    """The notebook's batch-statistics normalisation: moments over batch, rows and columns."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def pool(x):
    """Max-pool 3×3, stride 2, SAME (padded with -inf)."""
    a, b = same_pad(x.shape[2], 3, 2)
    return F.max_pool2d(F.pad(x, (a, b, a, b), value=float("-inf")), 3, 2)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, stride=2)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(64, 128, 3, padding=1)
        self.dense1 = torch.nn.Linear(2048, 128)
        self.dense2 = torch.nn.Linear(128, 128)
        self.out = torch.nn.Linear(128, 10)
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        a, b = same_pad(x.shape[2], 3, 2)
        x = pool(normalise(F.relu(self.conv1(F.pad(x, (a, b, a, b))))))
        x = normalise(F.relu(self.conv2(x)))
        x = pool(normalise(F.relu(self.conv3(x))))
        x = torch.flatten(x.permute(0, 2, 3, 1), 1)  # NHWC order, as the notebook flattens
        return self.out(torch.sigmoid(self.dense2(F.relu(self.dense1(x)))))


def images_per_sec(batch, steps=60, warmup=5):
    torch.manual_seed(1)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.005)
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return batch * steps / (time.perf_counter() - start)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    for batch in (64, 256):
        print(json.dumps({
            "figure": "torch_train_images_per_sec", "value": round(images_per_sec(batch), 1),
            "unit": "images/s", "batch": batch, "threads": threads,
            "backend": f"PyTorch {torch.__version__} CPU", "date": datetime.date.today().isoformat(),
        }), flush=True)


if __name__ == "__main__":
    main()
