#!/usr/bin/env bash
# Installs the Debian 12 packages nnc needs to build, test and benchmark. Installs only what is
# missing, so a second run does nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build git python3 clang-format pkg-config
  python3-numpy                                # the ctypes example (examples/python)
  llvm-19-dev libzstd-dev                      # JIT code generation (LLVM ORC), linked statically
  libboost-dev                                 # Boost.Spirit X3 grammar
  libfmt-dev libcli11-dev nlohmann-json3-dev   # formatting, command line, JSON
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  libdnnl-dev libxnnpack-dev libpthreadpool-dev  # peers in the benchmarks (oneDNN, XNNPACK)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
