// SPDX-License-Identifier: Apache-2.0
#include "gzip.hpp"

#include <zlib.h>

#include <stdexcept>

namespace keyward::agent {

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's (zlib.h, deflateInit2).
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: cannot initialise zlib");
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: compression failed");
  out.resize(n);
  return out;
}

struct GzipStream::State {
  z_stream z{};
  bool done = false;
};

GzipStream::GzipStream() : z_(new State) {
  if (deflateInit2(&z_->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    delete z_;
    throw std::runtime_error("gzip: cannot initialise zlib");
  }
}

GzipStream::~GzipStream() {
  deflateEnd(&z_->z);
  delete z_;
}

void GzipStream::pump(std::string_view data, int flush) {
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[64 * 1024];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = deflate(&z, flush);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("gzip: compression failed");
    out_.append(buf, sizeof buf - z.avail_out);
    if (flush == Z_FINISH ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) break;
  }
}

void GzipStream::write(std::string_view data) {
  if (z_->done) throw std::logic_error("gzip: write after finish");
  while (!data.empty()) {  // avail_in is 32 bits
    const std::string_view part = data.substr(0, std::size_t{1} << 30);
    pump(part, Z_NO_FLUSH);
    data.remove_prefix(part.size());
  }
}

std::string GzipStream::finish() {
  if (!z_->done) {
    pump({}, Z_FINISH);
    z_->done = true;
  }
  return std::move(out_);
}

std::string gzip_decompress(std::string_view data, std::uint64_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("gzip: cannot initialise zlib");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      throw std::runtime_error("gzip: corrupt or truncated data");
    }
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_out) {
      inflateEnd(&z);
      throw std::runtime_error("gzip: data expands past the limit");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      throw std::runtime_error("gzip: truncated data");
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace keyward::agent
