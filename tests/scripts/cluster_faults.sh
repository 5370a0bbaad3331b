#!/usr/bin/env bash
# ctest: the whole pipeline on a 3-broker cluster (scripts/kafka --brokers 3, its own ports and
# folder beside the test broker) while its brokers fail: anipipe-fault-test --broker-faults 1.
# Topics are replicated 3 times with min.insync.replicas 2, as the catalog's cluster profile says.
# The cluster is removed at the end, whatever happened. Redis is the test redis-server (db 8).
#   tests/scripts/cluster_faults.sh BIN_DIR [TITLES] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1
titles=${2:-30}
seconds=${3:-90}
export ANIPIPE_RUN_DIR="${TMPDIR:-/tmp}/anipipe-cluster-faults-$$"
export ANIPIPE_KAFKA_PORT=${ANIPIPE_CLUSTER_PORT:-29092}
export ANIPIPE_KAFKA_CONTROLLER_PORT=$((ANIPIPE_KAFKA_PORT + 100))
cleanup() {
  "$root/scripts/kafka" reset >/dev/null 2>&1 || true
  rm -rf "$ANIPIPE_RUN_DIR"
}
trap cleanup EXIT
"$root/scripts/kafka" start --brokers 3
ANIPIPE_BROKERS=$("$root/scripts/kafka" bootstrap)
export ANIPIPE_BROKERS ANIPIPE_TEST_REPLICATION=3 ANIPIPE_SOURCE_DIR="$root" ANIPIPE_SCHEMA_DIR=
# The catalog's own topics with the cluster profile: replication 3 and min.insync.replicas 2.
"$bin/anipipe-ops" topics apply
# Each broker learns of new topics a moment after the controller: wait until any of them says no drift.
for i in $(seq 30); do "$bin/anipipe-ops" topics diff > "$ANIPIPE_RUN_DIR/diff.log" 2>&1 && break; sleep 1; done
cat "$ANIPIPE_RUN_DIR/diff.log"
grep -q "^no drift" "$ANIPIPE_RUN_DIR/diff.log"
"$bin/anipipe-fault-test" --titles "$titles" --seconds "$seconds" --subscribers 2 --v1-limit 10 --broker-faults 1 --redis-db 8
