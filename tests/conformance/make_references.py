#!/usr/bin/env python3
"""Generate the PyTorch reference data of nnc's conformance tests.

For every case below this script builds the network of a `.nn` file (one of examples/*.nn or
tests/conformance/models/*.nn) as the equivalent PyTorch module, gives it deterministic random
weights, runs it on deterministic random inputs and writes, into tests/conformance/data/:

    <case>/weights.safetensors      the weights, under the exact names nnc expects (F32)
    <case>/<input>.npy              one float32 array per model input
    <case>/expected_<output>.npy    PyTorch's result for each model output (float32)
    cases.json                      the manifest read by tests/conformance/conformance_test.cpp

Run it from anywhere, with the interpreter that has PyTorch (Debian's python3-torch):

    /usr/bin/python3 tests/conformance/make_references.py

The output is reproducible: each case seeds torch from a hash of its name, so adding or
removing a case leaves the data of the others unchanged. The data directory is deleted and
written again on every run.

Conventions:
- symbolic batch dimensions (N) are bound to 2;
- weights: dense/conv2d/maxout uniform(-1, 1)/sqrt(fan_in) (times sqrt(3) for mlp), batchnorm
  weight in [0.75, 1.25], bias in [-0.25, 0.25], running_mean in [-0.5, 0.5], running_var in
  [0.5, 1.5], prelu slopes in [0.05, 0.5]; inputs uniform(-2, 2) unless a case says otherwise;
- references are computed by PyTorch (eval mode, no_grad) in float64 from the float32 weights
  and inputs, then rounded to float32, so that they carry no float32 rounding of their own.
  The script also runs the float32 model and prints its distance to the float64 result in the
  C++ test's measure (what PyTorch itself would score), and fails above 3e-5: such a case
  would be too ill-conditioned for the test's 1e-4;
- at x = ±inf the language reference requires the mathematical limit of every activation;
  where PyTorch gives NaN instead (activations_special), the expected value is the limit;
- when build/release/tools/nnc/nnc exists (or --nnc PATH is given), every case is checked
  against `nnc ir`: the weight names and shapes, the input names and shapes and the output
  names and shapes must all be exactly what nnc expects. Pass --no-nnc to skip this check;
- the safetensors file is written by the small writer below (no dependency on the
  `safetensors` package): 8-byte little-endian header length, a JSON header whose entries are
  in sorted name order, padded with spaces to a multiple of 8 bytes, then the raw F32 data.
  `--f16 CASE` stores that case's weights as F16 instead (the reference then uses the
  f16-rounded weights). The mlp example is always stored as F16: it halves its 2.6 MB, and
  it tests the F16 path of the reader.
"""

import argparse
import json
import math
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "conformance" / "data"
MODELS = "tests/conformance/models"
DEFAULT_NNC = ROOT / "build" / "release" / "tools" / "nnc" / "nnc"
BATCH = 2  # the value of every symbolic batch dimension N
# The float32 PyTorch model may differ from the float64 reference by at most this much, in
# the C++ test's measure (which allows nnc 1e-4): a larger gap means that the case is so
# ill-conditioned that a correct float32 implementation could fail it.
F32_BUDGET = 3e-5


# ---------------------------------------------------------------------------------------------
# Files


def write_safetensors(path, tensors, f16=False):
    """Writes {name: array} as a safetensors file: F32 (or F16 when f16 is set) little-endian,
    tensors in sorted name order, header padded with spaces to a multiple of 8 bytes."""
    dtype, code = ("<f2", "F16") if f16 else ("<f4", "F32")
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype=dtype)
        blob = array.tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for blob in blobs:
            out.write(blob)


def read_safetensors(path):
    """Reads back a file of write_safetensors (F32/F16 only), as {name: float32 array}."""
    raw = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    body = raw[8 + length:]
    result = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = {"F32": "<f4", "F16": "<f2"}[entry["dtype"]]
        array = np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"])
        result[name] = array.astype(np.float32)
    return result


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# Networks: modules registered under the weight-name prefixes nnc gives them


