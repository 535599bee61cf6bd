#!/usr/bin/env python3
"""Random small networks, run by `nnc run` on every ISA and compared with a float64 reference.

A tool beside the conformance tests, not one of them (as sweep_conv2d.py is for conv2d alone).
Each case draws a chain of 2 to --steps statements over an image (NCHW) or a feature matrix:
conv2d, batchnorm (negative scales included), every activation of the language reference with
ordinary and unusual attributes (negative slopes, thresholds, swapped clamp bounds, per-channel
PReLU of either sign), maxpool and avgpool with padding, global_avgpool, add and mul against
earlier values, a second input or a broadcast [N, C, 1, 1] gate, concat, flatten, dense,
maxout, softmax and log_softmax over any axis, dropout. Activations are sometimes chained with
`->`, so that parameter names of the `h.<op>.<param>` form and the fusion passes (bias and
activation epilogues, batchnorm folding, activations moved past max-pooling, elementwise
chains) all get exercised together. An intermediate value is sometimes a second output.

The reference is the language reference's definition of each op, computed by PyTorch in
float64 from the float32 weights and inputs; nnc's outputs must match it by the conformance
tests' measure (relative error 1e-4). Every failing case is printed with its seed, model and
error; `--case SEED` runs that one case again and keeps its files.

    /usr/bin/python3 tests/conformance/sweep_graphs.py [--seconds 120] [--seed 1] [--steps 6]
"""

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_references as mr  # noqa: E402  (its safetensors writer and error measure)

ISAS = ("avx512", "avx2", "sse")


def num(v):
    """A number as the model text writes it."""
    return repr(float(v)) if isinstance(v, float) else str(v)


def activation(rng):
    """A random activation as (call text, reference function of (tensor, weight), weight shape
    function of the channel count or None)."""
    kind = rng.choice([
        "relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "celu", "sigmoid", "tanh",
        "softplus", "softsign", "gelu", "silu", "mish", "hard_sigmoid", "hard_swish",
        "hard_tanh", "clamp", "thresholded_relu", "identity"])
    if kind == "relu":
        return "relu", lambda x, w: torch.clamp(x, min=0), None
    if kind == "relu6":
        return "relu6", lambda x, w: torch.clamp(torch.clamp(x, min=0), max=6), None
    if kind == "leaky_relu":
        a = rng.choice([None, 0.1, -0.3, 2.0, 0.0])
        alpha = 0.01 if a is None else a
        text = "leaky_relu" if a is None else f"leaky_relu({num(a)})"
        return text, lambda x, w: torch.where(x >= 0, x, alpha * x), None
    if kind == "prelu":
        per_channel = rng.random() < 0.5
        text = "prelu(per_channel=true)" if per_channel else "prelu"

        def prelu(x, w):
            shape = [1] * x.dim()
            if per_channel:
                shape[1] = -1
            return torch.where(x >= 0, x, w.reshape(shape) * x)

        return text, prelu, (lambda c: [c]) if per_channel else (lambda c: [1])
    if kind == "elu":
        a = rng.choice([None, 0.5, -1.0, 2.0])
        alpha = 1.0 if a is None else a
        text = "elu" if a is None else f"elu(alpha={num(a)})"
        return text, lambda x, w: torch.where(x > 0, x, alpha * torch.expm1(x)), None
    if kind == "selu":
        lam, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
        return "selu", lambda x, w: lam * torch.where(x > 0, x, alpha * torch.expm1(x)), None
    if kind == "celu":
        a = rng.choice([None, 0.5, 2.0])
        alpha = 1.0 if a is None else a
        text = "celu" if a is None else f"celu(alpha={num(a)})"
        return (text, lambda x, w: torch.clamp(x, min=0)
                + torch.clamp(alpha * torch.expm1(x / alpha), max=0), None)
    if kind == "sigmoid":
        return "sigmoid", lambda x, w: torch.sigmoid(x), None
    if kind == "tanh":
        return "tanh", lambda x, w: torch.tanh(x), None
    if kind == "softplus":
        beta, threshold = rng.choice([(1, 20), (2, 20), (0.5, 20), (1, 1.5), (3, 4)])
        text = "softplus" if (beta, threshold) == (1, 20) else \
            f"softplus(beta={num(beta)}, threshold={num(threshold)})"
        return (text, lambda x, w: torch.where(beta * x > threshold, x,
                                                torch.log1p(torch.exp(beta * x)) / beta), None)
    if kind == "softsign":
        return "softsign", lambda x, w: x / (1 + x.abs()), None
    if kind == "gelu":
        if rng.random() < 0.5:
            return "gelu", lambda x, w: 0.5 * x * torch.erfc(-x / math.sqrt(2)), None
        k = math.sqrt(2 / math.pi)
        return ('gelu(approximate="tanh")',
                lambda x, w: 0.5 * x * (1 + torch.tanh(k * (x + 0.044715 * x ** 3))), None)
    if kind == "silu":
        return "silu", lambda x, w: x * torch.sigmoid(x), None
    if kind == "mish":
        return "mish", lambda x, w: x * torch.tanh(F.softplus(x)), None
    if kind == "hard_sigmoid":
        alpha, beta = rng.choice([(None, None), (0.2, 0.5), (0.5, 0.1), (-0.25, 0.5)])
        text = "hard_sigmoid" if alpha is None else \
            f"hard_sigmoid(alpha={num(alpha)}, beta={num(beta)})"
        alpha = 1 / 6 if alpha is None else alpha
        beta = 0.5 if beta is None else beta
        return text, lambda x, w: torch.clamp(alpha * x + beta, 0, 1), None
    if kind == "hard_swish":
        return "hard_swish", lambda x, w: x * torch.clamp(x / 6 + 0.5, 0, 1), None
    if kind in ("hard_tanh", "clamp"):
        lo, hi = rng.choice([(-1.0, 1.0), (0.0, 6.0), (-0.5, 2.0), (0.5, 0.5), (-3.0, -1.0)])
        if kind == "hard_tanh":
            text = "hard_tanh" if (lo, hi) == (-1.0, 1.0) else \
                f"hard_tanh(min={num(lo)}, max={num(hi)})"
        else:
            text = f"clamp({num(lo)}, {num(hi)})"
        return text, lambda x, w: torch.clamp(torch.clamp(x, min=lo), max=hi), None
    if kind == "thresholded_relu":
        a = rng.choice([None, 0.5, -0.5, 0.0])
        alpha = 1.0 if a is None else a
        text = "thresholded_relu" if a is None else f"thresholded_relu({num(a)})"
        return text, lambda x, w: torch.where(x > alpha, x, torch.zeros_like(x)), None
    return "identity", lambda x, w: x, None


