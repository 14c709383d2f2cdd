#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and running mlprod need.
#   deploy/install-deps.sh           build, tests and `make run`
#   deploy/install-deps.sh --bench  also the peers `make bench` measures mlprod against (numpy,
#                                   pandas, statsmodels over Debian's pthread OpenBLAS, SPEC §10);
#                                   `make test` never needs these
#   deploy/install-deps.sh --fuzz   also clang and libFuzzer for the `fuzz` preset
#                                   (tests/fuzz/run_fuzzers.sh, docs/FUZZING.md); `make test`
#                                   never needs these
# Idempotent: when every package is present it changes nothing and touches no network.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git
  # gRPC + protobuf (generated code, reflection, health)
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  # maths and storage
  libeigen3-dev libboost-math-dev libsqlite3-dev libssl-dev
  # CLI, JSON, logging, the Prometheus /metrics endpoint
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcpp-httplib-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the example data generator and the end-to-end test driver; openssl makes the TLS tests'
  # certificates
  python3 openssl
)
BENCH_PACKAGES=(
  # the peers, run by Debian's /usr/bin/python3, and threadpoolctl to report their BLAS threads
  python3-numpy python3-pandas python3-statsmodels python3-threadpoolctl
  # the BLAS they run on, as users have it (SPEC §10)
  libopenblas0-pthread
)
FUZZ_PACKAGES=(
  # clang++ with libFuzzer, ASan and UBSan (Debian ships the runtimes apart from the compiler),
  # and llvm-symbolizer so that a finding's stack names its lines
  clang libclang-rt-14-dev llvm-14
)

case "${1:-}" in
  "") ;;
  --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
  --fuzz) PACKAGES+=("${FUZZ_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--bench | --fuzz]" >&2; exit 2 ;;
esac

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
