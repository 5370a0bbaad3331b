// anipipe-bench-loops: a consume-to-produce passthrough, built on the runtime's loops and on raw
// librdkafka, for scripts/bench-loops. Each mode reads INPUT as GROUP and writes every record,
// unchanged, to OUTPUT until SIGTERM; the script measures the rate at which OUTPUT fills
// (read_committed) and compares the modes in one run.
//   raw        librdkafka alone, at least once: produce each record, store its offset from the
//              delivery report, auto-commit the stored offsets (what the runtime loop guarantees,
//              with nothing else)
//   loop       runtime::ConsumerLoop (what cache and notify run), the topic's schema check off
//   loop-check the same, every input checked against anilibria.upstream.events
//   raw-txn    librdkafka alone, exactly once: a batch (the first record waited for up to 100 ms,
//              then what is already fetched, up to 500) in a transaction with its offsets
//   txn        runtime::TransactionalLoop (what sync runs)
// The raw modes use librdkafka directly on purpose: they are the reference, not product code.
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/options.hpp"
#include "json/schema.hpp"
#include "metrics/metrics.hpp"
#include "runtime/consumer_loop.hpp"
#include "runtime/shutdown.hpp"
#include "runtime/transactional_loop.hpp"

namespace {

using anipipe::runtime::Handled;

std::atomic<bool> g_stop{false};
std::string g_input;  // the raw mode's delivery reports store offsets of this topic

// A TransactionalHandler is a RecordHandler too: the same passthrough runs on both loops.
class Passthrough final : public anipipe::runtime::TransactionalHandler {
public:
  explicit Passthrough(std::string output) : output_(std::move(output)) {}
  Handled handle(const anipipe::kafka::Message& record) override {
    anipipe::kafka::OutRecord out;
    out.topic = output_;
    if (auto k = record.key()) out.key = std::string(*k);
    if (auto v = record.value()) out.value = std::string(*v);
    return Handled::done({std::move(out)});
  }

private:
  std::string output_;
};

rd_kafka_conf_t* conf(const std::string& brokers, std::initializer_list<std::pair<const char*, std::string>> kv) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) throw std::runtime_error(err);
  };
  set("bootstrap.servers", brokers);
  // The same socket and fetch settings as common/kafka's clients: the ratio is the runtime's cost,
  // not a difference in configuration (without this, each transaction waits on Nagle's algorithm).
  set("socket.nagle.disable", "true");
  if (kv.size() && std::string(kv.begin()->first) == "group.id") set("fetch.wait.max.ms", "100");
  for (const auto& [k, v] : kv) set(k, v);
  return c;
}

rd_kafka_t* make(rd_kafka_type_t type, rd_kafka_conf_t* c) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, c, err, sizeof err);
  if (!rk) throw std::runtime_error(err);
  return rk;
}

rd_kafka_t* consumer(const std::string& brokers, const std::string& group, const std::string& input, bool read_committed) {
  rd_kafka_t* rk = make(RD_KAFKA_CONSUMER, conf(brokers, {{"group.id", group},
                                                          {"auto.offset.reset", "earliest"},
                                                          {"enable.auto.offset.store", "false"},
                                                          {"enable.auto.commit", read_committed ? "false" : "true"},
                                                          {"isolation.level", "read_committed"}}));
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, input.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  return rk;
}

/// At least once with librdkafka alone: each record's offset is stored when its copy is acknowledged.
int run_raw(const std::string& brokers, const std::string& group, const std::string& input, const std::string& output) {
  rd_kafka_t* in = consumer(brokers, group, input, false);
  rd_kafka_conf_t* pc = conf(
      brokers,
      {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}, {"compression.type", "lz4"}, {"batch.size", "1000000"}});
  rd_kafka_conf_set_opaque(pc, in);
  rd_kafka_conf_set_dr_msg_cb(pc, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err) return;
    // The input's place travelled in the record's opaque: partition in the high bits.
    const auto packed = reinterpret_cast<std::uintptr_t>(m->_private);
    rd_kafka_topic_partition_list_t* at = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(at, g_input.c_str(), static_cast<int32_t>(packed >> 48))->offset =
        static_cast<int64_t>(packed & ((std::uintptr_t{1} << 48) - 1)) + 1;
    rd_kafka_offsets_store(static_cast<rd_kafka_t*>(opaque), at);
    rd_kafka_topic_partition_list_destroy(at);
  });
  rd_kafka_t* out = make(RD_KAFKA_PRODUCER, pc);
  while (!g_stop) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(in, 100);
    if (m && !m->err) {
      const auto packed = (static_cast<std::uintptr_t>(m->partition) << 48) | static_cast<std::uintptr_t>(m->offset);
      while (rd_kafka_producev(out, RD_KAFKA_V_TOPIC(output.c_str()), RD_KAFKA_V_KEY(m->key, m->key_len),
                               RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(packed)), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(out, 10);
    }
    if (m) rd_kafka_message_destroy(m);
    rd_kafka_poll(out, 0);
  }
  rd_kafka_flush(out, 10000);
  rd_kafka_consumer_close(in);
  rd_kafka_destroy(out);
  rd_kafka_destroy(in);
  return 0;
}

