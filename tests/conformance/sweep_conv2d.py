#!/usr/bin/env python3
"""Random conv2d geometries, run by `nnc run` on every ISA and compared with PyTorch.

A tool beside the conformance tests, not one of them: each case draws channels, groups
(depthwise included), a rectangular kernel, strides, padding (or "same"), dilations, an image
size, a batch, a bias or none and an activation; writes the model, weights and input; runs
`nnc run --isa I` for avx512, avx2 and sse; and compares with PyTorch in float64 by the
conformance tests' measure (tolerance 1e-4). It prints each case that fails, with its model,
and exits 1 when there was one. It found the depthwise kernel's two wrong strided results
fixed in commit 066de07.

    /usr/bin/python3 tests/conformance/sweep_conv2d.py [--seconds 120] [--seed 1] [--nnc PATH]
"""

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_references as mr  # noqa: E402  (its safetensors writer and error measure)

warnings.filterwarnings("ignore", message="Using padding='same'")

ACTIVATIONS = {"": None, "relu": torch.relu, "hard_swish": F.hardswish, "silu": F.silu,
               "tanh": torch.tanh}


def draw(rng):
    """A valid geometry as (model text, conv2d arguments, activation, input shape)."""
    while True:
        groups = rng.choice([1, 1, 1, 2, 3, 4])
        cin, cout = groups * rng.randint(1, 6), groups * rng.randint(1, 8)
        if rng.random() < 0.2:  # depthwise, channel multiplier 1 or 2
            groups, cout = cin, cin * rng.choice([1, 2])
        kernel = (rng.randint(1, 5), rng.randint(1, 5))
        stride = (rng.randint(1, 3), rng.randint(1, 3))
        dilation = (rng.randint(1, 3), rng.randint(1, 3))
        same = stride == (1, 1) and rng.random() < 0.2
        pad = (rng.randint(0, 2), rng.randint(0, 2))
        h, w = rng.randint(1, 40), rng.randint(1, 40)
        reach = [dilation[i] * (kernel[i] - 1) + 1 for i in range(2)]
        if not same and (h + 2 * pad[0] < reach[0] or w + 2 * pad[1] < reach[1]):
            continue
        bias = rng.random() < 0.8
        act = rng.choice(list(ACTIVATIONS))
        pad_text = '"same"' if same else f"[{pad[0]}, {pad[1]}]"
        text = (f"model m {{\n  input x: f32[N, {cin}, {h}, {w}]\n"
                f"  y = conv2d(x, {cout}, [{kernel[0]}, {kernel[1]}], stride=[{stride[0]}, "
                f"{stride[1]}], pad={pad_text}, dilation=[{dilation[0]}, {dilation[1]}], "
                f"groups={groups}, bias={'true' if bias else 'false'})"
                f"{' -> ' + act if act else ''}\n  output y\n}}\n")
        args = dict(in_channels=cin, out_channels=cout, kernel_size=kernel, stride=stride,
                    padding="same" if same else pad, dilation=dilation, groups=groups, bias=bias)
        return text, args, act, (rng.randint(1, 3), cin, h, w)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=1)
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--nnc", default=str(root / "build/release/tools/nnc/nnc"))
    options = parser.parse_args()
    rng = random.Random(options.seed)
    torch.manual_seed(options.seed)
    work = Path(tempfile.mkdtemp(prefix="nnc_sweep_"))
    env = dict(os.environ, NNC_CACHE_DIR=str(work / "cache"))
    deadline = time.time() + options.seconds
    runs = failures = 0
    while time.time() < deadline:
        text, args, act, shape = draw(rng)
        (work / "m.nn").write_text(text)
        conv = torch.nn.Conv2d(**args).double()
        fan_in = args["in_channels"] // args["groups"] * math.prod(args["kernel_size"])
        weights = {"y.weight": ((torch.rand(conv.weight.shape) * 2 - 1) / math.sqrt(fan_in))
                   .float().numpy()}
        if args["bias"]:
            weights["y.bias"] = (torch.rand(args["out_channels"]) * 2 - 1).float().numpy()
        mr.write_safetensors(work / "w.safetensors", weights)
        x = (np.random.default_rng(rng.randrange(1 << 30)).random(shape) * 4 - 2).astype(
            np.float32)
        np.save(work / "x.npy", x)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(weights["y.weight"]))
            if args["bias"]:
                conv.bias.copy_(torch.from_numpy(weights["y.bias"]))
            want = conv(torch.from_numpy(x).double())
            if ACTIVATIONS[act]:
                want = ACTIVATIONS[act](want)
        want = want.float().numpy()
        for isa in ("avx512", "avx2", "sse"):
            runs += 1
            done = subprocess.run(
                [options.nnc, "run", str(work / "m.nn"), "--weights", str(work / "w.safetensors"),
                 "--input", f"x={work / 'x.npy'}", "--output", f"y={work / 'y.npy'}",
                 "--isa", isa, "--threads", str(rng.choice([1, 2]))],
                capture_output=True, text=True, env=env)
            if done.returncode != 0:
                problem = f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
            else:
                got = np.load(work / "y.npy")
                error = mr.relative_error(got, want) if got.shape == want.shape else math.inf
                problem = None if error <= 1e-4 else f"error {error:.3g}, shape {got.shape}"
            if problem:
                failures += 1
                print(f"{isa}, input {list(shape)}: {problem}\n{text}", flush=True)
    print(f"{runs} runs, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
