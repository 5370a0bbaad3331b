#!/usr/bin/env bash
# tests/scripts/run_keeps_data.sh [BUILD_DIR] — the local pipeline keeps its data across
# `scripts/run stop` and `scripts/run`: a subscription made before the stop still fans out a new
# episode after the start, and the title catalog still holds an episode that only it remembers.
# Runs the real scripts/run (no build: ANIPIPE_SKIP_BUILD=1) in a temporary ANIPIPE_RUN_DIR, on
# ports of its own (Kafka 19092/19093, Redis 16379, fake upstream 18081, edge 18080), so it runs
# beside scripts/test's broker (9092) and redis (6379) and never touches .run.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export ANIPIPE_BUILD_DIR=${1:-${ANIPIPE_BUILD_DIR:-$root/build}}
tmp=$(mktemp -d)
export ANIPIPE_RUN_DIR="$tmp"
export ANIPIPE_BROKERS=127.0.0.1:19092 ANIPIPE_KAFKA_PORT=19092 ANIPIPE_KAFKA_CONTROLLER_PORT=19093
export ANIPIPE_REDIS_URL=redis://127.0.0.1:16379 ANIPIPE_REDIS_PORT=16379
export ANIPIPE_FAKE_UPSTREAM_PORT=18081 ANIPIPE_EDGE_LISTEN=127.0.0.1:18080
export ANIPIPE_TOPIC_PARTITIONS=3 ANIPIPE_SKIP_BOOTSTRAP=1 ANIPIPE_SKIP_BUILD=1
export ANIPIPE_INGEST_POLL_INTERVAL_MS=500
upstream=http://127.0.0.1:18081
title=9873
subscriber=user-keep

t0=$SECONDS
# Seconds for the steps; the cleanup adds at most 80 more, so the whole test ends within 5 minutes
# (ctest's TIMEOUT is 420). A good run takes about a minute.
budget=210
say() { printf '[%3ds] %s\n' $((SECONDS - t0)) "$*"; }
# left LIMIT: LIMIT seconds, or what is left of the budget if that is less (at least 1: a step
# out of time gets one second and fails with its own message).
left() {
  local rest=$((t0 + budget - SECONDS))
  [ "$rest" -gt 0 ] || rest=1
  if [ "$1" -lt "$rest" ]; then echo "$1"; else echo "$rest"; fi
}

