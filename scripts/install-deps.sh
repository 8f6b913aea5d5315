#!/usr/bin/env bash
# Installs, from Debian 12's packages only, whatever the build (and with --test, the tests) need.
# Safe to run repeatedly: it only calls apt-get when something is missing.
set -euo pipefail

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config libasio-dev libssl-dev libspdlog-dev
  libfmt-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev liblzf-dev nlohmann-json3-dev libxxhash-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev)
# Test peers and clients: Debian's redis-server/redis-cli/redis-benchmark 7.0 are the oracle; the
# openssl CLI makes the certificates of the client's TLS tests.
# iproute2: the replication partition test puts a replica in a network namespace of its own;
# iptables: keyward-jepsen's partition fault (a private chain that drops a node's traffic);
# libfaketime: its clock fault (a node's wall clock moved).
# systemd: systemd-analyze verifies the packaged units (nothing is started); dpkg-dev: the .deb.
# python3-yaml: the Kubernetes test reads deploy/kubernetes/*.yaml (their validator is node's).
TEST_PACKAGES=(redis-server redis-tools python3 python3-redis python3-yaml clang libclang-rt-14-dev
  openssl iproute2 iptables libfaketime systemd dpkg-dev)

packages=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--test" ]]; then
  packages+=("${TEST_PACKAGES[@]}")
  # The interop tests run node-redlock on Node.js, and the Kubernetes test the manifests'
  # validator; their modules come from the npm registry (`npm ci` of tests/interop/node's and
  # deploy/kubernetes/validate's package-lock.json, run by the tests). Debian's nodejs and npm,
  # unless a node with its npm is already there: NodeSource's nodejs bundles npm and conflicts
  # with Debian's npm package.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "Installing: ${missing[*]}"
# Keep Debian's redis-server from starting as a service on port 6379 during installation:
# the tests start their own peers on free ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
  $SUDO chmod +x $policy
  created_policy=1
fi
trap '[[ $created_policy == 1 ]] && $SUDO rm -f '"$policy" EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
