#pragma once
// Lower-case hex: digests and MACs, ETags, random ids (trace ids, correlation ids).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace anipipe::util {

/// Two digits per byte.
std::string to_hex(const unsigned char* data, std::size_t size);
/// The same into out[0, 2 * size).
void to_hex(const unsigned char* data, std::size_t size, char* out);
/// Sixteen digits, most significant first.
std::string to_hex(std::uint64_t value);
/// n random hex digits (a per-thread PRNG; ids, not secrets), never all zero.
std::string random_hex(std::size_t n);
/// The same into out[0, n).
void random_hex(char* out, std::size_t n);

}  // namespace anipipe::util
