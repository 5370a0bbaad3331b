#pragma once
// anipipe-edge's flags and environment (its --help), parsed into the server's and the API's settings.
#include <string>

#include "config/options.hpp"
#include "http_api.hpp"
#include "http_server.hpp"
#include "topic_names.hpp"

namespace anipipe::edge {

struct EdgeOptions {
  config::WorkerOptions options;
  ServerSettings server;
  ApiSettings api;
  std::string titles_topic = topic_names::kTitles, new_episode_topic = topic_names::kNewEpisode,
              notifications_topic = topic_names::kNotifications, results_topic = topic_names::kSyncResults;
};

/// Parses argv (and the ANIPIPE_EDGE_* environment); --help exits 0, a bad command line exits 2.
EdgeOptions parse_options(int argc, char** argv);

}  // namespace anipipe::edge