class Graph:
    """The model being drawn: its text, weights, inputs and a float64 reference evaluator."""

    def __init__(self, rng):
        self.rng = rng
        self.lines = []
        self.weights = {}
        self.inputs = {}   # name -> float32 array
        self.shapes = {}   # value name -> shape (batch first)
        self.ref = {}      # value name -> float64 tensor
        self.count = 0
        self.extra = set()  # the inputs other than x: broadcast operands without a batch

    def fresh(self):
        self.count += 1
        return f"v{self.count}"

    def weight(self, name, shape, low, high, scale=1.0):
        """A float32 weight uniform in [low, high) times scale, as a float64 tensor."""
        w = np.random.default_rng(self.rng.randrange(1 << 30)).uniform(low, high, shape)
        self.weights[name] = (w * scale).astype(np.float32)
        return torch.from_numpy(self.weights[name]).double()

    def add_input(self, name, shape, dims_text):
        x = np.random.default_rng(self.rng.randrange(1 << 30)).uniform(-2, 2, shape)
        self.inputs[name] = x.astype(np.float32)
        self.lines.append(f"  input {name}: f32[{dims_text}]")
        self.shapes[name] = list(shape)
        self.ref[name] = torch.from_numpy(self.inputs[name]).double()

    def bind(self, name, text, value):
        self.lines.append(f"  {name} = {text}")
        self.shapes[name] = list(value.shape)
        self.ref[name] = value

    def batchnorm(self, name, cur, x):
        """`name = batchnorm(cur)` over axis 1 (scales of either sign), then chained
        activations: (text, value)."""
        c = x.shape[1]
        wt = self.weight(f"{name}.weight", [c], -1.5, 1.5)
        b = self.weight(f"{name}.bias", [c], -0.5, 0.5)
        mean = self.weight(f"{name}.running_mean", [c], -0.5, 0.5)
        var = self.weight(f"{name}.running_var", [c], 0.2, 2.0)
        eps = self.rng.choice([1e-5, 1e-3])
        y = F.batch_norm(x, mean, var, wt, b, training=False, eps=eps)
        return self.activations(name, y, f"batchnorm({cur}"
                                         f"{'' if eps == 1e-5 else ', eps=0.001'})")

    def activations(self, name, x, first):
        """`first` followed by 0-2 chained activations: (text, value). Parameterized ones in the
        chain take the `name.<op>.<param>` names."""
        text = first
        used = set()
        for _ in range(self.rng.choice([0, 0, 1, 1, 2])):
            call, fn, wshape = activation(self.rng)
            op = call.split("(")[0]
            if wshape and op in used:
                continue
            w = None
            if wshape:
                w = self.weight(f"{name}.{op}.weight", wshape(x.shape[1]), -0.6, 0.6)
            used.add(op)
            text += f" -> {call}"
            x = fn(x, w)
        return text, x


