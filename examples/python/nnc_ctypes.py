#!/usr/bin/python3
"""Calls nnc from Python through its C API (nnc/nnc.h) with ctypes: numpy arrays in and out.

As a program it compiles the MLP example, loads its weights, runs a batch and checks the result
against the same network computed with numpy from the weight file:

    /usr/bin/python3 examples/python/nnc_ctypes.py --library build/release/compiler/libnnc.so \\
        --model examples/mlp.nn --weights mlp.safetensors
"""
import argparse
import ctypes
import json
import struct
import sys

import numpy as np

MAX_RANK = 8
INPUT, OUTPUT, WEIGHT = 0, 1, 2


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.POINTER(ctypes.c_float)),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("rank", ctypes.c_size_t)]


class Output(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.POINTER(ctypes.c_float)),
                ("capacity", ctypes.c_size_t), ("shape", ctypes.c_int64 * MAX_RANK),
                ("rank", ctypes.c_size_t)]


class Diagnostic(ctypes.Structure):
    _fields_ = [("severity", ctypes.c_int), ("file", ctypes.c_char_p), ("line", ctypes.c_int),
                ("column", ctypes.c_int), ("message", ctypes.c_char_p),
                ("rendered", ctypes.c_char_p)]


class NncError(RuntimeError):
    """A failed call: its status code, message and (for a compile error) rendered diagnostics."""

    def __init__(self, status, message, diagnostics):
        super().__init__(message + "".join("\n" + d for d in diagnostics))
        self.status = status
        self.diagnostics = diagnostics


class Nnc:
    """The C API of one libnnc."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        p, c = ctypes.c_void_p, ctypes.c_char_p
        size, i64 = ctypes.c_size_t, ctypes.c_int64
        for name, restype, argtypes in [
            ("nnc_version", c, []),
            ("nnc_last_error", c, []),
            ("nnc_last_diagnostic_count", size, []),
            ("nnc_last_diagnostic", ctypes.c_int, [size, ctypes.POINTER(Diagnostic)]),
            ("nnc_compile_file", ctypes.c_int, [c, p, ctypes.POINTER(p)]),
            ("nnc_model_free", None, [p]),
            ("nnc_model_tensor_count", size, [p, ctypes.c_int]),
            ("nnc_model_tensor_name", c, [p, ctypes.c_int, size]),
            ("nnc_model_tensor_rank", size, [p, ctypes.c_int, size]),
            ("nnc_model_tensor_dim", i64, [p, ctypes.c_int, size, size]),
            ("nnc_model_load_weights", ctypes.c_int, [p, c]),
            ("nnc_model_output_shape", ctypes.c_int,
             [p, ctypes.POINTER(Tensor), size, c, ctypes.POINTER(i64), ctypes.POINTER(size)]),
            ("nnc_model_run", ctypes.c_int,
             [p, ctypes.POINTER(Tensor), size, ctypes.POINTER(Output), size]),
        ]:
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
        self.lib = lib

    def check(self, status):
        if status != 0:
            diagnostics = []
            for i in range(self.lib.nnc_last_diagnostic_count()):
                d = Diagnostic()
                if self.lib.nnc_last_diagnostic(i, ctypes.byref(d)) == 0:
                    diagnostics.append(d.rendered.decode())
            raise NncError(status, self.lib.nnc_last_error().decode(), diagnostics)


class Model:
    """A compiled model: run() takes and returns numpy float32 arrays by name."""

    def __init__(self, nnc, path):
        self.nnc, self.lib = nnc, nnc.lib
        self.handle = ctypes.c_void_p()
        nnc.check(self.lib.nnc_compile_file(path.encode(), None, ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, "handle", None):
            self.lib.nnc_model_free(self.handle)

    def names(self, kind):
        count = self.lib.nnc_model_tensor_count(self.handle, kind)
        return [self.lib.nnc_model_tensor_name(self.handle, kind, i).decode() for i in range(count)]

    def load_weights(self, path):
        self.nnc.check(self.lib.nnc_model_load_weights(self.handle, path.encode()))

    def run(self, **inputs):
        arrays = {name: np.ascontiguousarray(value, dtype=np.float32)
                  for name, value in inputs.items()}
        shapes = {name: (ctypes.c_int64 * max(a.ndim, 1))(*a.shape) for name, a in arrays.items()}
        tensors = (Tensor * len(arrays))(*[
            Tensor(name.encode(), a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), shapes[name],
                   a.ndim) for name, a in arrays.items()])
        results, outputs = {}, []
        for name in self.names(OUTPUT):
            shape, rank = (ctypes.c_int64 * MAX_RANK)(), ctypes.c_size_t()
            self.nnc.check(self.lib.nnc_model_output_shape(
                self.handle, tensors, len(arrays), name.encode(), shape, ctypes.byref(rank)))
            result = np.empty(tuple(shape[:rank.value]), dtype=np.float32)
            results[name] = result
            outputs.append(Output(name.encode(),
                                  result.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                  result.size))
        self.nnc.check(self.lib.nnc_model_run(self.handle, tensors, len(arrays),
                                              (Output * len(outputs))(*outputs), len(outputs)))
        return results


def read_safetensors(path):
    """{name: float32 array} of an F32 safetensors file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
    return tensors


def mlp_in_numpy(weights, x):
    """examples/mlp.nn in float64: dense-relu, dense-leaky_relu(0.1), dense-softmax."""
    w = {name: value.astype(np.float64) for name, value in weights.items()}
    h1 = np.maximum(x @ w["h1.weight"].T + w["h1.bias"], 0)
    h2 = h1 @ w["h2.weight"].T + w["h2.bias"]
    h2 = np.where(h2 >= 0, h2, 0.1 * h2)
    z = h2 @ w["y.weight"].T + w["y.bias"]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", default="libnnc.so", help="path of libnnc.so")
    parser.add_argument("--model", required=True, help="the MLP example, examples/mlp.nn")
    parser.add_argument("--weights", required=True, help="its weights (.safetensors)")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    nnc = Nnc(args.library)
    model = Model(nnc, args.model)
    model.load_weights(args.weights)
    x = np.random.default_rng(7).uniform(-1, 1, (args.batch, 784)).astype(np.float32)
    y = model.run(x=x)["y"]
    want = mlp_in_numpy(read_safetensors(args.weights), x.astype(np.float64))
    diff = float(np.abs(y - want).max() / np.abs(want).max())
    print(f"nnc {nnc.lib.nnc_version().decode()} via ctypes: {args.model} y {list(y.shape)}, "
          f"max |nnc - numpy| / max |numpy| = {diff:.2e}")

    # Errors come back as exceptions carrying nnc's message.
    try:
        model.run(x=np.zeros((2, 783), dtype=np.float32))
        print("a wrong input shape was not reported", file=sys.stderr)
        return 1
    except NncError as error:
        print(f"wrong shape reported: {error}")
    return 0 if y.shape == want.shape and diff < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
