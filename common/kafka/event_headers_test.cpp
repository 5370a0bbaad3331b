#include <doctest/doctest.h>

#include "kafka/event_headers.hpp"

using anipipe::kafka::EventHeaders;
using anipipe::kafka::valid_traceparent;

TEST_CASE("a new root trace is a valid W3C traceparent whose trace id is the correlation id") {
  auto h = EventHeaders::new_root("ingest");
  CHECK(valid_traceparent(h.traceparent));
  CHECK(h.traceparent.size() == 55);
  CHECK(h.correlation_id == h.trace_id());
  CHECK(h.producer == "ingest");
  CHECK(EventHeaders::new_root("x").trace_id() != h.trace_id());
  CHECK(EventHeaders::new_root("x", "req-42").correlation_id == "req-42");
}

TEST_CASE("a child keeps trace and correlation, gets a new span, and names its schema") {
  auto parent = EventHeaders::new_root("ingest", "corr-1");
  auto child = parent.child("sync", "anilibria.titles", 3);
  CHECK(valid_traceparent(child.traceparent));
  CHECK(child.trace_id() == parent.trace_id());
  CHECK(child.traceparent.substr(36, 16) != parent.traceparent.substr(36, 16));
  CHECK(child.correlation_id == "corr-1");
  CHECK(child.schema == "anilibria.titles");
  CHECK(child.schema_version == "3");
  CHECK(child.producer == "sync");
}

TEST_CASE("a child of an input without headers starts a new root") {
  EventHeaders none;
  auto child = none.child("sync", "anilibria.titles", 1);
  CHECK(valid_traceparent(child.traceparent));
  CHECK_FALSE(child.correlation_id.empty());
}

TEST_CASE("traceparent validation") {
  CHECK(valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  CHECK_FALSE(valid_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("garbage"));
}
