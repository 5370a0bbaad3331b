#pragma once
// Who a request comes from. Directly connected clients are their TCP peer. Behind a reverse proxy
// every request's peer is the proxy, so a rate limit or a miss budget keyed on it would throttle
// all users as one: a peer listed in --trusted-proxies (addresses or CIDR networks) is believed
// about the client it forwards for - the right-most address of X-Forwarded-For (or of Forwarded's
// for=) that is not itself a trusted proxy. Nobody else is believed: a header from an untrusted
// peer is ignored, so a client cannot pick its own address.
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace anipipe::edge {

class TrustedProxies {
public:
  /// "10.0.0.0/8,192.168.1.7,::1" (empty: none). Throws std::invalid_argument on a bad entry.
  explicit TrustedProxies(std::string_view list = {});
  bool empty() const { return v4_.empty() && v6_.empty(); }
  bool contains(std::string_view address) const;
  /// The client a request stands for: peer itself unless peer is trusted and a forwarding header
  /// names someone else.
  std::string client(std::string_view peer, std::string_view x_forwarded_for, std::string_view forwarded) const;

private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace anipipe::edge
