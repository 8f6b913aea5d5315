#!/bin/sh
# A cron job that runs on every host of a fleet but must run once at a time across all of them:
# `keyward lock` takes the lock, renews it while the job runs, and kills the job if the lease is
# lost. The crontab line on every host:
#
#   */5 * * * *  KEYWARD_SERVERS=redis://kw1:6379,redis://kw2:6379,redis://kw3:6379 \
#                keyward lock reports:nightly --ttl 30000 -- /opt/reports/nightly-report.sh
#
# Inside, KEYWARD_FENCING_TOKEN identifies this run: it grows with every acquisition, so the
# report store can refuse a late write from a run that lost its lock. Here the "store" is a key in
# Keyward itself, written with LOCK.GUARD, which refuses tokens older than the last one it saw.
set -eu
: "${KEYWARD_FENCING_TOKEN:?run me through keyward lock}"
server=${REPORT_SERVER:-redis://127.0.0.1:6379}

report="report built on $(hostname) under token $KEYWARD_FENCING_TOKEN"
# ... the real work goes here ...
redis-cli -u "$server" LOCK.GUARD "$KEYWARD_LOCK_RESOURCE" "$KEYWARD_FENCING_TOKEN" \
  SET reports:latest "$report" >/dev/null
echo "$report"
