#!/usr/bin/env bash
# Ahead-of-time compilation: `nnc compile` writes an object and a header; a C program links them
# with libnnc_rt (and no LLVM), runs, and prints exactly what `nnc run` prints (JIT) for the same
# weights and input. Covers the MLP example with weights in the object and passed by the caller,
# on the host's ISA and on SSE, and the ResNet-, MobileNet- and LeNet-style examples (conv2d,
# depthwise, squeeze-and-excitation, two outputs).
set -euo pipefail
nnc=$1
root=$2
rtdir=$3 # where libnnc_rt.so is
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NNC_CACHE_DIR=$tmp/cache
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
quiet() { # command...: its output only when it fails
  "$@" >"$tmp/log" 2>&1 || {
    cat "$tmp/log"
    fail "$*"
    return 1
  }
}
link() { # program.c object output
  quiet cc -std=c11 -Wall -Werror -I"$tmp" "$1" "$2" -L"$rtdir" -lnnc_rt -Wl,-rpath,"$rtdir" -lm \
    -o "$3"
  if ldd "$3" | grep -qi llvm; then
    fail "$(basename "$3") links LLVM"
  fi
}
input() { # name batch dims...: sin(0.1 i) in .npy, as the programs fill it
  local name=$1 shape
  shift
  shape=$(
    IFS=,
    echo "$*"
  )
  /usr/bin/python3 -c "import numpy as np; s=($shape,); \
np.save('$tmp/$name.npy', np.sin(np.arange(np.prod(s)) * 0.1).astype(np.float32).reshape(s))"
}
same() { # what got want
  if ! diff -u "$3" "$2" >"$tmp/diff"; then
    cat "$tmp/diff"
    fail "$1 differs from nnc run"
  fi
}

# The MLP: weights in the object, on the host's ISA and on SSE.
mlp=$root/examples/mlp.nn
quiet "$nnc" init-weights "$mlp" -o "$tmp/mlp.safetensors" --seed 9
input x 3 784
"$nnc" run "$mlp" --weights "$tmp/mlp.safetensors" --input x="$tmp/x.npy" >"$tmp/want.mlp"
for isa in host sse; do
  # The JIT on the same ISA (the ISAs' kernels may round differently).
  "$nnc" run "$mlp" --weights "$tmp/mlp.safetensors" --input x="$tmp/x.npy" --isa $isa \
    >"$tmp/want.mlp.$isa"
  quiet "$nnc" compile "$mlp" -o "$tmp/mlp.o" --weights "$tmp/mlp.safetensors" --isa $isa
  link "$root/examples/aot/mlp_main.c" "$tmp/mlp.o" "$tmp/mlp_$isa"
  "$tmp/mlp_$isa" 3 >"$tmp/got" || fail "mlp ($isa) exited with an error"
  same "mlp, weights in the object, $isa" "$tmp/got" "$tmp/want.mlp.$isa"
done

# The MLP with the weights passed by the caller, as raw floats in the header's order.
quiet "$nnc" compile "$mlp" -o "$tmp/mlp.o"
grep -q "mlp_run(const float\* x, int64_t N, float\* y_out, const float\* const\* weights)" \
  "$tmp/mlp.h" || fail "the header does not declare mlp_run with weights"
/usr/bin/python3 - "$tmp" "$root" <<'PY'
import re, sys
tmp, root = sys.argv[1:3]
sys.path.insert(0, root + "/examples/python")
import numpy as np
from nnc_ctypes import read_safetensors
weights = read_safetensors(tmp + "/mlp.safetensors")
order = re.findall(r"^ \*   (\S+) f32\[", open(tmp + "/mlp.h").read(), re.M)
np.concatenate([weights[n].ravel() for n in order]).astype("<f4").tofile(tmp + "/weights.bin")
PY
link "$root/examples/aot/mlp_main.c" "$tmp/mlp.o" "$tmp/mlp_passed"
"$tmp/mlp_passed" 3 "$tmp/weights.bin" >"$tmp/got" || fail "mlp (weights passed) exited with an error"
same "mlp, weights passed" "$tmp/got" "$tmp/want.mlp"

