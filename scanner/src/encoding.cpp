#include "encoding.hpp"

#include <array>

namespace keyward::scanner::detail {
namespace {

constexpr std::array<std::int8_t, 256> make_table(bool url) {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alpha = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alpha[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kStd = make_table(false);
constexpr auto kUrl = make_table(true);

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::optional<ByteVec> decode(std::string_view text, const std::array<std::int8_t, 256>& table) {
  ByteVec out;
  out.reserve(text.size() * 3 / 4 + 3);
  std::uint32_t acc = 0;
  int n = 0;
  std::size_t pad = 0;
  for (char c : text) {
    if (is_space(c)) continue;
    if (c == '=') { ++pad; continue; }
    if (pad != 0) return std::nullopt;  // data after padding
    const std::int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    if (++n == 4) {
      out.push_back(static_cast<std::uint8_t>(acc >> 16));
      out.push_back(static_cast<std::uint8_t>(acc >> 8));
      out.push_back(static_cast<std::uint8_t>(acc));
      acc = 0;
      n = 0;
    }
  }
  if (pad > 2) return std::nullopt;
  if (n == 1) return std::nullopt;
  if (n == 2) out.push_back(static_cast<std::uint8_t>(acc >> 4));
  if (n == 3) {
    out.push_back(static_cast<std::uint8_t>(acc >> 10));
    out.push_back(static_cast<std::uint8_t>(acc >> 2));
  }
  if (pad != 0 && ((n + pad) % 4) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::optional<ByteVec> base64_decode(std::string_view text) { return decode(text, kStd); }
std::optional<ByteVec> base64url_decode(std::string_view text) { return decode(text, kUrl); }

bool loose_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80) n = 0;
    else if ((c & 0xE0) == 0xC0 && c >= 0xC2) n = 1;
    else if ((c & 0xF0) == 0xE0) n = 2;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4) n = 3;
    else return false;
    if (n != 0 && i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

std::string base64_encode(std::span<const std::uint8_t> data, bool pad) {
  static constexpr char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16;
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

std::string hex(std::span<const std::uint8_t> data, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

bool Reader::u8(std::uint8_t& v) {
  if (remaining() < 1) return false;
  v = data_[pos_++];
  return true;
}
bool Reader::u16(std::uint16_t& v) {
  if (remaining() < 2) return false;
  v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return true;
}
bool Reader::u32(std::uint32_t& v) {
  if (remaining() < 4) return false;
  v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
  pos_ += 4;
  return true;
}
bool Reader::bytes(std::size_t n, std::span<const std::uint8_t>& out) {
  if (remaining() < n) return false;
  out = data_.subspan(pos_, n);
  pos_ += n;
  return true;
}
bool Reader::ssh_string(std::span<const std::uint8_t>& out) {
  std::uint32_t n = 0;
  const std::size_t save = pos_;
  if (!u32(n) || !bytes(n, out)) {
    pos_ = save;
    return false;
  }
  return true;
}
bool Reader::ssh_string(std::string_view& out) {
  std::span<const std::uint8_t> s;
  if (!ssh_string(s)) return false;
  out = std::string_view(reinterpret_cast<const char*>(s.data()), s.size());
  return true;
}
bool Reader::skip(std::size_t n) {
  if (remaining() < n) return false;
  pos_ += n;
  return true;
}

}  // namespace keyward::scanner::detail