class Maxout(nn.Module):
    """maxout(x, units, pieces): z = x·Wᵀ + b with units·pieces outputs, then
    y[..., j] = max_k z[..., j·pieces + k] (the language reference, section 5). The weight rows
    of unit j are rows j·pieces … j·pieces + pieces − 1 (unit-major)."""

    def __init__(self, inputs, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.weight = nn.Parameter(torch.empty(units * pieces, inputs))
        self.bias = nn.Parameter(torch.empty(units * pieces))

    def forward(self, x):
        z = F.linear(x, self.weight, self.bias)
        return z.view(*z.shape[:-1], self.units, self.pieces).max(dim=-1).values


class Net(nn.Module):
    """A network whose layers are registered under nnc's weight-name prefixes: the module
    registered as "c1.prelu" owns the tensors nnc calls c1.prelu.weight, etc."""

    PARAMS = ("weight", "bias", "running_mean", "running_var")

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList()
        self.prefixes = []

    def layer(self, prefix, module):
        assert prefix not in self.prefixes, prefix
        self.layers.append(module)
        self.prefixes.append(prefix)
        return module

    def nnc_weights(self):
        """{nnc weight name: float32 numpy array}."""
        weights = {}
        for prefix, module in zip(self.prefixes, self.layers):
            for param in self.PARAMS:
                tensor = getattr(module, param, None)
                if isinstance(tensor, torch.Tensor):
                    weights[f"{prefix}.{param}"] = tensor.detach().float().numpy().copy()
        return weights

    @torch.no_grad()
    def initialize(self, gain=1.0):
        """Deterministic, well-scaled random weights (the global torch RNG, seeded per case):
        dense, conv2d and maxout weights and biases uniform(-gain, gain)/sqrt(fan_in); batchnorm
        weight in [0.75, 1.25], bias in [-0.25, 0.25], running_mean in [-0.5, 0.5],
        running_var in [0.5, 1.5]; prelu slopes in [0.05, 0.5]."""

        def uniform(tensor, low, high):
            tensor.copy_(torch.rand(tensor.shape) * (high - low) + low)

        for module in self.layers:
            if isinstance(module, (nn.Linear, nn.Conv2d, Maxout)):
                bound = gain / math.sqrt(module.weight[0].numel())  # fan_in
                uniform(module.weight, -bound, bound)
                if module.bias is not None:
                    uniform(module.bias, -bound, bound)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                uniform(module.weight, 0.75, 1.25)
                uniform(module.bias, -0.25, 0.25)
                uniform(module.running_mean, -0.5, 0.5)
                uniform(module.running_var, 0.5, 1.5)
            elif isinstance(module, nn.PReLU):
                uniform(module.weight, 0.05, 0.5)
            else:
                raise TypeError(f"no initializer for {type(module).__name__}")


def conv(cin, cout, kernel, stride=1, pad=0, dilation=1, groups=1, bias=True):
    """nnc's conv2d: nn.Conv2d with the same attributes ("same" as in PyTorch)."""
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, dilation=dilation,
                     groups=groups, bias=bias)


def global_avgpool(x):
    return x.mean(dim=(2, 3), keepdim=True)


