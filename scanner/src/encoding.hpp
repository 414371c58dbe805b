// SPDX-License-Identifier: Apache-2.0
// Small decoding helpers shared by the detectors: a bounds-checked big-endian reader for binary
// key formats, and the names of keyward::common's base64, UTF-8, hex and secret helpers.
// Used by: every detector. Private to the scanner. Never logs what it decodes.
#pragma once

#include <keyward/common/base64.hpp>
#include <keyward/common/hex.hpp>
#include <keyward/common/utf8.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

using ByteVec = std::vector<std::uint8_t>;

// base64, UTF-8, hex and SecretBytes live in keyward::common (one copy for every component); the
// detectors call them by their usual names. A key's base64 text and decoded body go into
// SecretBytes (base64_decode_secret), which wipes them on every return.
using common::base64_decode;
using common::base64_decode_secret;
using common::base64_encode;
using common::base64url_decode;
using common::base64url_decode_secret;
using common::is_base64_char;
using common::loose_utf8;
using common::SecretBytes;
using common::utf8_sequence;
// Lowercase / uppercase hex of bytes.
inline std::string hex(std::span<const std::uint8_t> data, bool upper = false) { return common::to_hex(data, upper); }

// Little-endian fields at `at` (the caller has checked that they fit): the Microsoft key blobs,
// zip's directory, gzip's trailer. (Reader below reads big-endian, as DER and SSH do.)
inline std::uint16_t read_le16(std::span<const std::uint8_t> d, std::size_t at) {
  return static_cast<std::uint16_t>(d[at] | d[at + 1] << 8);
}
inline std::uint32_t read_le32(std::span<const std::uint8_t> d, std::size_t at) {
  return static_cast<std::uint32_t>(d[at]) | static_cast<std::uint32_t>(d[at + 1]) << 8 |
         static_cast<std::uint32_t>(d[at + 2]) << 16 | static_cast<std::uint32_t>(d[at + 3]) << 24;
}
inline std::uint64_t read_le64(std::span<const std::uint8_t> d, std::size_t at) {
  return read_le32(d, at) | static_cast<std::uint64_t>(read_le32(d, at + 4)) << 32;
}

// A bounds-checked reader over bytes: every read says whether it fit.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}
  bool u8(std::uint8_t& v);
  bool u16(std::uint16_t& v);
  bool u32(std::uint32_t& v);
  // Takes n bytes.
  bool bytes(std::size_t n, std::span<const std::uint8_t>& out);
  // SSH wire string: u32 length + bytes.
  bool ssh_string(std::span<const std::uint8_t>& out);
  bool ssh_string(std::string_view& out);
  bool skip(std::size_t n);
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  std::span<const std::uint8_t> rest() const noexcept { return data_.subspan(pos_); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

}  // namespace keyward::scanner::detail
