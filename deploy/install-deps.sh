#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and running mlprod need.
# Idempotent: when every package is present it changes nothing and touches no network.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git
  # gRPC + protobuf (generated code, reflection, health)
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  # maths and storage
  libeigen3-dev libboost-math-dev libsqlite3-dev libssl-dev
  # CLI, JSON, logging
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the example data generator and the test driver
  python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