def hard_sigmoid(x, alpha=1.0 / 6.0, beta=0.5):
    """clamp(alpha·x + beta, 0, 1); the defaults are PyTorch's Hardsigmoid."""
    return torch.clamp(alpha * x + beta, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Inputs


def uniform_input(low=-2.0, high=2.0):
    def make(shape):
        return torch.rand(shape) * (high - low) + low
    return make


def shifted_input(scale, axis, offsets=(0.0, 120.0, -120.0, 1000.0, -1000.0, 60.0)):
    """uniform(-scale, scale) plus an offset that is constant along `axis` (softmax and
    log_softmax are invariant to it; without the max subtraction exp overflows)."""
    def make(shape):
        x = torch.rand(shape) * (2 * scale) - scale
        offset_shape = list(shape)
        offset_shape[axis] = 1
        choices = torch.tensor(offsets)
        index = torch.randint(len(offsets), offset_shape)
        return x + choices[index]
    return make


def with_values(maker, values):
    """maker's input with `values` written at random places (e.g. the exact thresholds of the
    activations, where `>` and `>=` differ)."""
    def make(shape):
        x = maker(shape)
        x.view(-1)[torch.randperm(x.numel())[:len(values)]] = torch.tensor(values)
        return x
    return make


SPECIAL = [math.inf, -math.inf, math.nan]


def special_input(shape):
    """uniform(-8, 8) with ±inf and NaN at random places (12 of each) and exact zeros."""
    x = torch.rand(shape) * 16 - 8
    flat = x.view(-1)
    places = torch.randperm(flat.numel())[:40]
    values = SPECIAL * 12 + [0.0, -0.0, 1.0, -1.0]
    flat[places] = torch.tensor(values)
    return x


def extreme_input(shape):
    """Large finite magnitudes: ±10^u with u uniform in [-3, 30], plus a fixed set of values
    around the float32 exp overflow (±88.7) and of large round numbers."""
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
    x = sign * torch.pow(10.0, torch.rand(shape) * 33 - 3)
    fixed = [20, 30, 44, 50, 80, 88, 88.7, 89, 90, 100, 1e3, 1e4, 1e6, 1e10, 1e20, 1e30]
    fixed = torch.tensor(fixed + [-v for v in fixed], dtype=torch.float32)
    x.view(-1)[torch.randperm(x.numel())[:fixed.numel()]] = fixed
    return x


# ---------------------------------------------------------------------------------------------
# Cases


class Case:
    def __init__(self, name, model, build, inputs, note, model_name, spec_limits, gain):
        self.name, self.model, self.build = name, model, build
        self.inputs = inputs  # {name: (shape, maker)}, in declaration order
        self.note, self.model_name = note, model_name
        self.spec_limits = spec_limits  # patch PyTorch's NaN at ±inf with SPEC_LIMITS
        self.gain = gain  # weight scale, see Net.initialize


CASES = []


def case(name, model, inputs, note, model_name=None, spec_limits=False, gain=1.0):
    """Registers `build(net) -> forward(**inputs) -> {output: tensor}` as a case.
    `inputs` maps each input name to its shape, or to (shape, maker)."""
    def register(build):
        normalized = {}
        for key, value in inputs.items():
            if isinstance(value, tuple) and callable(value[1]):
                normalized[key] = value
            else:
                normalized[key] = (list(value), uniform_input())
        CASES.append(Case(name, model, build, normalized, note, model_name, spec_limits, gain))
        return build
    return register


def op_model(name):
    return f"{MODELS}/{name}.nn"


# --- the example networks --------------------------------------------------------------------


# Weights of gain sqrt(3) (variance 1/fan_in): with gain 1 the three layers shrink the logits
# so much that the softmax is almost uniform.
@case("mlp", "examples/mlp.nn", {"x": [BATCH, 784]},
      "examples/mlp.nn: dense 784-512-512-10 with relu, leaky_relu(0.1), softmax",
      gain=math.sqrt(3.0))
def build_mlp(net):
    h1 = net.layer("h1", nn.Linear(784, 512))
    h2 = net.layer("h2", nn.Linear(512, 512))
    y = net.layer("y", nn.Linear(512, 10))

    def forward(x):
        a = F.relu(h1(x))
        b = F.leaky_relu(h2(a), 0.1)
        return {"y": torch.softmax(y(b), dim=-1)}
    return forward


@case("lenet", "examples/lenet.nn", {"image": [BATCH, 1, 28, 28]},
      "examples/lenet.nn: conv2d (pad 2 and none), shared and per-channel prelu, maxpool 2, "
      "flatten, maxout (2 pieces), dense, softmax; two outputs")
def build_lenet(net):
    c1 = net.layer("c1", conv(1, 6, 5, pad=2))
    c1_prelu = net.layer("c1.prelu", nn.PReLU(1))
    c2 = net.layer("c2", conv(6, 16, 5))
    c2_prelu = net.layer("c2.prelu", nn.PReLU(16))
    h = net.layer("h", Maxout(400, 120, 2))
    h2 = net.layer("h2", nn.Linear(120, 84))
    h2_prelu = net.layer("h2.prelu", nn.PReLU(1))
    logits = net.layer("logits", nn.Linear(84, 10))

    def forward(image):
        a = F.max_pool2d(c1_prelu(c1(image)), 2)
        b = F.max_pool2d(c2_prelu(c2(a)), 2)
        f = torch.flatten(b, 1)
        out = logits(h2_prelu(h2(h(f))))
        return {"logits": out, "probs": torch.softmax(out, dim=-1)}
    return forward


def conv_bn(net, prefix, cin, cout, kernel, stride=1, pad=0, groups=1):
    """conv2d(..., bias=false) -> batchnorm, with nnc's names `prefix` and `prefix.batchnorm`."""
    c = net.layer(prefix, conv(cin, cout, kernel, stride, pad, groups=groups, bias=False))
    bn = net.layer(prefix + ".batchnorm", nn.BatchNorm2d(cout, eps=1e-5))
    return lambda x: bn(c(x))


@case("resnet", "examples/resnet.nn", {"image": [BATCH, 3, 32, 32]},
      "examples/resnet.nn: blocks (basic, down) with conv2d+batchnorm+relu, strided 3x3 and "
      "1x1 shortcut convolutions, residual add, global_avgpool, flatten, dense")
def build_resnet(net):
    def basic(prefix, channels):
        a = conv_bn(net, prefix + ".a", channels, channels, 3, pad=1)
        b = conv_bn(net, prefix + ".b", channels, channels, 3, pad=1)
        return lambda x: F.relu(x + b(F.relu(a(x))))

    def down(prefix, cin, channels):
        a = conv_bn(net, prefix + ".a", cin, channels, 3, stride=2, pad=1)
        b = conv_bn(net, prefix + ".b", channels, channels, 3, pad=1)
        skip = conv_bn(net, prefix + ".skip", cin, channels, 1, stride=2)
        return lambda x: F.relu(skip(x) + b(F.relu(a(x))))

    stem = conv_bn(net, "stem", 3, 16, 3, pad=1)
    s1 = basic("s1", 16)
    s2 = basic("s2", 16)  # s2 = s1 -> basic(16): the block is the statement's first op
    s3 = down("s3", 16, 32)
    s4 = basic("s4", 32)
    logits = net.layer("logits", nn.Linear(32, 10))

    def forward(image):
        x = s4(s3(s2(s1(F.relu(stem(image))))))
        return {"logits": logits(torch.flatten(global_avgpool(x), 1))}
    return forward


@case("mobilenet", "examples/mobilenet.nn", {"image": [BATCH, 3, 64, 64]},
      "examples/mobilenet.nn: inverted residual blocks with 1x1 and depthwise (strided) "
      "conv2d, batchnorm, hard_swish, squeeze-and-excitation (global_avgpool, hard_sigmoid, "
      "broadcast mul), residual add, dropout, dense; weights in block return chains")
def build_mobilenet(net):
    def se(prefix, channels, squeezed):
        s = net.layer(prefix + ".s.conv2d", conv(channels, squeezed, 1))
        gate = net.layer(prefix + ".gate", conv(squeezed, channels, 1))
        return lambda x: x * F.hardsigmoid(gate(F.relu(s(global_avgpool(x)))))

    def inverted(prefix, cin, expanded, out, stride):
        e = conv_bn(net, prefix + ".e", cin, expanded, 1)
        d = conv_bn(net, prefix + ".d", expanded, expanded, 3, stride=stride, pad=1,
                    groups=expanded)
        g = se(prefix + ".g", expanded, 8)
        project = net.layer(prefix + ".conv2d", conv(expanded, out, 1, bias=False))
        bn = net.layer(prefix + ".batchnorm", nn.BatchNorm2d(out))
        return lambda x: bn(project(g(F.hardswish(d(F.hardswish(e(x)))))))

    stem = conv_bn(net, "stem", 3, 16, 3, stride=2, pad=1)
    b1 = inverted("b1", 16, 32, 16, 1)
    b2 = inverted("b2", 16, 64, 24, 2)
    b3 = inverted("b3", 24, 96, 24, 1)
    head = net.layer("head", conv(24, 128, 1))
    logits = net.layer("logits.dense", nn.Linear(128, 10))

    def forward(image):
        s = F.hardswish(stem(image))
        r1 = s + b1(s)
        x2 = b2(r1)
        r3 = x2 + b3(x2)
        h = torch.flatten(global_avgpool(F.hardswish(head(r3))), 1)
        return {"logits": logits(F.dropout(h, 0.2, training=False))}
    return forward


# --- one operator per model ------------------------------------------------------------------


def single(name, note, inputs, make_layer, apply=None):
    """A case whose model has one input x, one output y = op(x) and at most one layer `y`."""
    @case(name, op_model(name), inputs, note)
    def build(net):
        layer = net.layer("y", make_layer()) if make_layer else None
        fn = apply or layer

        def forward(x):
            return {"y": fn(x)}
        return forward


IMAGE = [BATCH, 4, 9, 11]  # non-square, so that swapped height and width show

single("dense_bias", "dense with bias on a 3-D input: applies to the last axis",
       {"x": [BATCH, 3, 5]}, lambda: nn.Linear(5, 4))
single("dense_no_bias", "dense with bias=false on a 3-D input",
       {"x": [BATCH, 3, 5]}, lambda: nn.Linear(5, 4, bias=False))
single("conv2d_stride2", "conv2d 3x3, stride 2, no padding, 9x11 -> 4x5",
       {"x": IMAGE}, lambda: conv(4, 6, 3, stride=2))
single("conv2d_pad1", "conv2d 3x3, pad 1",
       {"x": IMAGE}, lambda: conv(4, 6, 3, pad=1))
single("conv2d_stride2_pad1", "conv2d 3x3, stride 2, pad 1",
       {"x": IMAGE}, lambda: conv(4, 6, 3, stride=2, pad=1))
single("conv2d_same_even", 'conv2d pad="same" with an even 4x4 kernel: 1 before, 2 after',
       {"x": IMAGE}, lambda: conv(4, 6, 4, pad="same"))
single("conv2d_same_mixed",
       'conv2d pad="same", kernel [2, 5], dilation [1, 2]: odd total padding in height, '
       "even in width", {"x": IMAGE}, lambda: conv(4, 6, (2, 5), pad="same", dilation=(1, 2)))
single("conv2d_dilation2", "conv2d 3x3, dilation 2, pad 1",
       {"x": IMAGE}, lambda: conv(4, 6, 3, pad=1, dilation=2))
single("conv2d_groups2", "conv2d with groups=2 (4 -> 6 channels)",
       {"x": IMAGE}, lambda: conv(4, 6, 3, pad=1, groups=2))
single("conv2d_depthwise", "depthwise conv2d (groups = channels = filters = 4), stride 2, pad 1",
       {"x": IMAGE}, lambda: conv(4, 4, 3, stride=2, pad=1, groups=4))
single("conv2d_depthwise_mult2", "depthwise conv2d with channel multiplier 2 (groups 4, 8 filters)",
       {"x": IMAGE}, lambda: conv(4, 8, 3, pad=1, groups=4))
single("conv2d_1x1_no_bias", "1x1 conv2d without bias",
       {"x": IMAGE}, lambda: conv(4, 6, 1, bias=False))
single("conv2d_rect", "conv2d with kernel [3, 1], stride [2, 1], pad [1, 0]",
       {"x": IMAGE}, lambda: conv(4, 6, (3, 1), stride=(2, 1), pad=(1, 0)))
single("conv2d_rect_wide", "conv2d with kernel [3, 5], stride [1, 2], pad [0, 2]",
       {"x": IMAGE}, lambda: conv(4, 6, (3, 5), stride=(1, 2), pad=(0, 2)))
single("maxpool_k3_s2_p1",
       "maxpool kernel 3, stride 2, pad 1 (padding is -inf); inputs mostly negative",
       {"x": ([BATCH, 3, 9, 11], uniform_input(-3.5, 0.5))}, None,
       lambda x: F.max_pool2d(x, 3, stride=2, padding=1))
single("maxpool_default_stride", "maxpool kernel 2, default stride: 9x11 -> 4x5",
       {"x": [BATCH, 3, 9, 11]}, None, lambda x: F.max_pool2d(x, 2))
single("avgpool_pad1", "avgpool kernel 3, stride 2, pad 1, padded zeros counted",
       {"x": [BATCH, 3, 9, 11]}, None,
       lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=True))
