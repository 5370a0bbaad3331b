#include "probe.hpp"

#include <algorithm>
#include <fstream>

#include "kafka_helpers.hpp"

namespace anipipe::testing {

std::unique_ptr<Process> start_probe(const ProbeSetup& s, const std::string& instance) {
  std::vector<std::string> argv{probe_binary(), "--brokers", test_kafka_settings().brokers, "--input-topic", s.input_topic,
                                "--output-topic", s.output_topic, "--dlq-topic", s.dlq_topic, "--group", s.group, "--instance", instance,
                                "--status-file", s.dir + "/" + instance + ".status", "--schema-dir",
                                source_dir() + "/schemas:" + source_dir() + "/tests/schemas", "--retry-backoff-ms", "100",
                                "--retry-backoff-max-ms", "400", "--max-attempts", "3", "--shutdown-timeout", "20",
                                // Fast failure detection so takeover tests stay short.
                                "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500"};
  argv.insert(argv.end(), s.extra_args.begin(), s.extra_args.end());
  if (std::find(s.extra_args.begin(), s.extra_args.end(), "--metrics-addr") == s.extra_args.end())
    argv.insert(argv.end(), {"--metrics-addr", "off"});
  return std::make_unique<Process>(argv, s.dir + "/" + instance + ".log");
}

std::set<int> probe_assignment(const ProbeSetup& s, const std::string& instance) {
  std::ifstream in(s.dir + "/" + instance + ".status");
  std::set<int> parts;
  std::string topic;
  int p = 0;
  while (in >> topic >> p)
    if (topic == s.input_topic) parts.insert(p);
  return parts;
}

}  // namespace anipipe::testing
