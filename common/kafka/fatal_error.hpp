#pragma once
// librdkafka's fatal errors: a static member fenced by another with the same group.instance.id, an
// idempotent producer whose sequence cannot be recovered, a fenced transactional producer. The
// client is unusable from then on and retrying cannot help; the process must end with a non-zero
// exit code so that its supervisor starts a fresh one (a live process that does nothing is the
// worst outcome: nobody restarts it). runtime::run_process turns this into exit code 4.
#include <stdexcept>

namespace anipipe::kafka {

class FatalError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace anipipe::kafka
