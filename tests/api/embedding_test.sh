#!/usr/bin/env bash
# nnc as a library, from outside its build: installs the build tree into a temporary prefix,
# builds examples/embed against the installed package (CMake's find_package, and pkg-config as a
# Makefile would use it), runs the C++ and C programs, and checks that they print what `nnc run`
# prints for the same model, weights and input. Then runs the ctypes example with the installed
# libnnc, which checks nnc's result against the network computed in numpy.
set -euo pipefail
build=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
quiet() { # command...: its output only when it fails
  "$@" >"$tmp/log" 2>&1 || {
    cat "$tmp/log"
    echo "FAIL: $*"
    exit 1
  }
}

quiet cmake --install "$build" --prefix "$prefix"
nnc=$prefix/bin/nnc
test -x "$nnc"

quiet cmake -S "$root/examples/embed" -B "$tmp/embed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix"
quiet cmake --build "$tmp/embed"
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name nnc.pc)")
# shellcheck disable=SC2046
quiet cc -std=c11 -Wall -Werror "$root/examples/embed/classify.c" $(pkg-config --cflags --libs nnc) \
  -lm -o "$tmp/classify_pkgconfig"
libdir=$(pkg-config --variable=libdir nnc)

model=$root/examples/mlp.nn
quiet "$nnc" init-weights "$model" -o "$tmp/mlp.safetensors" --seed 5
/usr/bin/python3 -c "import numpy as np; np.save('$tmp/x.npy', \
np.sin(np.arange(3 * 784) * 0.1).astype(np.float32).reshape(3, 784))"
"$nnc" run "$model" --weights "$tmp/mlp.safetensors" --input x="$tmp/x.npy" >"$tmp/want"

failures=0
for program in "$tmp/embed/classify" "$tmp/embed/classify_c" "$tmp/classify_pkgconfig"; do
  if ! LD_LIBRARY_PATH=$libdir "$program" "$model" "$tmp/mlp.safetensors" 3 >"$tmp/got"; then
    echo "FAIL: $(basename "$program") exited with an error"
    failures=$((failures + 1))
  elif ! diff -u "$tmp/want" "$tmp/got"; then
    echo "FAIL: $(basename "$program") printed something else than nnc run"
    failures=$((failures + 1))
  fi
done
# A broken model: diagnostics on stderr, exit 1.
printf 'model m {\n  input x: f32[2]\n  y = rleu(x)\n  output y\n}\n' >"$tmp/bad.nn"
if LD_LIBRARY_PATH=$libdir "$tmp/embed/classify" "$tmp/bad.nn" "$tmp/mlp.safetensors" \
  2>"$tmp/err"; then
  echo "FAIL: a broken model ran"
  failures=$((failures + 1))
elif ! grep -q "bad.nn:3:7: error: unknown operator 'rleu'" "$tmp/err"; then
  echo "FAIL: no diagnostic for a broken model:"
  cat "$tmp/err"
  failures=$((failures + 1))
fi

/usr/bin/python3 "$root/examples/python/nnc_ctypes.py" --library "$libdir/libnnc.so" \
  --model "$model" --weights "$tmp/mlp.safetensors" || failures=$((failures + 1))

if [ "$failures" -ne 0 ]; then
  echo "$failures failures"
  exit 1
fi
echo "embedding: installed package, C++ and C programs, pkg-config and ctypes all agree"
