// Small decoding helpers shared by the detectors: base64 (standard and URL alphabets), hex,
// and a bounds-checked big-endian reader for binary key formats.
// Used by: every detector. Private to the scanner. Never logs what it decodes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

using ByteVec = std::vector<std::uint8_t>;

// Decodes standard base64, skipping ASCII whitespace; padding optional. nullopt on any other
// character or an impossible length.
std::optional<ByteVec> base64_decode(std::string_view text);
// Decodes base64url (RFC 4648 section 5, no padding required).
std::optional<ByteVec> base64url_decode(std::string_view text);
// Encodes standard base64 without line breaks (used for SSH fingerprints, never for secrets).
std::string base64_encode(std::span<const std::uint8_t> data, bool pad = true);
// What the findings' JSON treats as text it may write as is (else it keeps the bytes in
// <field>_b64): lead bytes and continuation counts are checked, overlong forms and surrogates
// are not (the JSON serializer replaces those).
bool loose_utf8(std::string_view s) noexcept;
// Lowercase / uppercase hex of bytes.
std::string hex(std::span<const std::uint8_t> data, bool upper = false);

// True when c is in the standard base64 alphabet (not '=').
inline bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
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
