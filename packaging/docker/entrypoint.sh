#!/bin/sh
# The container's entry point (tests/integration/test_packaging.py runs it directly).
#
#   keyward-entrypoint [server] [--option value ...]   keyward-server on all addresses, data in
#                                                      $KEYWARD_DATA (/data), the package's
#                                                      configuration, then the options given
#   keyward-entrypoint sentinel [--option value ...]   keyward-sentinel, its configuration
#                                                      written to $KEYWARD_DATA/sentinel.conf
#                                                      (a sentinel rewrites it) from
#                                                      $KEYWARD_SENTINEL_MONITOR ("name host
#                                                      port quorum") the first time
#
# In a container the network is the pod's: the server listens on every address with protected
# mode off, so set requirepass (or ACLs) for anything exposed beyond the cluster.
set -eu
BIN="${KEYWARD_BIN_DIR:-/usr/bin}"
CONF="${KEYWARD_CONF_DIR:-/etc/keyward}"
DATA="${KEYWARD_DATA:-/data}"
mode=server
if [ "${1:-}" = "server" ] || [ "${1:-}" = "sentinel" ]; then
  mode="$1"
  shift
fi
mkdir -p "$DATA"
if [ "$mode" = "sentinel" ]; then
  conf="$DATA/sentinel.conf"
  if [ ! -e "$conf" ]; then
    # cat, not cp: a read-only source (a ConfigMap's mode) must not make the copy read-only.
    cat "$CONF/sentinel.conf" > "$conf"
    if [ -n "${KEYWARD_SENTINEL_MONITOR:-}" ]; then
      name=$(echo "$KEYWARD_SENTINEL_MONITOR" | cut -d' ' -f1)
      echo "sentinel resolve-hostnames yes" >> "$conf"
      echo "sentinel monitor $KEYWARD_SENTINEL_MONITOR" >> "$conf"
      echo "sentinel down-after-milliseconds $name ${KEYWARD_SENTINEL_DOWN_AFTER:-5000}" >> "$conf"
    fi
  fi
  exec "$BIN/keyward-sentinel" "$conf" --dir "$DATA" --bind "* -::*" --daemonize no \
    --supervised no "$@"
fi
exec "$BIN/keyward-server" "$CONF/keyward.conf" --dir "$DATA" --bind "* -::*" \
  --protected-mode no --daemonize no --supervised no "$@"
