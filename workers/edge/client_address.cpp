#include "client_address.hpp"

#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace anipipe::edge {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// A Forwarded for= value: a bare IPv4, "[v6]" or "[v6]:port" / "v4:port", quoted or not.
std::string_view forwarded_node(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (!v.empty() && v.front() == '[') return v.substr(1, v.find(']') == std::string_view::npos ? 0 : v.find(']') - 1);
  if (const auto colon = v.find(':'); colon != std::string_view::npos && v.find(':', colon + 1) == std::string_view::npos)
    return v.substr(0, colon);
  return v;
}

/// The addresses a header lists, in order (nearest hop last).
std::vector<std::string_view> hops(std::string_view x_forwarded_for, std::string_view forwarded) {
  std::vector<std::string_view> out;
  auto each = [](std::string_view list, char sep, auto&& f) {
    for (std::size_t i = 0; i <= list.size();) {
      const auto end = std::min(list.find(sep, i), list.size());
      f(trim(list.substr(i, end - i)));
      i = end + 1;
    }
  };
  if (!forwarded.empty()) {
    each(forwarded, ',', [&](std::string_view element) {
      each(element, ';', [&](std::string_view pair) {
        if (pair.size() > 4 && (pair.substr(0, 4) == "for=" || pair.substr(0, 4) == "For=" || pair.substr(0, 4) == "FOR="))
          out.push_back(forwarded_node(pair.substr(4)));
      });
    });
    return out;
  }
  each(x_forwarded_for, ',', [&](std::string_view a) {
    if (!a.empty()) out.push_back(a);
  });
  return out;
}

}  // namespace

TrustedProxies::TrustedProxies(std::string_view list) {
  for (std::size_t i = 0; i < list.size();) {
    const auto end = std::min(list.find(',', i), list.size());
    const std::string entry(trim(list.substr(i, end - i)));
    i = end + 1;
    if (entry.empty()) continue;
    boost::system::error_code ec;
    const bool cidr = entry.find('/') != std::string::npos;
    if (entry.find(':') == std::string::npos) {
      auto net = cidr ? ip::make_network_v4(entry, ec) : ip::network_v4(ip::make_address_v4(entry, ec), 32);
      if (ec) throw std::invalid_argument("--trusted-proxies: not an IPv4 address or network: " + entry);
      v4_.push_back(net.canonical());
    } else {
      auto net = cidr ? ip::make_network_v6(entry, ec) : ip::network_v6(ip::make_address_v6(entry, ec), 128);
      if (ec) throw std::invalid_argument("--trusted-proxies: not an IPv6 address or network: " + entry);
      v6_.push_back(net.canonical());
    }
  }
}

bool TrustedProxies::contains(std::string_view address) const {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(address), ec);
  if (ec) return false;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    for (const auto& n : v4_)
      if (ip::network_v4(a.to_v4(), 32).is_subnet_of(n) || n.address() == a.to_v4()) return true;
    return false;
  }
  for (const auto& n : v6_)
    if (ip::network_v6(a.to_v6(), 128).is_subnet_of(n) || n.address() == a.to_v6()) return true;
  return false;
}

std::string TrustedProxies::client(std::string_view peer, std::string_view x_forwarded_for, std::string_view forwarded) const {
  if (empty() || !contains(peer)) return std::string(peer);
  // Right to left: each trusted hop vouches for the one before it; the first untrusted one is the client.
  const auto list = hops(x_forwarded_for, forwarded);
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    boost::system::error_code ec;
    ip::make_address(std::string(*it), ec);
    if (ec) return std::string(peer);  // garbage in the chain: believe only what we saw
    if (!contains(*it)) return std::string(*it);
  }
  return std::string(peer);
}

}  // namespace anipipe::edge