single("avgpool_default_stride", "avgpool kernel [2, 3], default stride: 9x11 -> 4x3",
       {"x": [BATCH, 3, 9, 11]}, None, lambda x: F.avg_pool2d(x, (2, 3)))
single("global_avgpool", "global_avgpool: [N, 5, 7, 9] -> [N, 5, 1, 1]",
       {"x": [BATCH, 5, 7, 9]}, None, global_avgpool)
single("batchnorm_4d", "batchnorm on a 4-D input, default eps",
       {"x": [BATCH, 4, 5, 6]}, lambda: nn.BatchNorm2d(4, eps=1e-5))
single("batchnorm_2d", "batchnorm on a 2-D [N, C] input, eps=0.001",
       {"x": [BATCH, 6]}, lambda: nn.BatchNorm1d(6, eps=1e-3))
single("maxout_pieces3",
       "maxout 4 units x 3 pieces on a 3-D input; unit j takes the max of rows 3j..3j+2",
       {"x": [BATCH, 3, 6]}, lambda: Maxout(6, 4, 3))
single("flatten", "flatten [N, 3, 4, 5] -> [N, 60]",
       {"x": [BATCH, 3, 4, 5]}, None, lambda x: torch.flatten(x, 1))
single("prelu_shared", "prelu with one shared slope on a 4-D input",
       {"x": [BATCH, 4, 3, 5]}, lambda: nn.PReLU(1))