show_logs() {
  local f
  for f in "$tmp"/logs/*.log "$tmp"/kafka/kafka.log; do
    [ -f "$f" ] || continue
    printf '\n---- tail of %s\n' "${f#"$tmp"/}"
    tail -25 "$f"
  done
}

show_topics() {
  local t
  kcat -L -b "$ANIPIPE_BROKERS" -m 2 >/dev/null 2>&1 || { printf '\n---- (the broker does not answer: no topics to show)\n'; return 0; }
  for t in anilibria.subscriptions anilibria.new_episode anilibria.notifications; do
    printf '\n---- last records of %s\n' "$t"
    read_topic "$t" | tail -5 | cut -c1-400
  done
  printf '\n---- newest anilibria.titles record of %s\n' "$title"
  read_topic anilibria.titles | grep "^$title " | tail -1 | cut -c1-2000 || true
}

fail() {
  say "FAIL: $*"
  show_logs
  show_topics
  exit 1
}

cleanup() {
  local rc=$?
  say "cleaning up (scripts/run stop, scripts/kafka reset, rm $tmp)"
  timeout 45 scripts/run stop >/dev/null 2>&1 || true
  timeout 35 scripts/kafka reset >/dev/null 2>&1 || true
  rm -rf "$tmp"
  if [ "$rc" = 0 ]; then say "PASS"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A topic read to its end, committed records only (sync writes in transactions): "key value" lines.
read_topic() {
  timeout 30 kcat -C -b "$ANIPIPE_BROKERS" -t "$1" -X isolation.level=read_committed -e -q -f '%k %s\n' 2>/dev/null || true
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND once a second, bounded also by the budget.
wait_for() {
  local what=$1 limit=$2; shift 2
  local start=$SECONDS deadline
  deadline=$((SECONDS + $(left "$limit")))
  say "waiting for $what (up to $((deadline - SECONDS)) s)"
  until "$@"; do
    [ $SECONDS -lt "$deadline" ] || fail "gave up waiting for $what after $((SECONDS - start)) s"
    sleep 1
  done
  say "  $what: after $((SECONDS - start)) s"
}

ordinal() { printf '"ordinal":%s(\\.0+)?[,}]' "$1"; }
# No grep -q at the end of these pipes: an early exit would SIGPIPE the readers, and pipefail
# would turn a match into a failure.
title_in_catalog() { [ -n "$(read_topic anilibria.titles | grep "^$title ")" ]; }
notified() {  # notified ORDINAL ID: a notification for our subscriber about that very episode
  [ -n "$(read_topic anilibria.notifications | grep "^$subscriber " | grep "\"title_id\":$title[,}]" \
    | grep -F "\"$2\"" | grep -E "$(ordinal "$1")")" ]
}
# push_episode ORDINAL: the fake upstream publishes it; episode_id is the id it was given.
episode_id=
push_episode() {
  local answer
  answer=$(curl -sf -X POST "$upstream/_control/episode" -d "{\"release_id\":$title,\"ordinal\":$1}") \
    || fail "the fake upstream refused episode $1"
  episode_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$answer") \
    || fail "no episode id in the fake upstream's answer: $answer"
  say "the fake upstream published episode $1 of title $title (id $episode_id)"
}
run_start() {
  say "scripts/run ($1)"
  local limit; limit=$(left 180)
  timeout "$limit" scripts/run start || fail "scripts/run start failed or took over $limit s ($1)"
}

for tool in kcat curl; do command -v "$tool" >/dev/null || fail "$tool not found (scripts/bootstrap installs it)"; done
for w in ops ingest sync cache notify edge; do
  [ -x "$ANIPIPE_BUILD_DIR/bin/anipipe-$w" ] || fail "$ANIPIPE_BUILD_DIR/bin/anipipe-$w is not built"
done
say "run folder $tmp, build $ANIPIPE_BUILD_DIR"

# The fake upstream's seed (tests/fixtures/upstream/v1_release_latest_live.json) already has
# episode 2 of title 9873, and sync announces an episode once per ordinal: the episodes this test
# publishes are the next two, 3 before the restart and 4 after it.
before=3
after=4

run_start "first start"
wait_for "title $title in anilibria.titles" 90 title_in_catalog

say "subscribing $subscriber to title $title"
printf '%s\n' "$title:$subscriber|{\"title_id\":$title,\"subscriber_id\":\"$subscriber\"}" \
  | timeout 30 kcat -P -b "$ANIPIPE_BROKERS" -t anilibria.subscriptions -K '|' || fail "could not produce the subscription"
push_episode "$before"
wait_for "a notification to $subscriber about episode $before" 90 notified "$before" "$episode_id"
# The restarted fake upstream forgets this episode (it is in memory): only a catalog that kept its
# data still has it afterwards.
kept_episode=$episode_id

say "scripts/run stop"
timeout "$(left 60)" scripts/run stop || fail "scripts/run stop failed"
run_start "second start, same run folder"
push_episode "$after"
wait_for "a notification to $subscriber about episode $after (the subscription survived)" 120 \
  notified "$after" "$episode_id"

doc=$(read_topic anilibria.titles | grep "^$title " | tail -1) || true
[ -n "$doc" ] || fail "no anilibria.titles record for $title after the restart"
for n in 2 "$before" "$after"; do
  grep -Eq "$(ordinal "$n")" <<<"$doc" || fail "the newest catalog record of $title lacks episode $n: $doc"
done
grep -Fq "\"$kept_episode\"" <<<"$doc" \
  || fail "the newest catalog record of $title lost episode $before of before the restart ($kept_episode): $doc"
episodes=$(python3 -c 'import json, sys; d = json.loads(sys.stdin.read().split(" ", 1)[1])
print(", ".join("%s (%s)" % (e.get("ordinal"), e.get("id")) for e in d.get("episodes") or []))' <<<"$doc" 2>/dev/null) || true
say "the newest catalog record of $title kept episode $before of before the restart: ${episodes:-?}"
