#pragma once
// Lower-case hex: digests and MACs, ETags, random ids (trace ids, correlation ids).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace anipipe::util {

/// Two digits per byte.
std::string to_hex(const unsigned char* data, std::size_t size);
/// Sixteen digits, most significant first.
std::string to_hex(std::uint64_t value);
/// n random hex digits (a per-thread PRNG; ids, not secrets), never all zero.
std::string random_hex(std::size_t n);

}  // namespace anipipe::util