/// Exactly once with librdkafka alone: consume a batch, produce it and its offsets in one transaction.
int run_raw_txn(const std::string& brokers, const std::string& group, const std::string& input, const std::string& output) {
  rd_kafka_t* in = consumer(brokers, group, input, true);
  // retry.backoff.ms 10 as common/kafka sets it: a transaction begun right after a commit meets
  // CONCURRENT_TRANSACTIONS and librdkafka's default backoff (100 ms) would dominate.
  rd_kafka_t* out = make(RD_KAFKA_PRODUCER, conf(brokers, {{"transactional.id", group + ".raw"},
                                                           {"linger.ms", "5"},
                                                           {"retry.backoff.ms", "10"},
                                                           {"compression.type", "lz4"},
                                                           {"batch.size", "1000000"}}));
  auto check = [](rd_kafka_error_t* e, const char* what) {
    if (!e) return;
    std::string text = std::string(what) + ": " + rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    throw std::runtime_error(text);
  };
  check(rd_kafka_init_transactions(out, 30000), "init_transactions");
  std::vector<rd_kafka_message_t*> batch;
  std::size_t transactions = 0, records = 0;
  double produce_s = 0, offsets_s = 0, commit_s = 0;
  while (!g_stop) {
    // The first record waits up to 100 ms, the rest is what is already fetched (up to 500).
    while (batch.size() < 500) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(in, batch.empty() ? 100 : 0);
      if (!m) break;
      if (m->err) {
        rd_kafka_message_destroy(m);
        continue;
      }
      batch.push_back(m);
    }
    if (batch.empty()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    check(rd_kafka_begin_transaction(out), "begin_transaction");
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(16);
    for (auto* m : batch) {
      while (rd_kafka_producev(out, RD_KAFKA_V_TOPIC(output.c_str()), RD_KAFKA_V_KEY(m->key, m->key_len),
                               RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(out, 10);
      auto* at = rd_kafka_topic_partition_list_find(offsets, input.c_str(), m->partition);
      if (!at) at = rd_kafka_topic_partition_list_add(offsets, input.c_str(), m->partition);
      at->offset = m->offset + 1;
    }
    const auto t1 = std::chrono::steady_clock::now();
    rd_kafka_consumer_group_metadata_t* meta = rd_kafka_consumer_group_metadata(in);
    check(rd_kafka_send_offsets_to_transaction(out, offsets, meta, 30000), "send_offsets_to_transaction");
    rd_kafka_consumer_group_metadata_destroy(meta);
    rd_kafka_topic_partition_list_destroy(offsets);
    const auto t2 = std::chrono::steady_clock::now();
    check(rd_kafka_commit_transaction(out, 30000), "commit_transaction");
    const auto t3 = std::chrono::steady_clock::now();
    produce_s += std::chrono::duration<double>(t1 - t0).count();
    offsets_s += std::chrono::duration<double>(t2 - t1).count();
    commit_s += std::chrono::duration<double>(t3 - t2).count();
    ++transactions;
    records += batch.size();
    for (auto* m : batch) rd_kafka_message_destroy(m);
    batch.clear();
  }
  std::fprintf(stderr, "raw-txn: %zu transactions, %.1f records each; produce %.3f s, send offsets %.3f s, commit %.3f s\n", transactions,
               transactions ? double(records) / transactions : 0.0, produce_s, offsets_s, commit_s);
  rd_kafka_consumer_close(in);
  rd_kafka_destroy(out);
  rd_kafka_destroy(in);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anipipe-bench-loops: a consume-to-produce passthrough on the runtime or on raw librdkafka"};
  anipipe::kafka::Settings kafka;
  std::string mode, group, input, output;
  anipipe::config::add_kafka_options(app, kafka);
  app.add_option("mode", mode, "raw | loop | loop-check | raw-txn | txn")
      ->required()
      ->check(CLI::IsMember({"raw", "loop", "loop-check", "raw-txn", "txn"}));
  app.add_option("--group", group)->required();
  app.add_option("--input", input)->required();
  app.add_option("--output", output)->required();
  anipipe::config::parse_or_exit(app, argc, argv);
  g_input = input;
  const auto& stop = anipipe::runtime::install_shutdown_handlers();
  try {
    if (mode == "raw" || mode == "raw-txn") {
      std::thread watch([&] {
        while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        g_stop = true;
      });
      const int code = mode == "raw" ? run_raw(kafka.brokers, group, input, output) : run_raw_txn(kafka.brokers, group, input, output);
      watch.join();
      return code;
    }
    auto schemas = anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir());
    anipipe::metrics::Metrics metrics("bench", "off");
    Passthrough handler(output);
    anipipe::runtime::LoopSettings s;
    s.worker = "bench";
    s.topics = {input};
    s.options.kafka = kafka;
    s.options.group = group;
    s.options.log_level = "warn";
    // The schema check is keyed by topic name: on for anilibria.upstream.events' contract, or off
    // (a name no schema has).
    s.schema_names[input] = mode == "loop" ? "none" : "anilibria.upstream.events";
    if (mode == "txn") {
      anipipe::runtime::TransactionalSettings t;
      t.loop = s;
      t.loop.schema_names[input] = "none";
      t.transactional_id = group + ".txn";
      anipipe::runtime::TransactionalLoop loop(std::move(t), handler, schemas, metrics);
      return loop.run(stop);
    }
    anipipe::runtime::ConsumerLoop loop(std::move(s), handler, schemas, metrics);
    return loop.run(stop);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anipipe-bench-loops: %s\n", e.what());
    return 2;
  }
}
