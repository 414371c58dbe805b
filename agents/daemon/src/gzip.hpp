// gzip (RFC 1952) with zlib: spool files and request bodies (Content-Encoding: gzip).
// Used by: spool, runner, tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::agent {

// Compresses to a gzip member; throws std::runtime_error if zlib fails.
std::string gzip_compress(std::string_view data);

// Decompresses a gzip member; throws std::runtime_error for a corrupt one or past max_out bytes.
std::string gzip_decompress(std::string_view data, std::uint64_t max_out = 1ull << 30);

}  // namespace keyward::agent
