#include "upstream/normalizer.hpp"

#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

// Each instruction set's copy of the normalizing (normalizer_ondemand.cpp, upstream/isa.hpp).
namespace anipipe::upstream::generic {
std::unique_ptr<NormalizerBackend> make_ondemand_normalizer(const json::SchemaRegistry* contract);
}
#if ANIPIPE_UPSTREAM_HASWELL
namespace anipipe::upstream::haswell {
std::unique_ptr<NormalizerBackend> make_ondemand_normalizer(const json::SchemaRegistry* contract);
}
#endif

namespace anipipe::upstream {
namespace {

#if ANIPIPE_UPSTREAM_HASWELL
// What -march=haswell lets the compiler use beyond x86-64: AVX2, BMI1/2, LZCNT, MOVBE, FMA, F16C.
bool cpu_is_haswell() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
         __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("pclmul");
}
#endif

}  // namespace

Normalizer::Normalizer(const json::SchemaRegistry* contract) {
  const char* wanted = std::getenv("ANIPIPE_UPSTREAM_ISA");
#if ANIPIPE_UPSTREAM_HASWELL
  if (cpu_is_haswell() && !(wanted && std::strcmp(wanted, "generic") == 0)) {
    backend_ = haswell::make_ondemand_normalizer(contract);
    isa_ = "haswell";
    return;
  }
#endif
  if (wanted && *wanted && std::strcmp(wanted, "generic") != 0)
    spdlog::warn("ANIPIPE_UPSTREAM_ISA={}: not available here, normalizing with the generic build", wanted);
  backend_ = generic::make_ondemand_normalizer(contract);
}

Normalizer::~Normalizer() = default;
Normalizer::Normalizer(Normalizer&&) noexcept = default;
Normalizer& Normalizer::operator=(Normalizer&&) noexcept = default;

Normalized Normalizer::normalize(simdjson::padded_string_view text, std::string_view api, std::string_view endpoint,
                                 std::string_view observed_at) {
  Normalized n;
  normalize(text, api, endpoint, observed_at, n);
  return n;
}

Normalized Normalizer::normalize_copy(std::string_view text, std::string_view api, std::string_view endpoint,
                                      std::string_view observed_at) {
  simdjson::padded_string padded(text);
  return normalize(padded, api, endpoint, observed_at);
}

}  // namespace anipipe::upstream
