#!/usr/bin/env bash
# Quick start 2: install what is missing (including redis-server/redis-tools as test peers),
# build with AddressSanitizer + UndefinedBehaviorSanitizer and run every test. Exits non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKEYWARD_SANITIZE=ON >/dev/null
cmake --build build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan
ctest --output-on-failure --timeout 900 -j2
