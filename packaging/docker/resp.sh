#!/bin/bash
# keyward-resp HOST PORT ARG...: sends one command to a Redis-protocol server (Keyward, a
# sentinel) and prints the reply, an element per line: simple strings, integers, one-line bulk
# strings and arrays of them. Exits 1 on an error reply (printed to stderr), a nil, or no answer
# within 2 seconds; a connection that cannot be made fails as bash's /dev/tcp does (give it a
# `timeout`). The image has no redis-cli: the Kubernetes manifests' probes and start scripts use
# this (deploy/kubernetes/).
set -u
export LC_ALL=C
[ $# -ge 3 ] || { echo "usage: keyward-resp HOST PORT ARG..." >&2; exit 2; }
host=$1 port=$2
shift 2
exec 3<>"/dev/tcp/$host/$port" || exit 1
request="*$#"$'\r\n'
for arg in "$@"; do request+="\$${#arg}"$'\r\n'"$arg"$'\r\n'; done
printf '%s' "$request" >&3

line() {
  IFS= read -r -t 2 l <&3 || exit 1
  l=${l%$'\r'}
}
element() {
  line
  case $l in
    [+:]*) printf '%s\n' "${l:1}" ;;
    -*) printf '%s\n' "${l:1}" >&2; exit 1 ;;
    '$-1' | '*-1') exit 1 ;;
    \$*) line; printf '%s\n' "$l" ;;
    \**) local n=${l:1} i; for ((i = 0; i < n; i++)); do element; done ;;
    *) exit 1 ;;
  esac
}
element