single("prelu_per_channel", "prelu with per-channel slopes on a 4-D input",
       {"x": [BATCH, 4, 3, 5]}, lambda: nn.PReLU(4))
single("prelu_per_channel_2d", "prelu with per-channel slopes on a 2-D [N, C] input",
       {"x": [BATCH, 6]}, lambda: nn.PReLU(6))

for _shape, _axis in (("axis1", 1), ("default", -1)):
    _dims = [BATCH, 5, 3, 4] if _axis == 1 else [BATCH, 3, 7]
    _axis_text = "axis 1 of a 4-D input" if _axis == 1 else "the default (last) axis"
    single(f"softmax_{_shape}",
           f"softmax over {_axis_text}; inputs +-50 plus offsets up to +-1000 that are "
           "constant along the axis (stability)",
           {"x": (_dims, shifted_input(50.0, _axis))}, None,
           lambda x, a=_axis: torch.softmax(x, dim=a))
    single(f"log_softmax_{_shape}",
           f"log_softmax over {_axis_text}; inputs +-50 plus offsets up to +-1000 that are "
           "constant along the axis (stability)",
           {"x": (_dims, shifted_input(50.0, _axis))}, None,
           lambda x, a=_axis: torch.log_softmax(x, dim=a))


def binary(name, op, shape_a, shape_b, note):
    @case(name, op_model(name), {"a": shape_a, "b": shape_b}, note)
    def build(net):
        return lambda a, b: {"y": op(a, b), "z": op(b, a)}


binary("add_broadcast_channel", torch.add, [BATCH, 3, 4, 4], [BATCH, 3, 1, 1],
       "add, [N,3,4,4] with [N,3,1,1], both operand orders")
binary("mul_broadcast_channel", torch.mul, [BATCH, 3, 4, 4], [BATCH, 3, 1, 1],
       "mul, [N,3,4,4] with [N,3,1,1], both operand orders")
binary("add_broadcast_vector", torch.add, [BATCH, 3, 4], [4],
       "add, [N,3,4] with [4], both operand orders")
binary("mul_broadcast_vector", torch.mul, [BATCH, 3, 4], [4],
       "mul, [N,3,4] with [4], both operand orders")


