#!/usr/bin/env bash
# Command-line behaviour of nnc: exit codes (0 valid, 1 errors, 2 usage), help, output streams.
set -u
nnc=$1
root=$2
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NNC_CACHE_DIR=$tmp/cli-cache # not the user's

expect_exit() { # expected-code description command...
  local expected=$1 what=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  if [ "$code" -ne "$expected" ]; then
    echo "FAIL: $what: exit $code, expected $expected"
    cat "$tmp/out" "$tmp/err"
    failures=$((failures + 1))
  fi
}

expect_in() { # file pattern description
  if ! grep -q -- "$2" "$1"; then
    echo "FAIL: $3: '$2' not in output"
    cat "$1"
    failures=$((failures + 1))
  fi
}

expect_not_in() { # file pattern description
  if grep -q -- "$2" "$1"; then
    echo "FAIL: $3: '$2' in output"
    cat "$1"
    failures=$((failures + 1))
  fi
}

printf 'model m {\n  input x: f32[N, 4]\n  y = rleu(x)\n  output y\n}\n' >"$tmp/bad.nn"
printf 'model m {\n  input x: f32[N, 4]\n  y = relu(x)\n  output y\n}\n' >"$tmp/good.nn"

expect_exit 0 "check of the examples" "$nnc" check "$root"/examples/*.nn
expect_exit 0 "check of a valid file" "$nnc" check "$tmp/good.nn"
expect_exit 1 "check of an invalid file" "$nnc" check "$tmp/bad.nn"
expect_in "$tmp/err" "bad.nn:3:7: error: unknown operator 'rleu'; did you mean 'relu'?" "diagnostic"
expect_in "$tmp/err" "^      \^~~~$" "caret line"
expect_exit 1 "check of a missing file" "$nnc" check "$tmp/missing.nn"
expect_in "$tmp/err" "cannot open" "missing file message"
expect_exit 1 "check of a directory" "$nnc" check "$tmp"
expect_in "$tmp/err" "is a directory" "directory message"
expect_exit 1 "check of a good and a bad file" "$nnc" check "$tmp/good.nn" "$tmp/bad.nn"
printf 'block b(x) {\n  return relu(x)\n}\n' >"$tmp/blocks.nn"
printf "# nothing\n" >"$tmp/empty.nn"
expect_exit 1 "run of an empty file" "$nnc" run "$tmp/empty.nn" --input x="$tmp/missing.npy"
expect_in "$tmp/err" "defines no model" "no model error of an empty file"
expect_exit 0 "check of a file of blocks only" "$nnc" check "$tmp/blocks.nn"
expect_in "$tmp/err" "warning: '.*blocks.nn' defines no model" "no model warning"
expect_exit 1 "ir of a file of blocks only" "$nnc" ir "$tmp/blocks.nn"
expect_in "$tmp/err" "defines no model" "no model error of ir"
expect_exit 1 "run of a file of blocks only" "$nnc" run "$tmp/blocks.nn" --input x="$tmp/missing.npy"
expect_in "$tmp/err" "defines no model" "no model error of run"
expect_exit 0 "ir of a valid file" "$nnc" ir "$tmp/good.nn"
expect_in "$tmp/out" "%y = relu(%x) : f32\[N, 4\]" "ir output"
expect_exit 0 "ir --model" "$nnc" ir "$tmp/good.nn" --model m
expect_exit 1 "ir --model of an unknown model" "$nnc" ir "$tmp/good.nn" --model mm
expect_in "$tmp/err" "did you mean 'm'" "unknown model suggestion"
expect_exit 1 "ir of an invalid file" "$nnc" ir "$tmp/bad.nn"
expect_exit 2 "no subcommand" "$nnc"
expect_exit 2 "unknown subcommand" "$nnc" frobnicate
expect_in "$tmp/err" "unknown command 'frobnicate'; the commands are check, ir" "unknown subcommand message"
expect_exit 2 "misspelt subcommand" "$nnc" chek "$tmp/good.nn"
expect_in "$tmp/err" "did you mean 'check'" "misspelt subcommand suggestion"
expect_exit 2 "check without a file" "$nnc" check
expect_exit 2 "unknown option" "$nnc" ir "$tmp/good.nn" --bogus
expect_exit 0 "--help" "$nnc" --help
expect_exit 0 "check --help" "$nnc" check --help
expect_in "$tmp/out" "FILE" "check help"
expect_exit 0 "ir --help" "$nnc" ir --help
expect_in "$tmp/out" "--model" "ir help"
expect_exit 0 "--version" "$nnc" --version
head -c 3000 /dev/urandom >"$tmp/random.nn"
expect_exit 1 "check of random bytes" "$nnc" check "$tmp/random.nn"

# nnc run: .npy files made with Python's struct module (numpy is not needed).
cat >"$tmp/npy.py" <<'PY'
import math, struct, sys
def write(path, shape, values, descr="<f4"):
    dims = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
    code = "f" if descr == "<f4" else "d"
    data = struct.pack("<%d%s" % (len(values), code), *values)
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)
def read(path):
    raw = open(path, "rb").read()
    length = struct.unpack("<H", raw[8:10])[0]
    data = raw[10 + length:]
    return list(struct.unpack("<%df" % (len(data) // 4), data))
if sys.argv[1] == "make":
    write(sys.argv[2] + "/x.npy", [2, 3], [-2.0, -0.5, 0.0, 0.5, 2.0, 40.0])
    write(sys.argv[2] + "/x64.npy", [2, 3], [1.0] * 6, "<f8")
    write(sys.argv[2] + "/x4.npy", [2, 4], [1.0] * 8)
    write(sys.argv[2] + "/image.npy", [2, 3, 32, 32], [math.sin(0.1 * i) for i in range(6144)])
else:  # check sigmoid(x), computed by nnc, against Python's math
    got = read(sys.argv[2] + "/s.npy")
    xs = [-2.0, -0.5, 0.0, 0.5, 2.0, 40.0]
    ok = all(abs(g - 1 / (1 + math.exp(-x))) <= 1e-7 for g, x in zip(got, xs)) and len(got) == 6
    sys.exit(0 if ok else 1)
PY
printf 'model acts {\n  input x: f32[N, 3]\n  s = sigmoid(x)\n  h = x -> gelu -> hard_swish\n  output s, h\n}\n' >"$tmp/acts.nn"
python3 "$tmp/npy.py" make "$tmp"
for isa in host avx2 sse; do
  expect_exit 0 "run --isa $isa" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x.npy" --output s="$tmp/s.npy" --isa $isa
  expect_exit 0 "run output matches Python ($isa)" python3 "$tmp/npy.py" check "$tmp"
done
expect_exit 0 "run with a summary" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x.npy"
expect_in "$tmp/out" "^s: f32\[2, 3\] min" "run summary"
expect_exit 1 "run with a float64 input" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x64.npy"
expect_in "$tmp/err" "nnc needs float32" "dtype message"
expect_exit 1 "run with a wrong shape" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x4.npy"
expect_in "$tmp/err" "axis 1 must be 3" "shape message"
expect_exit 1 "run with a missing input file" "$nnc" run "$tmp/acts.nn" --input x="$tmp/none.npy"
expect_exit 1 "run with an unknown output" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x.npy" --output q="$tmp/q.npy"
expect_in "$tmp/err" "no output named 'q'" "unknown output message"
expect_exit 1 "run with an unknown input" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x.npy" --input z="$tmp/x.npy"
expect_exit 1 "run with a malformed binding" "$nnc" run "$tmp/acts.nn" --input "$tmp/x.npy"
expect_exit 2 "run with an unknown ISA" "$nnc" run "$tmp/acts.nn" --input x="$tmp/x.npy" --isa avx9

# Models with weights: a file from init-weights, random weights, and what goes wrong.
printf 'model d {\n  input x: f32[N, 3]\n  h = dense(x, 4) -> prelu\n  output h\n}\n' >"$tmp/dense.nn"
expect_exit 1 "run of a model with weights and none given" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy"
expect_in "$tmp/err" "give them with --weights" "missing weights message"
expect_exit 0 "init-weights" "$nnc" init-weights "$tmp/dense.nn" -o "$tmp/w.safetensors" --seed 3
expect_in "$tmp/out" "wrote 3 tensors" "init-weights message"
expect_exit 0 "run with a weight file" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --weights "$tmp/w.safetensors" --output h="$tmp/h1.npy"
expect_exit 0 "run with the same random weights" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --random-weights 3 --output h="$tmp/h2.npy" --threads 1
expect_exit 0 "init-weights and --random-weights agree" cmp "$tmp/h1.npy" "$tmp/h2.npy"
expect_exit 2 "--weights and --random-weights together" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --weights "$tmp/w.safetensors" --random-weights 1
expect_exit 2 "a negative seed" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --random-weights=-1
expect_in "$tmp/err" "a seed is a whole number from 0 to 18446744073709551615, not '-1'" "negative seed message"
expect_exit 2 "a seed past 2^64" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --random-weights 18446744073709551616
expect_exit 2 "a negative init-weights seed" "$nnc" init-weights "$tmp/dense.nn" -o "$tmp/w-1.safetensors" --seed=-1
expect_exit 0 "the largest seed" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --random-weights 18446744073709551615
printf 'model d {\n  input x: f32[N, 3]\n  h = dense(x, 5) -> prelu\n  output h\n}\n' >"$tmp/dense5.nn"
expect_exit 1 "run with weights of the wrong shape" "$nnc" run "$tmp/dense5.nn" --input x="$tmp/x.npy" --weights "$tmp/w.safetensors"
expect_in "$tmp/err" "tensor 'h.weight' has shape \[4, 3\]; model 'd' needs \[5, 3\]" "wrong shape message"
printf 'model d {\n  input x: f32[N, 3]\n  h = dense(x, 4) -> prelu\n  g = dense(h, 2)\n  output g\n}\n' >"$tmp/dense2.nn"
expect_exit 1 "run with a weight file that lacks a tensor" "$nnc" run "$tmp/dense2.nn" --input x="$tmp/x.npy" --weights "$tmp/w.safetensors"
expect_in "$tmp/err" "missing tensor 'g.weight'" "missing tensor message"
printf 'model d {\n  input x: f32[N, 3]\n  h = dense(x, 4)\n  output h\n}\n' >"$tmp/dense0.nn"
expect_exit 1 "run with a weight file with an extra tensor" "$nnc" run "$tmp/dense0.nn" --input x="$tmp/x.npy" --weights "$tmp/w.safetensors"
expect_in "$tmp/err" "tensor 'h.prelu.weight' is not a parameter of model 'd'" "extra tensor message"
head -c 100 "$tmp/w.safetensors" >"$tmp/cut.safetensors"
expect_exit 1 "run with a truncated weight file" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --weights "$tmp/cut.safetensors"
expect_exit 1 "run with a missing weight file" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --weights "$tmp/none.safetensors"
expect_exit 0 "bench of the examples" "$nnc" bench "$root"/examples/*.nn --random-weights 1 --runs 2
expect_in "$tmp/out" "| mobilenet | 1 |" "bench table"
expect_exit 0 "bench --profile" "$nnc" bench "$root"/examples/mlp.nn --random-weights 1 --runs 2 --profile
expect_in "$tmp/out" "^Profile of mlp" "profile heading"
expect_in "$tmp/out" "| kernel k0: dense + relu -> " "profile names a fused kernel"
expect_in "$tmp/out" "| %y.1 = dense \[1, 10\] | " "profile names a node with its shape"

# Passes: --passes, --no-fusion, --print-after-all, nnc dot. Kernel lines start with "  kernel k"
# ("kernel = [3, 3]" is a conv2d attribute).
resnet="$root/examples/resnet.nn"
mobilenet="$root/examples/mobilenet.nn"
expect_exit 0 "ir --passes=default" "$nnc" ir "$resnet" --passes=default
expect_in "$tmp/out" "^  kernel k0: conv2d + relu -> %stem" "fused kernel line"
expect_in "$tmp/out" "^  folded stem.weight" "folded weight line"
expect_exit 0 "ir --passes=none" "$nnc" ir "$resnet" --passes=none
expect_not_in "$tmp/out" "^  kernel k" "no kernel line without passes"
expect_not_in "$tmp/out" "^  folded " "no folded line without passes"
expect_exit 0 "ir without --passes" "$nnc" ir "$resnet"
expect_not_in "$tmp/out" "^  kernel k" "ir runs no passes by default"
expect_exit 0 "ir --no-fusion" "$nnc" ir "$resnet" --passes=default --no-fusion
expect_in "$tmp/out" "^  folded " "folded lines without fusion"
expect_not_in "$tmp/out" "^  kernel k" "no kernel line without fusion"
expect_exit 0 "ir --print-after-all" "$nnc" ir "$resnet" --passes=default --print-after-all
expect_in "$tmp/out" "^// after fold-batchnorm$" "print-after-all header"
expect_exit 2 "ir with an unknown pass" "$nnc" ir "$resnet" --passes=bogus
expect_in "$tmp/err" "unknown pass 'bogus'" "unknown pass message"
# Output that cannot be written is an error, and so is an error message that cannot be: exit 1,
# never an abort.
if [ -w /dev/full ]; then
  expect_exit 1 "ir to a full disk" sh -c "\"$nnc\" ir \"$tmp/good.nn\" >/dev/full"
  expect_exit 1 "run --output to a full disk" "$nnc" run "$tmp/dense.nn" --input x="$tmp/x.npy" --random-weights 1 --output h=/dev/full
  expect_exit 1 "an error with stderr on a full disk" sh -c "\"$nnc\" check \"$tmp/missing.nn\" 2>/dev/full"
fi
expect_exit 1 "an error with stderr closed" sh -c "\"$nnc\" check \"$tmp/missing.nn\" 2>&-"

# A rewrite listed after fusion (tanh moves past the pool out of a fused kernel): same result.
printf 'model p {\n  input image: f32[N, 3, 32, 32]\n  y = add(image, image) -> tanh -> maxpool(2)\n  output y\n}\n' >"$tmp/pool.nn"
expect_exit 0 "a rewrite after fusion" "$nnc" run "$tmp/pool.nn" --input image="$tmp/image.npy" --passes=fuse-elementwise,activation-past-maxpool --output y="$tmp/pool-late.npy"
expect_exit 0 "the same model with the default passes" "$nnc" run "$tmp/pool.nn" --input image="$tmp/image.npy" --output y="$tmp/pool-default.npy"
expect_exit 0 "a rewrite after fusion gives the default's result" cmp "$tmp/pool-default.npy" "$tmp/pool-late.npy"
expect_exit 2 "ir with none among other passes" "$nnc" ir "$resnet" --passes=none,cse
expect_in "$tmp/err" "'none' names a whole pipeline and cannot be listed with other passes" "none in a list message"
expect_exit 0 "dot" "$nnc" dot "$mobilenet"
expect_in "$tmp/out" "^digraph" "dot output"
expect_in "$tmp/out" "cluster_k0" "fused kernel cluster"
expect_exit 0 "dot -o" "$nnc" dot "$mobilenet" -o "$tmp/mobilenet.dot"
expect_in "$tmp/mobilenet.dot" "cluster_k0" "dot file"

# The passes change no result beyond rounding: the summary of nnc run and the checksum of
# nnc bench (6 significant digits) are the same with and without them.
for passes in --passes=none --passes=default --no-fusion; do
  expect_exit 0 "run $passes" "$nnc" run "$resnet" --input image="$tmp/image.npy" --random-weights 7 $passes
  cp "$tmp/out" "$tmp/run$passes"
  expect_exit 0 "bench $passes" "$nnc" bench "$resnet" --runs 1 --batch 2 --random-weights 7 $passes
  awk -F'|' '$2 ~ /resnet/ { gsub(/ /, "", $8); print $8 }' "$tmp/out" >"$tmp/bench$passes"
done
expect_in "$tmp/run--passes=none" "^logits: f32\[2, 10\] min" "run summary of resnet"
expect_in "$tmp/bench--passes=none" "[0-9]" "bench checksum of resnet"
for passes in --passes=default --no-fusion; do
  expect_exit 0 "run $passes gives the summary of --passes=none" diff "$tmp/run--passes=none" "$tmp/run$passes"
  expect_exit 0 "bench $passes gives the checksum of --passes=none" diff "$tmp/bench--passes=none" "$tmp/bench$passes"
done
expect_exit 2 "run with an unknown pass" "$nnc" run "$resnet" --input image="$tmp/image.npy" --random-weights 7 --passes=bogus
expect_in "$tmp/err" "unknown pass 'bogus'" "run unknown pass message"

# The compile cache: a second compile loads the code (same results), --no-cache compiles again,
# and a corrupt entry is replaced.
export NNC_CACHE_DIR=$tmp/cache
mlp=$root/examples/mlp.nn
expect_exit 0 "bench filling the cache" "$nnc" bench "$mlp" --random-weights 1 --runs 1
expect_not_in "$tmp/out" "| cached |" "first compile is not cached"
awk -F'|' '$2 ~ /mlp/ { print $8 }' "$tmp/out" >"$tmp/checksum.compiled"
expect_exit 0 "bench from the cache" "$nnc" bench "$mlp" --random-weights 1 --runs 1
expect_in "$tmp/out" "| cached |" "second compile comes from the cache"
awk -F'|' '$2 ~ /mlp/ { print $8 }' "$tmp/out" >"$tmp/checksum.cached"
expect_exit 0 "cached code gives the same checksum" diff "$tmp/checksum.compiled" "$tmp/checksum.cached"
expect_exit 0 "bench --no-cache" "$nnc" bench "$mlp" --random-weights 1 --runs 1 --no-cache
expect_not_in "$tmp/out" "| cached |" "--no-cache compiles"
expect_in "$tmp/out" "compile cache (off)" "--no-cache says so"
for entry in "$tmp"/cache/*.o; do printf 'garbage' >"$entry"; done
expect_exit 0 "bench over a corrupt entry" "$nnc" bench "$mlp" --random-weights 1 --runs 1
expect_not_in "$tmp/out" "| cached |" "a corrupt entry is not used"
expect_exit 0 "bench after the corrupt entry was replaced" "$nnc" bench "$mlp" --random-weights 1 --runs 1
expect_in "$tmp/out" "| cached |" "the replaced entry is used"
export NNC_CACHE_DIR=$tmp/cli-cache

if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
echo "cli: all passed"
