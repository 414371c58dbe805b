// SPDX-License-Identifier: Apache-2.0
// SSH.com / Tectia private keys ("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"), as written by
// ssh-keygen2 and `puttygen -O private-sshcom` (layout: PuTTY import.c, sshcom_read). The armor
// follows RFC 4716 (headers with "\" continuation lines). Only e and n (RSA) or p, q, g, y (DSA)
// are read from an unencrypted key. The base64 text and the decoded blob are SecretBytes:
// wiped on every return, the early ones included.
#include "detectors/lines.hpp"
#include "detectors/parsers.hpp"

#include "encoding.hpp"
#include "openssl/key_info.hpp"

namespace keyward::scanner::detail {
namespace {

constexpr std::string_view kBegin = "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----";
constexpr std::string_view kEnd = "---- END SSH2 ENCRYPTED PRIVATE KEY ----";
constexpr std::uint32_t kMagic = 0x3f6ff9eb;
constexpr std::size_t kMaxBody = 256 * 1024;  // base64 characters; real keys are a few KiB
constexpr std::size_t kMaxHeaderTag = 64;     // RFC 4716 section 3.3

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "Tag: value" per RFC 4716: the tag is printable ASCII without ':' or spaces.
bool header_line(std::string_view line, std::string_view& tag, std::string_view& value) {
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > kMaxHeaderTag) return false;
  tag = line.substr(0, colon);
  for (char c : tag)
    if (c <= 0x20 || c >= 0x7f) return false;
  value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// SSH.com multiple-precision integer: u32 bit count, then (bits + 7) / 8 bytes.
bool read_mpint(Reader& r, std::span<const std::uint8_t>& out) {
  std::uint32_t bits = 0;
  if (!r.u32(bits)) return false;
  return r.bytes((std::size_t{bits} + 7) / 8, out);
}

enum class KeyType { rsa, dsa, ec, unknown };

KeyType key_type(std::string_view type) {
  if (type.starts_with("if-modn{sign{rsa")) return KeyType::rsa;
  if (type.starts_with("dl-modp{sign{dsa")) return KeyType::dsa;
  if (type.starts_with("ec-modp")) return KeyType::ec;
  return KeyType::unknown;
}

// Parses the decoded blob into `key`.
Result<void> parse_blob(std::span<const std::uint8_t> blob, KeyFacts& key) {
  Reader r(blob);
  std::uint32_t magic = 0, total = 0;
  if (!r.u32(magic)) return make_error_code(Errc::truncated);
  if (magic != kMagic) return make_error_code(Errc::bad_magic);
  if (!r.u32(total)) return make_error_code(Errc::truncated);
  if (total > blob.size()) return make_error_code(Errc::truncated);
  if (total < 8) return make_error_code(Errc::bad_structure);
  Reader body(blob.subspan(8, total - 8));
  std::string_view type, cipher;
  std::span<const std::uint8_t> data;
  if (!body.ssh_string(type) || !body.ssh_string(cipher) || !body.ssh_string(data))
    return make_error_code(Errc::truncated);
  const KeyType kt = key_type(type);
  if (kt == KeyType::unknown) return make_error_code(Errc::unsupported);
  if (cipher.empty() || cipher.size() > 64) return make_error_code(Errc::bad_structure);

  if (cipher != "none") {
    // The key data is ciphertext; the passphrase is hashed with MD5 (no salt, no iterations).
    if (data.empty() || data.size() % 8 != 0) return make_error_code(Errc::bad_structure);
    key.algorithm = kt == KeyType::rsa ? "rsa" : kt == KeyType::dsa ? "dsa" : "ec";
    key.encrypted = true;
    key.protection = Protection{std::string(cipher), "md5", std::nullopt};
    return {};
  }

  Reader outer(data);
  std::uint32_t inner_len = 0;
  std::span<const std::uint8_t> inner;
  if (!outer.u32(inner_len) || !outer.bytes(inner_len, inner)) return make_error_code(Errc::truncated);
  Reader m(inner);
  if (kt == KeyType::rsa) {
    std::span<const std::uint8_t> e, d, n, u, p, q;
    if (!read_mpint(m, e) || !read_mpint(m, d) || !read_mpint(m, n) || !read_mpint(m, u) || !read_mpint(m, p) ||
        !read_mpint(m, q))
      return make_error_code(Errc::truncated);
    return key_facts_from_rsa(n, e, key);
  }
  if (kt == KeyType::dsa) {
    std::uint32_t predefined = 0;
    std::span<const std::uint8_t> p, g, q, y, x;
    if (!m.u32(predefined)) return make_error_code(Errc::truncated);
    if (predefined != 0) return make_error_code(Errc::unsupported);  // named parameter sets
    if (!read_mpint(m, p) || !read_mpint(m, g) || !read_mpint(m, q) || !read_mpint(m, y) || !read_mpint(m, x))
      return make_error_code(Errc::truncated);
    return key_facts_from_dsa(p, q, g, y, key);
  }
  key.algorithm = "ec";  // layout of Tectia EC keys not read: algorithm only
  return {};
}

}  // namespace

Result<Parsed> parse_sshcom(std::string_view text) {
  Lines lines(text);
  std::string_view line;
  bool terminated = false;
  if (!lines.next(line, terminated)) return make_error_code(Errc::truncated);
  if (trim_right(line) != kBegin) {
    const bool cut = !terminated && kBegin.starts_with(line);
    return make_error_code(cut ? Errc::truncated : Errc::bad_magic);
  }

  // Headers, then base64 lines, then the END line.
  std::string comment;
  SecretBytes body;  // the key's base64 text
  bool in_headers = true;
  bool continuation = false;
  bool comment_continues = false;
  bool ended = false;
  while (lines.next(line, terminated)) {
    const std::string_view trimmed = trim_right(line);
    if (trimmed == kEnd) {
      ended = true;
      break;
    }
    if (trimmed.starts_with("----")) return make_error_code(Errc::bad_structure);
    if (in_headers && continuation) {
      continuation = trimmed.ends_with('\\');
      if (comment_continues) comment.append(continuation ? trimmed.substr(0, trimmed.size() - 1) : trimmed);
      comment_continues = comment_continues && continuation;
      continue;
    }
    std::string_view tag, value;
    if (in_headers && header_line(trimmed, tag, value)) {
      continuation = value.ends_with('\\');
      if (continuation) value.remove_suffix(1);
      comment_continues = false;
      if (iequals(tag, "Comment")) {
        comment.assign(value);
        comment_continues = continuation;
      }
      continue;
    }
    in_headers = false;
    for (char c : trimmed)
      if (!is_base64_char(c) && c != '=' && c != ' ' && c != '\t') return make_error_code(Errc::bad_encoding);
    body.append(trimmed);
    if (body.size() > kMaxBody) return make_error_code(Errc::too_large);
  }
  if (!ended) return make_error_code(Errc::truncated);
  if (body.empty()) return make_error_code(Errc::bad_structure);

  const auto blob = base64_decode_secret(body.view());
  if (!blob) return make_error_code(Errc::bad_encoding);
  KeyFacts key;
  if (auto parsed_blob = parse_blob(blob->bytes(), key); !parsed_blob) return parsed_blob.error();

  // RFC 4716: a quoted value has its quotes removed.
  std::string_view c = comment;
  if (c.size() >= 2 && c.front() == '"' && c.back() == '"') c = c.substr(1, c.size() - 2);
  key.comment = clean_comment(c);

  Parsed parsed;
  parsed.finding.kind = Kind::private_key;
  parsed.finding.format = Format::sshcom;
  parsed.finding.rule = "private-key/sshcom";
  parsed.finding.identity = key_identity(key);
  parsed.finding.key = std::move(key);
  parsed.consumed = lines.position();
  return parsed;
}

}  // namespace keyward::scanner::detail
