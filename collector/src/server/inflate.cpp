// SPDX-License-Identifier: Apache-2.0
#include "server/inflate.hpp"

#include <zlib.h>

#include <climits>

namespace keyward::collector {

boost::system::result<std::string, InflateError> gunzip(std::string_view in, std::size_t cap) {
  if (in.size() > UINT_MAX) return InflateError::too_large;
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only (RFC 1952), as Content-Encoding: gzip says.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return InflateError::corrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  constexpr std::size_t kChunk = 64 * 1024;
  InflateError error = InflateError::corrupt;
  bool ok = false;
  for (;;) {
    const std::size_t have = out.size();
    if (have > cap) {
      error = InflateError::too_large;
      break;
    }
    out.resize(have + kChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    zs.avail_out = static_cast<uInt>(kChunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(have + (kChunk - zs.avail_out));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        ok = out.size() <= cap;
        if (!ok) error = InflateError::too_large;
        break;
      }
      if (inflateReset(&zs) != Z_OK) break;  // another gzip member follows
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated input
    if (rc != Z_OK) break;
  }
  inflateEnd(&zs);
  if (!ok) return error;
  return out;
}

}  // namespace keyward::collector