@case("concat_axis1", op_model("concat_axis1"),
      {"a": [BATCH, 2, 3, 4], "b": [BATCH, 3, 3, 4], "c": [BATCH, 1, 3, 4]},
      "concat of three inputs on axis 1, given explicitly and by default, in two orders")
def build_concat_axis1(net):
    return lambda a, b, c: {"y": torch.cat([a, b, c], dim=1), "z": torch.cat([c, a, b], dim=1)}


@case("concat_last_axis", op_model("concat_last_axis"),
      {"a": [BATCH, 3, 2], "b": [BATCH, 3, 4], "c": [BATCH, 3, 1]},
      "concat of three inputs on the last axis (axis=-1)")
def build_concat_last(net):
    return lambda a, b, c: {"y": torch.cat([a, b, c], dim=-1)}


@case("dropout", op_model("dropout"), {"x": [BATCH, 6]},
      "dropout is the identity at inference (after a dense, and directly on an input)")
def build_dropout(net):
    y = net.layer("y", nn.Linear(6, 5))
    return lambda x: {"y": F.dropout(y(x), 0.3, training=False),
                      "z": F.dropout(x, 0.9, training=False)}


@case("multi_model", op_model("multi_model"), {"x": [BATCH, 8]},
      "a file with two models, the second selected by name; block weights reached through "
      "a later link of a chain (y.head.h.*, y.head.dense.*); tanh and log_softmax",
      model_name="second")
def build_multi_model(net):
    h = net.layer("y.head.h", nn.Linear(8, 6))
    out = net.layer("y.head.dense", nn.Linear(6, 4))
    return lambda x: {"y": torch.log_softmax(out(torch.tanh(h(F.relu(x)))), dim=-1)}


# --- activations -----------------------------------------------------------------------------


def activations(net):
    """{output name: function} for tests/conformance/models/activations.nn."""
    prelu = net.layer("a_prelu", nn.PReLU(1))
    return {
        "a_relu": F.relu,
        "a_relu6": F.relu6,
        "a_leaky_relu": lambda x: F.leaky_relu(x, 0.2),
        "d_leaky_relu": lambda x: F.leaky_relu(x, 0.01),
        "a_prelu": prelu,
        "a_elu": lambda x: F.elu(x, 0.7),
        "d_elu": lambda x: F.elu(x, 1.0),
        "a_selu": F.selu,
        "a_celu": lambda x: F.celu(x, 1.7),
        "d_celu": lambda x: F.celu(x, 1.0),
        "a_sigmoid": torch.sigmoid,
        "a_tanh": torch.tanh,
        "a_softplus": lambda x: F.softplus(x, beta=2, threshold=10),
        "d_softplus": lambda x: F.softplus(x, beta=1, threshold=20),
        "a_softsign": F.softsign,
        "a_gelu": lambda x: F.gelu(x, approximate="none"),
        "a_gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "d_gelu": F.gelu,
        "a_silu": F.silu,
        "a_mish": F.mish,
        "a_hard_sigmoid": lambda x: hard_sigmoid(x, 0.2, 0.4),
        "d_hard_sigmoid": F.hardsigmoid,
        "a_hard_swish": F.hardswish,
        "a_hard_tanh": lambda x: F.hardtanh(x, -2.0, 3.0),
        "d_hard_tanh": lambda x: F.hardtanh(x, -1.0, 1.0),
        "a_clamp": lambda x: torch.clamp(x, -1.5, 4.0),
        "a_thresholded_relu": lambda x: F.threshold(x, 0.5, 0.0),
        "d_thresholded_relu": lambda x: F.threshold(x, 1.0, 0.0),
        "a_identity": lambda x: x,
    }


# The mathematical limits at ±inf that the language reference requires ("±inf to the
# mathematical limit") where PyTorch returns NaN instead. Only these may be patched.
SPEC_LIMITS = {
    "a_softsign": {math.inf: 1.0, -math.inf: -1.0},
    "a_gelu": {-math.inf: -0.0},
    "a_gelu_tanh": {-math.inf: -0.0},
    "d_gelu": {-math.inf: -0.0},
    "a_silu": {-math.inf: -0.0},
    "a_mish": {-math.inf: -0.0},
    "a_hard_swish": {-math.inf: -0.0},
}


def activation_case(name, maker, note, spec_limits=False):
    @case(name, op_model("activations"), {"x": ([BATCH, 3, 4, 5], maker)}, note,
          spec_limits=spec_limits)
    def build(net):
        functions = activations(net)
        return lambda x: {key: fn(x) for key, fn in functions.items()}


