#!/bin/sh
# Keyward vs redis-server under redis-benchmark: see bench/README.md and compare_redis.py --help.
#   bench/compare_redis.sh --quick             smoke run (1 round, short runs)
#   bench/compare_redis.sh --markdown          full run (5 rounds), table in Markdown
exec python3 "$(dirname "$0")/compare_redis.py" "$@"