def earlier(g, name, accept):
    """An earlier value (other than `name`, and not one of the extra inputs, whose first
    dimension is not the batch) whose shape `accept` takes, or None."""
    names = [n for n in g.shapes
             if n != name and n not in g.extra and accept(g.shapes[n])]
    return g.rng.choice(names) if names else None


def image_step(g, cur):
    """One statement on an image value: (new name, kind)."""
    rng = g.rng
    n, c, h, w = g.shapes[cur]
    x = g.ref[cur]
    name = g.fresh()
    op = rng.choice(["conv2d", "conv2d", "conv2d", "batchnorm", "act", "act", "maxpool",
                     "avgpool", "global_avgpool", "add", "mul", "concat", "flatten",
                     "dropout", "softmax"])
    if op == "conv2d":
        groups = rng.choice([g_ for g_ in range(1, c + 1) if c % g_ == 0][:4])
        if rng.random() < 0.2:
            groups = c
        cout = groups * rng.randint(1, max(1, 16 // groups))
        k = (rng.randint(1, 3), rng.randint(1, 3))
        s = (rng.randint(1, 2), rng.randint(1, 2))
        d = (rng.randint(1, 2), rng.randint(1, 2))
        p = (rng.randint(0, 2), rng.randint(0, 2))
        if any((h, w)[i] + 2 * p[i] < d[i] * (k[i] - 1) + 1 for i in range(2)):
            p = tuple(d[i] * (k[i] - 1) for i in range(2))
        bias = rng.random() < 0.7
        fan_in = c // groups * k[0] * k[1]
        wt = g.weight(f"{name}.weight", [cout, c // groups, k[0], k[1]], -1, 1,
                      1 / math.sqrt(fan_in))
        b = g.weight(f"{name}.bias", [cout], -0.5, 0.5) if bias else None
        y = F.conv2d(x, wt, b, stride=s, padding=p, dilation=d, groups=groups)
        call = (f"conv2d({cur}, {cout}, [{k[0]}, {k[1]}], stride=[{s[0]}, {s[1]}], "
                f"pad=[{p[0]}, {p[1]}], dilation=[{d[0]}, {d[1]}], groups={groups}"
                f"{'' if bias else ', bias=false'})")
        text, y = g.activations(name, y, call)
    elif op == "batchnorm":
        text, y = g.batchnorm(name, cur, x)
    elif op == "act":
        call, fn, wshape = activation(rng)
        op_name = call.split("(")[0]
        wt = g.weight(f"{name}.weight", wshape(c), -0.6, 0.6) if wshape else None
        text = f"{cur} -> {call}" if rng.random() < 0.5 else \
            (f"{op_name}({cur}" + (", " + call.split("(", 1)[1] if "(" in call else ")"))
        y = fn(x, wt)
        if not wshape:
            text, y = g.activations(name, y, text)
    elif op in ("maxpool", "avgpool"):
        k = rng.randint(1, 3)
        s = rng.choice([None, 1, 2, 3])
        p = rng.randint(0, k // 2)
        if h + 2 * p < k or w + 2 * p < k:
            k, p = 1, 0
        args = f"{cur}, {k}" + ("" if s is None else f", stride={s}") + (f", pad={p}" if p else "")
        if op == "maxpool":
            y = F.max_pool2d(x, k, s or k, p)
        else:
            y = F.avg_pool2d(x, k, s or k, p, count_include_pad=True)
        text, y = g.activations(name, y, f"{op}({args})")
    elif op == "global_avgpool":
        y = x.mean(dim=(2, 3), keepdim=True)
        text, y = g.activations(name, y, f"global_avgpool({cur})")
    elif op in ("add", "mul"):
        other = earlier(g, cur, lambda s: s == [n, c, h, w] or s == [n, c, 1, 1])
        if other is None and rng.random() < 0.5:
            other = f"b{g.count}"
            shape = rng.choice([[1, c, 1, 1], [c, 1, 1], [1, 1, h, w], [w]])
            g.add_input(other, shape, ", ".join(map(str, shape)))
            g.extra.add(other)
        other = other or cur
        a, b = (cur, other) if rng.random() < 0.5 else (other, cur)
        y = g.ref[a] + g.ref[b] if op == "add" else g.ref[a] * g.ref[b]
        text, y = g.activations(name, y, f"{op}({a}, {b})")
    elif op == "concat":
        other = earlier(g, cur, lambda s: len(s) == 4 and s[0] == n and s[2:] == [h, w]) or cur
        y = torch.cat([x, g.ref[other]], dim=1)
        text, y = g.activations(name, y, f"concat({cur}, {other}, axis=1)"
                                if rng.random() < 0.5 else f"concat({cur}, {other})")
    elif op == "flatten":
        y = x.reshape(n, -1)
        text, y = g.activations(name, y, f"flatten({cur})")
    elif op == "dropout":
        y = x
        text = f"dropout({cur}, p=0.3)"
    else:  # softmax or log_softmax over an image axis
        axis = rng.choice([1, -1, 2, 3, -3])
        fn = rng.choice(["softmax", "log_softmax"])
        y = torch.softmax(x, dim=axis) if fn == "softmax" else torch.log_softmax(x, dim=axis)
        text = f"{fn}({cur}, axis={axis})"
    g.bind(name, text, y)
    return name


def vector_step(g, cur):
    """One statement on a [N, F] value."""
    rng = g.rng
    n, f = g.shapes[cur]
    x = g.ref[cur]
    name = g.fresh()
    op = rng.choice(["dense", "dense", "dense", "maxout", "act", "act", "add", "mul",
                     "concat", "softmax", "dropout", "batchnorm"])
    if op in ("dense", "maxout"):
        units = rng.choice([1, 2, 3, 5, 10, 16, 17, 31, 64, 100])
        pieces = rng.randint(1, 4) if op == "maxout" else 1
        bias = rng.random() < 0.7 or op == "maxout"
        wt = g.weight(f"{name}.weight", [units * pieces, f], -1, 1, 1 / math.sqrt(f))
        b = g.weight(f"{name}.bias", [units * pieces], -0.5, 0.5) if bias else None
        y = F.linear(x, wt, b)
        if op == "maxout":
            y = y.reshape(n, units, pieces).amax(dim=2)
            # pieces=2 is the default: written out half of the time.
            spelled = pieces != 2 or rng.random() < 0.5
            call = f"maxout({cur}, {units}" + (f", pieces={pieces})" if spelled else ")")
        else:
            call = f"dense({cur}, {units}{'' if bias else ', bias=false'})"
        text, y = g.activations(name, y, call)
    elif op == "batchnorm":
        text, y = g.batchnorm(name, cur, x)
    elif op == "act":
        call, fn, wshape = activation(rng)
        wt = g.weight(f"{name}.weight", wshape(f), -0.6, 0.6) if wshape else None
        y = fn(x, wt)
        text = f"{cur} -> {call}"
        if not wshape:
            text, y = g.activations(name, y, text)
    elif op in ("add", "mul"):
        other = earlier(g, cur, lambda s: s == [n, f])
        if other is None and rng.random() < 0.5:
            other = f"b{g.count}"
            shape = rng.choice([[1, f], [f], [1]])
            g.add_input(other, shape, ", ".join(map(str, shape)))
            g.extra.add(other)
        other = other or cur
        y = g.ref[cur] + g.ref[other] if op == "add" else g.ref[cur] * g.ref[other]
        text, y = g.activations(name, y, f"{op}({cur}, {other})")
    elif op == "concat":
        other = earlier(g, cur, lambda s: len(s) == 2 and s[0] == n) or cur
        axis = rng.choice([1, -1])
        y = torch.cat([x, g.ref[other]], dim=1)
        text, y = g.activations(name, y, f"concat({cur}, {other}, axis={axis})")
    elif op == "softmax":
        axis = rng.choice([-1, 1, 0])
        fn = rng.choice(["softmax", "log_softmax"])
        y = torch.softmax(x, dim=axis) if fn == "softmax" else torch.log_softmax(x, dim=axis)
        text = f"{fn}({cur}" + ("" if axis == -1 and rng.random() < 0.5 else f", axis={axis}") + ")"
    else:
        y = x
        text = f"dropout({cur})"
    g.bind(name, text, y)
    return name


def draw(rng, steps):
    """A model: (Graph, output names)."""
    g = Graph(rng)
    batch = rng.randint(1, 3)
    symbolic = rng.random() < 0.7
    if rng.random() < 0.75:
        c, h, w = rng.randint(1, 8), rng.randint(1, 12), rng.randint(1, 12)
        g.add_input("x", [batch, c, h, w], f"{'N' if symbolic else batch}, {c}, {h}, {w}")
    else:
        f = rng.randint(1, 70)
        g.add_input("x", [batch, f], f"{'N' if symbolic else batch}, {f}")
    cur = "x"
    outputs = []
    for _ in range(rng.randint(2, steps)):
        cur = (image_step if len(g.shapes[cur]) == 4 else vector_step)(g, cur)
        if rng.random() < 0.1 and cur not in outputs:
            outputs.append(cur)
    if cur not in outputs:
        outputs.append(cur)
    return g, outputs


def model_text(g, outputs):
    return "model m {\n" + "\n".join(g.lines) + f"\n  output {', '.join(outputs)}\n}}\n"


def run_case(seed, steps, nnc, work, env):
    """Draws and runs one case on every ISA: a list of (isa, problem) and the model text."""
    rng = random.Random(seed)
    g, outputs = draw(rng, steps)
    text = model_text(g, outputs)
    (work / "m.nn").write_text(text)
    args = [nnc, "run", str(work / "m.nn")]
    if g.weights:
        mr.write_safetensors(work / "w.safetensors", g.weights)
        args += ["--weights", str(work / "w.safetensors")]
    for name, x in g.inputs.items():
        np.save(work / f"{name}.npy", x)
        args += ["--input", f"{name}={work / (name + '.npy')}"]
    for name in outputs:
        args += ["--output", f"{name}={work / ('out_' + name + '.npy')}"]
    problems = []
    for isa in ISAS:
        done = subprocess.run(args + ["--isa", isa, "--threads", str(rng.choice([1, 2]))],
                              capture_output=True, text=True, env=env)
        if done.returncode != 0:
            problems.append((isa, f"exit {done.returncode}: {done.stderr.strip()[-400:]}"))
            continue
        for name in outputs:
            want = g.ref[name].float().numpy()
            got = np.load(work / f"out_{name}.npy")
            error = mr.relative_error(got, want) if got.shape == want.shape else math.inf
            if not error <= 1e-4:
                problems.append((isa, f"{name}: error {error:.3g}, shape {list(got.shape)} "
                                      f"(want {list(want.shape)})"))
    return problems, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=6, help="statements per model, at most")
    parser.add_argument("--case", type=int, help="run only the case of this seed; keep files")
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--nnc", default=str(root / "build/release/tools/nnc/nnc"))
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nnc_graphs_"))
    env = dict(os.environ, NNC_CACHE_DIR=str(work / "cache"))
    if options.case is not None:
        problems, text = run_case(options.case, options.steps, options.nnc, work, env)
        print(text + "\n".join(f"{isa}: {p}" for isa, p in problems) + f"\nfiles in {work}")
        return 1 if problems else 0
    rng = random.Random(options.seed)
    deadline = time.time() + options.seconds
    cases = failures = 0
    while time.time() < deadline:
        seed = rng.randrange(1 << 40)
        problems, text = run_case(seed, options.steps, options.nnc, work, env)
        cases += 1
        if problems:
            failures += 1
            print(f"case {seed}:\n{text}" + "".join(f"  {isa}: {p}\n" for isa, p in problems),
                  flush=True)
    print(f"{cases} cases ({cases * len(ISAS)} runs), {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