# The convolutional examples, weights in the object: a program per model's signature.
for model in resnet mobilenet lenet; do
  file=$root/examples/$model.nn
  quiet "$nnc" init-weights "$file" -o "$tmp/$model.safetensors" --seed 4
  case $model in
  resnet) dims="3 32 32" outs="logits:10" ;;
  mobilenet) dims="3 64 64" outs="logits:10" ;;
  lenet) dims="1 28 28" outs="logits:10 probs:10" ;;
  esac
  read -r c h w <<<"$dims"
  input image 2 "$c" "$h" "$w"
  "$nnc" run "$file" --weights "$tmp/$model.safetensors" --input image="$tmp/image.npy" \
    >"$tmp/want.$model"
  quiet "$nnc" compile "$file" -o "$tmp/$model.o" --weights "$tmp/$model.safetensors"
  {
    echo "#include \"$model.h\""
    echo '#include <math.h>'
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo 'static void show(const char* name, const float* y, int n) {'
    echo '  double s = 0, lo = INFINITY, hi = -INFINITY;'
    echo '  for (int i = 0; i < 2 * n; ++i) { s += y[i]; lo = y[i] < lo ? y[i] : lo; hi = y[i] > hi ? y[i] : hi; }'
    echo '  printf("%s: f32[2, %d] min %.6g max %.6g mean %.6g\n", name, n, lo, hi, s / (2 * n));'
    echo '}'
    echo 'int main(void) {'
    echo "  int n = 2 * $c * $h * $w;"
    echo '  float* image = malloc(n * sizeof *image);'
    echo '  for (int i = 0; i < n; ++i) image[i] = (float)sin(0.1 * i);'
    args="image, 2"
    for out in $outs; do
      echo "  float ${out%%:*}[2 * ${out##*:}];"
      args="$args, ${out%%:*}"
    done
    echo "  if ($model""_run($args)) { fprintf(stderr, \"%s\\n\", nnc_aot_last_error()); return 1; }"
    for out in $outs; do
      echo "  show(\"${out%%:*}\", ${out%%:*}, ${out##*:});"
    done
    echo '  return 0;'
    echo '}'
  } >"$tmp/$model.c"
  link "$tmp/$model.c" "$tmp/$model.o" "$tmp/$model"
  "$tmp/$model" >"$tmp/got" || fail "$model exited with an error"
  same "$model" "$tmp/got" "$tmp/want.$model"
done

# Misuse at run time: a null input or output is an error with a message, not a crash.
cat >"$tmp/null.c" <<'C'
#include "lenet.h"
#include <stdio.h>
#include <string.h>
int main(void) {
  static float image[2 * 28 * 28], logits[20], probs[20];
  if (lenet_run(NULL, 2, logits, probs) == 0 || !strstr(nnc_aot_last_error(), "input 'image' has no data"))
    return 1;
  if (lenet_run(image, 2, NULL, probs) == 0 || !strstr(nnc_aot_last_error(), "output 'logits' has no buffer"))
    return 2;
  return lenet_run(image, 2, logits, probs) == 0 ? 0 : 3;
}
C
link "$tmp/null.c" "$tmp/lenet.o" "$tmp/null"
"$tmp/null" || fail "null pointers: exit $? (1: input, 2: output, 3: a good call after them)"

# Parameter names that would clash in C or C++: an input named like an output's parameter, like
# a symbol, or like a keyword of either language; and a header that would overwrite the object.
printf 'model clash {\n  input y_out: f32[N, 2]\n  input class: f32[N, 2]\n  input N: f32[N, 2]\n  y = add(y_out, class) -> add(N)\n  output y\n}\n' >"$tmp/clash.nn"
quiet "$nnc" compile "$tmp/clash.nn" -o "$tmp/clash.o"
echo '#include "clash.h"' >"$tmp/clash.c"
cc -std=c11 -fsyntax-only -Wall -Werror -I"$tmp" "$tmp/clash.c" || fail "the clash header does not compile as C"
c++ -std=c++17 -x c++ -fsyntax-only -Wall -Werror -I"$tmp" "$tmp/clash.c" || fail "the clash header does not compile as C++"
if "$nnc" compile "$mlp" -o "$tmp/same.o" --header "$tmp/same.o" 2>"$tmp/err"; then
  fail "a header over the object was accepted"
fi
grep -q "the header and the object would both be" "$tmp/err" || fail "no message for a header over the object"
if (cd "$tmp" && "$nnc" compile "$mlp" -o same.o --header ./same.o 2>/dev/null); then
  fail "a header over the object, spelt differently, was accepted"
fi
if "$nnc" compile "$mlp" -o "$tmp/object.h" 2>/dev/null; then
  fail "an object named like its default header was accepted"
fi

# Misuse: a name that is not a C identifier; a weight file for another model.
if "$nnc" compile "$mlp" -o "$tmp/bad.o" --name "2mlp" 2>"$tmp/err"; then
  fail "a bad --name was accepted"
fi
grep -q "is not a C identifier" "$tmp/err" || fail "no message for a bad --name"
if "$nnc" compile "$mlp" -o "$tmp/bad.o" --weights "$tmp/resnet.safetensors" 2>"$tmp/err"; then
  fail "another model's weights were accepted"
fi
grep -q "missing tensor 'h1.weight'" "$tmp/err" || fail "no message for another model's weights"

if [ "$failures" -ne 0 ]; then
  echo "$failures failures"
  exit 1
fi
echo "aot: every program printed what nnc run prints"
