#!/usr/bin/env python3
"""Latency of nnc against PyTorch eager on the example networks, same machine, same run.

For examples/mlp.nn (batch 1, 64, 256) and examples/mobilenet.nn (batch 1, 32), each with 1
and 2 threads, this script measures:

- nnc: `nnc bench FILE --random-weights 1 --batch B --threads T --runs R`, whose median
  latency and peak-buffer memory it parses (the binary is build/release/tools/nnc/nnc);
- PyTorch eager: the same network, built by the conformance test's builders
  (tests/conformance/make_references.py), in eval mode under torch.no_grad() with
  torch.set_num_threads(T), on float32 inputs of the same shape: a few warm-up runs, then the
  median of R runs timed with time.perf_counter. Its weights are random too but not nnc's
  (latency does not depend on the values).

It prints a markdown table (ratio PyTorch / nnc > 1: nnc is faster), nnc's compile time per
model, the PyTorch version, its BLAS library and the CPU. The measurements run one after the
other; keep the machine otherwise idle. Run it from anywhere, with the Python that has PyTorch
(Debian: `apt-get install python3-torch`; the test suite does not need it):

    /usr/bin/python3 bench/compare_pytorch.py [--steady-malloc]

Both nnc and PyTorch allocate their intermediate tensors with malloc on every run. Above
glibc's mmap threshold these come as fresh pages from the kernel each time, and the page
faults can cost more than the arithmetic (mobilenet at batch 32) and vary from one process to
the next. --steady-malloc sets MALLOC_MMAP_THRESHOLD_=32 MiB (glibc's maximum) and a huge
MALLOC_TRIM_THRESHOLD_ for both (the script re-executes itself with them), so that freed
memory is reused and the latencies measure the computation.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
NNC = ROOT / "build" / "release" / "tools" / "nnc" / "nnc"
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
import make_references as refs  # noqa: E402  (the PyTorch builders of the example networks)

THREADS = (1, 2)
WARMUP = 5
STEADY_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}
# (model, batch, timed runs R): R chosen so that one measurement takes about 1-2 s.
CASES = [
    ("mlp", 1, 3000),
    ("mlp", 64, 100),
    ("mlp", 256, 30),
    ("mobilenet", 1, 300),
    ("mobilenet", 32, 10),
]


def nnc_bench(model, batch, threads, runs):
    """Runs `nnc bench`; returns its table row as {column: text} and its footer line."""
    command = [str(NNC), "bench", str(ROOT / "examples" / f"{model}.nn"), "--random-weights",
               "1", "--batch", str(batch), "--threads", str(threads), "--runs", str(runs),
               "--no-cache"]  # the compile time it reports is LLVM's
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in out.splitlines() if line.startswith("|") and "---" not in line]
    header, row = rows[0], rows[1]
    footer = next((line for line in out.splitlines() if line.startswith("ISA")), "")
    return dict(zip(header, row)), footer


def pytorch_network(model):
    """(forward, {input name: shape with the batch as dimension 0}) of a conformance case."""
    case = next(c for c in refs.CASES if c.name == model and c.model == f"examples/{model}.nn")
    net = refs.Net()
    forward = case.build(net)
    net.initialize(case.gain)
    net.eval()
    return forward, {name: shape for name, (shape, _) in case.inputs.items()}


@torch.no_grad()
def pytorch_median_ms(model, batch, threads, runs):
    torch.set_num_threads(threads)
    forward, shapes = pytorch_network(model)
    inputs = {name: refs.uniform_input(-1.0, 1.0)([batch] + shape[1:])
              for name, shape in shapes.items()}
    for _ in range(WARMUP):
        forward(**inputs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        forward(**inputs)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def blas_library():
    """The BLAS/LAPACK shared library that this PyTorch process has loaded (nn.Linear uses
    BLAS unless PyTorch was built with MKL; Debian's libblas3 in .../blas/ is the reference
    BLAS, OpenBLAS lives in .../openblas-*/)."""
    with open("/proc/self/maps") as maps:
        names = {line.split()[-1] for line in maps
                 if "blas" in line.lower() or "mkl_" in line.lower()}
    return ", ".join(sorted(names)) or "unknown"


def cpu_name():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady-malloc", action="store_true",
                        help="keep freed memory in glibc's heap (see the top of this file)")
    args = parser.parse_args()
    steady = all(os.environ.get(key) == value for key, value in STEADY_MALLOC.items())
    if args.steady_malloc and not steady:  # glibc reads these when the process starts
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **STEADY_MALLOC})
    torch.manual_seed(0)
    compile_ms, footer = {}, ""
    print("| model | batch | threads | nnc ms | PyTorch ms | PyTorch / nnc | "
          "nnc peak buffers / all intermediates |")
    print("|---|---|---|---|---|---|---|")
    for model, batch, runs in CASES:
        for threads in THREADS:
            row, footer = nnc_bench(model, batch, threads, runs)
            nnc_ms = float(row["median latency ms"])
            compile_ms.setdefault(model, []).append(float(row["compile ms"]))
            torch_ms = pytorch_median_ms(model, batch, threads, runs)
            print(f"| {model} | {batch} | {threads} | {nnc_ms:.3f} | {torch_ms:.3f} | "
                  f"{torch_ms / nnc_ms:.2f} | {row['peak buffers / all intermediates']} |",
                  flush=True)
    print()
    print("nnc compile time (median over its invocations): " + ", ".join(
        f"{model} {statistics.median(times):.1f} ms" for model, times in compile_ms.items()))
    print(f"nnc: {footer.split(',')[0]}, median of R runs after one warm-up; PyTorch: median "
          f"of the same R runs after {WARMUP} warm-ups.")
    blas = blas_library()
    print(f"PyTorch {torch.__version__} (BLAS: {blas}); CPU: {cpu_name()}, "
          f"{len(os.sched_getaffinity(0))} cores available.")
    if "/blas/libblas" in blas:
        print("Note: this PyTorch runs nn.Linear (the mlp) on the unoptimized reference BLAS.")
    print("malloc: " + (" ".join(f"{k}={v}" for k, v in STEADY_MALLOC.items()) if steady else
                        "glibc defaults (see --steady-malloc)"))
    print("PyTorch / nnc > 1 means that nnc is faster.")


if __name__ == "__main__":
    main()
