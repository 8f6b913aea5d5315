#!/usr/bin/env bash
# Quick start 1: install what is missing, build (Release) keyward-server and the keyward command
# line, and run keyward-server on 127.0.0.1:6379 in the foreground. Extra arguments go to the
# server (e.g. --port 7000).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEYWARD_TESTS=OFF >/dev/null
cmake --build build --target keyward-server keyward
exec ./build/bin/keyward-server --bind 127.0.0.1 --port 6379 "$@"
