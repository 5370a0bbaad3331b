#include "upstream/upstream_event.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "catalog/title_json.hpp"
#include "util/hex.hpp"

namespace anipipe::upstream {
namespace {

constexpr std::string_view kIdPrefix = R"({"event_id":")";
constexpr std::size_t kIdLength = 32;  // hex of the first 128 bits of the digest

/// sha256("{" + rest), hex of its first 128 bits, into id[0..32).
void hex_sha256_128(std::string_view rest, char* id) {
  // Fetched and allocated once per thread: OpenSSL 3 otherwise looks the algorithm up and
  // allocates a context on every call (a measurable share of ingest).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!sha256 || !ctx || !EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) || !EVP_DigestUpdate(ctx.get(), "{", 1) ||
      !EVP_DigestUpdate(ctx.get(), rest.data(), rest.size()) || !EVP_DigestFinal_ex(ctx.get(), md, &len))
    throw std::runtime_error("SHA-256 is unavailable in this OpenSSL");
  util::to_hex(md, kIdLength / 2, id);
}

}  // namespace

std::string_view serialize_event(const UpstreamEvent& e, std::string_view observed_at, std::string& out, json::WriteObserver* observer) {
  // One buffer, no copies: the envelope first with a placeholder id, then the content; the id is
  // the hash of the content as its own object ("{" + the fields after the envelope's comma) and
  // is written over the placeholder (which has its width and needs no escaping, so it sits at
  // kIdPrefix.size()).
  out.clear();
  json::Writer w(out, observer);
  w.begin_object().field("event_id", std::string_view("00000000000000000000000000000000")).field("observed_at", observed_at);
  w.key("source").begin_object().field("api", e.api);
  if (!e.endpoint.empty()) w.field("endpoint", e.endpoint);
  w.end_object();
  const std::size_t content = out.size();  // at the comma that opens the content
  w.field("kind", e.kind).field("title_id", e.title_id);
  if (e.title) {
    w.key("title");
    catalog::write_title(w, *e.title, e.generation);
    if (e.title->episodes_listed) w.field("episodes_complete", true);
  }
  if (e.episode) {
    w.key("episode").begin_object().field("id", e.episode->id).field("ordinal", e.episode->ordinal).field("name", e.episode->name);
    if (e.episode->reupload) w.field("reupload", *e.episode->reupload);
    w.end_object();
  }
  if (e.encode) {
    w.key("encode")
        .begin_object()
        .field("episode", e.encode->episode)
        .field("resolution", e.encode->resolution)
        .field("quality", e.encode->quality)
        .field("progress", e.encode->progress)
        .end_object();
  }
  if (e.torrent) {
    w.key("torrent")
        .begin_object()
        .field("id", e.torrent->id)
        .field("episodes", e.torrent->episodes)
        .field("quality", e.torrent->quality)
        .end_object();
  }
  if (e.kind == "schedule_item") w.field("next_episode", e.next_episode);
  if (!e.sweep.empty()) w.field("sweep", e.sweep);
  w.end_object();
  static_assert(kIdPrefix.size() == 13, "event_id_of() knows where the id is");
  hex_sha256_128(std::string_view(out).substr(content + 1), out.data() + kIdPrefix.size());
  return std::string_view(out).substr(kIdPrefix.size(), kIdLength);
}

}  // namespace anipipe::upstream