# The exact breakpoints of the activations: thresholded_relu gives 0 at x = alpha (0.5, 1).
BREAKPOINTS = [0.0, -0.0, 0.5, 1.0, -1.0, 6.0, 3.0, -2.0, -1.5, 4.0, 5.0, -3.0, 0.5, 1.0]
activation_case("activations", with_values(uniform_input(-8.0, 8.0), BREAKPOINTS),
                "every activation of section 5, non-default (a_*) and default (d_*) "
                "attributes, one output each, inputs uniform(-8, 8) and the exact breakpoints "
                "(0, thresholds, clamp bounds)")
activation_case("activations_extreme", extreme_input,
                "every activation on large finite inputs (|x| up to 1e30, values around the "
                "float32 exp overflow): no NaN or inf from intermediate overflow")
activation_case("activations_special", special_input,
                "every activation on ±inf and NaN mixed with uniform(-8, 8): NaN stays NaN, "
                "±inf maps to the mathematical limit (the language reference); where PyTorch "
                "1.13 gives NaN instead (softsign(±inf), gelu/silu/mish/hard_swish(-inf)) the "
                "expected value is the limit", spec_limits=True)


# ---------------------------------------------------------------------------------------------
# nnc's view of a model (from `nnc ir`)

IR_VALUE = re.compile(r"^\s*%(\S+) = .* : f32\[([^\]]*)\]( weights \[(.*)\])?\s*$")
IR_INPUT = re.compile(r"^\s*input %(\S+) : f32\[([^\]]*)\]\s*$")
IR_OUTPUT = re.compile(r"^\s*output %(\S+)\s*$")
IR_WEIGHT = re.compile(r"([^\s,\[\]]+): \[([0-9, ]*)\]")


def parse_dims(text):
    dims = []
    for item in text.split(","):
        item = item.strip()
        dims.append(int(item) if item.isdigit() else item)
    return dims


def bind(dims):
    """Binds the batch symbol N to BATCH; any other symbol is unexpected here."""
    bound = []
    for dim in dims:
        if isinstance(dim, int):
            bound.append(dim)
        elif dim == "N":
            bound.append(BATCH)
        else:
            raise ValueError(f"unbound symbol {dim}")
    return bound


def nnc_view(nnc, c):
    command = [str(nnc), "ir", str(ROOT / c.model)]
    if c.model_name:
        command += ["--model", c.model_name]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    inputs, outputs, weights, types = {}, [], {}, {}
    for line in text.splitlines():
        if m := IR_INPUT.match(line):
            inputs[m[1]] = bind(parse_dims(m[2]))
            types[m[1]] = inputs[m[1]]
        elif m := IR_VALUE.match(line):
            types[m[1]] = bind(parse_dims(m[2]))
            for w in IR_WEIGHT.finditer(m[4] or ""):
                weights[w[1]] = [int(d) for d in w[2].split(",") if d.strip()]
        elif m := IR_OUTPUT.match(line):
            outputs.append(m[1])
    return inputs, {name: types[name] for name in outputs}, weights


