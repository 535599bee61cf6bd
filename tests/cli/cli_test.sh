#!/usr/bin/env bash
# Command-line behaviour of nnc: exit codes (0 valid, 1 errors, 2 usage), help, output streams.
set -u
nnc=$1
root=$2
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
expect_exit 0 "ir of a valid file" "$nnc" ir "$tmp/good.nn"
expect_in "$tmp/out" "%y = relu(%x) : f32\[N, 4\]" "ir output"
expect_exit 0 "ir --model" "$nnc" ir "$tmp/good.nn" --model m
expect_exit 1 "ir --model of an unknown model" "$nnc" ir "$tmp/good.nn" --model mm
expect_in "$tmp/err" "did you mean 'm'" "unknown model suggestion"
expect_exit 1 "ir of an invalid file" "$nnc" ir "$tmp/bad.nn"
expect_exit 2 "no subcommand" "$nnc"
expect_exit 2 "unknown subcommand" "$nnc" frobnicate
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

if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
echo "cli: all passed"
