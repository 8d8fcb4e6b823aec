#!/usr/bin/env bash
# Installs every build, test and run dependency of Sluice from Debian 12's repositories.
# Idempotent: packages already present are not touched and apt is not even consulted.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config g++ git
  librdkafka-dev libzookeeper-mt-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev libjemalloc-dev libmicrohttpd-dev libgnutls28-dev libcmocka-dev
  libsimdjson-dev libjansson-dev libcjson-dev libzstd-dev
  libavro-dev libsnappy-dev zlib1g-dev libyaml-dev
  zookeeper kcat curl nginx-light openssl
  clang libclang-rt-14-dev llvm
  procps iproute2 netcat-openbsd python3 systemd python3-yaml
  avro-bin python3-avro python3-distributed
  chromium
)

# --bench: also what only the benchmarks run against (bench/README.md)
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=(clickhouse-server clickhouse-client)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
