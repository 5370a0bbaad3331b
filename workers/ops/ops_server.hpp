#pragma once
// `anipipe-ops serve`: the ops page and the JSON it reads, over the same functions as the CLI
// (topics offsets, groups list / lag, dlq list / show / redrive, tail, freshness), so the page and
// the terminal never disagree. One page, its script and styles inline: no CDN, nothing fetched
// from anywhere but this process.
//   GET  /                      the page
//   GET  /api/topics            topics with partitions, first and end offsets
//   GET  /api/groups            groups, state, members
//   GET  /api/groups/lag?group=G            members and lag per partition (records, seconds)
//   GET  /api/dlq?source_topic=&worker=&error=&since=&limit=   dead letters, oldest first
//   GET  /api/dlq/record?id=P:O             one dead letter with its envelope and value
//   POST /api/dlq/redrive        {"id":"P:O" | filters, "dry_run":true|false, "again":false}
//   GET  /api/tail?topic=T&n=N   the newest records of a topic
//   GET  /api/freshness          freshness per stage from the workers' /metrics (--metrics-url)
//   GET  /metrics                anipipe_dlq_depth{source_topic} and anipipe_dlq_oldest_seconds
// Safety: it listens on loopback unless given a token (--token / ANIPIPE_OPS_TOKEN), which every
// /api request must then carry as a bearer token; without a token the Host header must name the
// loopback (a web page's DNS rebinding cannot reach it). POSTs need the X-Anipipe-Ops header, which
// a cross-site form cannot send.
#include "kafka/settings.hpp"
#include "ops_api.hpp"

namespace anipipe::ops {

/// Serves until SIGINT or SIGTERM; returns the exit code. Throws at startup (address in use, a
/// non-loopback address without a token).
int serve(const kafka::Settings& kafka, const ServeOptions& options);

}  // namespace anipipe::ops
