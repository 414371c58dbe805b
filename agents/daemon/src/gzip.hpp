// SPDX-License-Identifier: Apache-2.0
// gzip (RFC 1952) with zlib: spool files and request bodies (Content-Encoding: gzip).
// Used by: spool, runner, tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::agent {

// Compresses to a gzip member; throws std::runtime_error if zlib fails.
std::string gzip_compress(std::string_view data);

// A gzip member made piece by piece (the runner streams a report into it finding by finding,
// so that no whole JSON document is ever held). Throws std::runtime_error if zlib fails.
class GzipStream {
 public:
  GzipStream();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  // Compresses more input.
  void write(std::string_view data);
  // Ends the member and hands over the compressed bytes; the stream is done.
  std::string finish();

 private:
  void pump(std::string_view data, int flush);
  struct State;
  State* z_;
  std::string out_;
};

// Decompresses a gzip member; throws std::runtime_error for a corrupt one or past max_out bytes.
std::string gzip_decompress(std::string_view data, std::uint64_t max_out = 1ull << 30);

}  // namespace keyward::agent
