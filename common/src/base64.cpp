// Base64 and base64url. Table-driven rather than EVP_EncodeBlock/EVP_DecodeBlock: the decoder
// must skip whitespace, take missing padding and reject data after it, which EVP_DecodeBlock
// does not; the encoder is the scanner's, measured faster than EVP_EncodeBlock plus the copy
// and alphabet swap base64url needs.
#include <keyward/common/base64.hpp>

#include <array>

namespace keyward::common {
namespace {

constexpr std::string_view kStdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_table(std::string_view alphabet) {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kStdTable = make_table(kStdAlphabet);
constexpr auto kUrlTable = make_table(kUrlAlphabet);

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::optional<std::vector<std::uint8_t>> decode(std::string_view text, const std::array<std::int8_t, 256>& table) {
  std::vector<std::uint8_t> out;
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
  if (pad > 2 || n == 1) return std::nullopt;
  if (n == 2) out.push_back(static_cast<std::uint8_t>(acc >> 4));
  if (n == 3) {
    out.push_back(static_cast<std::uint8_t>(acc >> 10));
    out.push_back(static_cast<std::uint8_t>(acc >> 2));
  }
  if (pad != 0 && ((n + pad) % 4) != 0) return std::nullopt;
  return out;
}

std::string encode(std::span<const std::uint8_t> data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = std::uint32_t{data[i]} << 16;
  if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
  out += alphabet[(v >> 18) & 63];
  out += alphabet[(v >> 12) & 63];
  if (rest == 2) out += alphabet[(v >> 6) & 63];
  if (pad) out.append(3 - rest, '=');
  return out;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> data, bool pad) { return encode(data, kStdAlphabet, pad); }
std::string base64_encode(std::string_view data, bool pad) { return encode(bytes_of(data), kStdAlphabet, pad); }
std::string base64url_encode(std::span<const std::uint8_t> data, bool pad) { return encode(data, kUrlAlphabet, pad); }
std::string base64url_encode(std::string_view data, bool pad) { return encode(bytes_of(data), kUrlAlphabet, pad); }

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) { return decode(text, kStdTable); }
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text) { return decode(text, kUrlTable); }

}  // namespace keyward::common