def check_against_nnc(nnc, c, inputs, outputs, weights):
    want_inputs, want_outputs, want_weights = nnc_view(nnc, c)
    problems = []

    def compare(kind, got, want):
        for name in sorted(set(got) | set(want)):
            if name not in want:
                problems.append(f"{kind} {name} is not in nnc's model")
            elif name not in got:
                problems.append(f"{kind} {name} {want[name]} is missing")
            elif list(got[name]) != list(want[name]):
                problems.append(f"{kind} {name}: shape {list(got[name])}, nnc wants {want[name]}")

    compare("input", {k: list(v.shape) for k, v in inputs.items()}, want_inputs)
    compare("output", {k: list(v.shape) for k, v in outputs.items()}, want_outputs)
    compare("weight", {k: list(v.shape) for k, v in weights.items()}, want_weights)
    if problems:
        raise SystemExit(f"case {c.name} does not match `nnc ir {c.model}`:\n  "
                         + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------------
# Running the cases


def relative_error(got, want):
    """The C++ test's measure: max |got − want| / max(|want|, 1% of max |want|), NaN and inf
    compared exactly."""
    got, want = got.astype(np.float64), want.astype(np.float64)
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return math.inf
    special = np.isinf(got) | np.isinf(want)
    if np.any(got[special] != want[special]):
        return math.inf
    finite = ~(np.isnan(want) | special)
    if not finite.any():
        return 0.0
    floor = max(np.abs(want[~np.isnan(want)]).max() * 1e-2, 1e-30)  # inf when want has inf
    got, want = got[finite], want[finite]
    return float((np.abs(got - want) / np.maximum(np.abs(want), floor)).max())


def apply_spec_limits(name, x, y):
    """Replaces PyTorch's NaN at x = ±inf by the limit required by the language reference;
    returns how many entries were replaced."""
    torch_nan = torch.isnan(y) & ~torch.isnan(x)
    if not torch_nan.any():
        return 0
    limits = SPEC_LIMITS.get(name, {})
    for place in torch_nan.nonzero().tolist():
        place = tuple(place)
        value = float(x[place])
        if value not in limits:
            raise SystemExit(f"PyTorch gives NaN for {name}({value}) and no limit is known")
        y[place] = limits[value]
    return int(torch_nan.sum())


@torch.no_grad()
def run_case(c, f16_cases, nnc):
    seed = zlib.crc32(c.name.encode("utf-8"))
    torch.manual_seed(seed)
    net = Net()
    forward = c.build(net)
    net.initialize(c.gain)
    net.eval()
    inputs = {name: maker(shape).float() for name, (shape, maker) in c.inputs.items()}

    f16 = c.name in f16_cases
    if f16:  # the reference must use the weights nnc will read: round them to f16
        for module in net.layers:
            for param in Net.PARAMS:
                tensor = getattr(module, param, None)
                if isinstance(tensor, torch.Tensor):
                    tensor.copy_(tensor.half().float())

    f32_outputs = forward(**inputs)
    net.double()
    outputs = forward(**{k: v.double() for k, v in inputs.items()})
    net.float()
    weights = net.nnc_weights()

    patched = 0
    if c.spec_limits:
        for name, y in outputs.items():
            patched += apply_spec_limits(name, inputs["x"].double(), y)
            apply_spec_limits(name, inputs["x"], f32_outputs[name])
    expected = {k: v.float().numpy() for k, v in outputs.items()}

    if nnc:
        check_against_nnc(nnc, c, inputs, expected, weights)

    worst = 0.0
    for name, want in expected.items():
        error = relative_error(f32_outputs[name].numpy(), want)
        if error > F32_BUDGET:
            raise SystemExit(f"case {c.name}, output {name}: PyTorch float32 is {error:.2e} from "
                             "float64; the case is ill-conditioned")
        worst = max(worst, error)

    directory = DATA / c.name
    directory.mkdir(parents=True)
    entry = {"name": c.name, "model": c.model, "model_name": c.model_name, "weights": None,
             "inputs": {}, "outputs": {}, "note": c.note}
    if weights:
        path = directory / "weights.safetensors"
        write_safetensors(path, weights, f16=f16)
        back = read_safetensors(path)
        assert back.keys() == weights.keys()
        for name, array in weights.items():
            assert np.array_equal(back[name], array), name
        entry["weights"] = path.relative_to(ROOT).as_posix()
    for name, tensor in inputs.items():
        path = directory / f"{name}.npy"
        save_npy(path, tensor.numpy())
        entry["inputs"][name] = path.relative_to(ROOT).as_posix()
    for name, array in expected.items():
        path = directory / f"expected_{name}.npy"
        save_npy(path, array)
        entry["outputs"][name] = path.relative_to(ROOT).as_posix()

    size = sum(p.stat().st_size for p in directory.iterdir())
    finite = np.concatenate([a[np.isfinite(a)].astype(np.float64) for a in expected.values()])
    print(f"{c.name:24s} {size / 1024:8.1f} KiB  weights {len(weights):3d}  "
          f"outputs {len(expected):2d}  |y| <= {np.abs(finite).max():9.3g}  "
          f"std(y) {finite.std():8.3g}  f32 vs f64 {worst:.1e}"
          + (f"  ({patched} limits from the spec)" if patched else "")
          + ("  [F16 weights]" if f16 else ""))
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nnc", type=Path, default=None,
                        help=f"nnc binary for the name/shape check (default: {DEFAULT_NNC} "
                             "if it exists)")
    parser.add_argument("--no-nnc", action="store_true", help="skip the check against nnc ir")
    parser.add_argument("--f16", action="append", default=["mlp"], metavar="CASE",
                        help="store the weights of CASE as F16 (halves their size; the "
                             "reference then uses the f16-rounded weights); repeatable")
    args = parser.parse_args()

    nnc = None
    if not args.no_nnc:
        nnc = args.nnc or (DEFAULT_NNC if DEFAULT_NNC.exists() else None)
        if nnc is None:
            print("warning: no nnc binary, weight names and shapes are not checked",
                  file=sys.stderr)
    unknown = set(args.f16) - {c.name for c in CASES}
    if unknown:
        parser.error(f"unknown case(s) for --f16: {', '.join(sorted(unknown))}")

    torch.set_num_threads(1)  # one thread: reductions in a fixed order
    # PyTorch's note that pad="same" with an even kernel copies the input: expected here.
    warnings.filterwarnings("ignore", message="Using padding='same'")
    if DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True)
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    manifest = [run_case(c, set(args.f16), nnc) for c in CASES]
    with open(DATA / "cases.json", "w") as out:
        json.dump(manifest, out, indent=2)
        out.write("\n")
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"{len(manifest)} cases, {total / 1024 / 1024:.2f} MiB in {DATA.relative_to(ROOT)}"
          f" (PyTorch {torch.__version__}, NumPy {np.__version__})")


if __name__ == "__main__":
    main()
