// SPDX-License-Identifier: Apache-2.0
// PuTTY private key files, PPK v2 and v3 (PuTTY manual appendix C, "PPK file format").
// The header order is fixed; the public blob gives the key facts; the private lines are only
// checked to be base64 (decoded into a buffer that is wiped at once), never reported.
#include "detectors/lines.hpp"
#include "detectors/parsers.hpp"

#include "encoding.hpp"
#include "openssl/handles.hpp"

#include <charconv>

namespace keyward::scanner::detail {
namespace {

constexpr std::uint64_t kMaxLines = 4096;  // a 16384-bit RSA key needs ~70 lines

// Reads the line "<name>: <value>". A missing or unterminated line (the text ends before the
// MAC line) is `truncated`.
Result<std::string_view> header(Lines& lines, std::string_view name) {
  std::string_view line;
  bool terminated = false;
  if (!lines.next(line, terminated) || !terminated) return make_error_code(Errc::truncated);
  if (line.size() < name.size() + 2 || !line.starts_with(name) || line[name.size()] != ':' ||
      line[name.size() + 1] != ' ')
    return make_error_code(Errc::bad_structure);
  return line.substr(name.size() + 2);
}

bool decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 10) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

Result<std::uint64_t> count_header(Lines& lines, std::string_view name) {
  auto value = header(lines, name);
  if (!value) return value.error();
  std::uint64_t n = 0;
  if (!decimal(*value, n)) return make_error_code(Errc::bad_structure);
  if (n == 0 || n > kMaxLines) return make_error_code(Errc::bad_structure);
  return n;
}

// Collects n base64 lines (CR/LF dropped by Lines; the decoder skips other whitespace).
Result<SecretBytes> base64_lines(Lines& lines, std::uint64_t n) {
  SecretBytes joined;  // the private lines are key bytes: wiped on every return
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view line;
    bool terminated = false;
    if (!lines.next(line, terminated)) return make_error_code(Errc::truncated);
    if (!terminated) return make_error_code(Errc::truncated);  // the MAC line still has to come
    joined.append(line);
  }
  return joined;
}

}  // namespace

Result<Parsed> parse_ppk(std::string_view text) {
  Lines lines(text);
  std::string_view first;
  bool terminated = false;
  if (!lines.next(first, terminated)) return make_error_code(Errc::truncated);
  int version = 0;
  std::string_view key_type;
  if (first.starts_with("PuTTY-User-Key-File-2: ")) version = 2;
  else if (first.starts_with("PuTTY-User-Key-File-3: ")) version = 3;
  else {
    const bool cut = !terminated && (std::string_view("PuTTY-User-Key-File-2: ").starts_with(first) ||
                                     std::string_view("PuTTY-User-Key-File-3: ").starts_with(first));
    return make_error_code(cut ? Errc::truncated : Errc::bad_magic);
  }
  key_type = first.substr(std::string_view("PuTTY-User-Key-File-2: ").size());
  if (!terminated) return make_error_code(Errc::truncated);
  if (key_type.empty()) return make_error_code(Errc::bad_structure);

  auto encryption = header(lines, "Encryption");
  if (!encryption) return encryption.error();
  bool encrypted = false;
  if (*encryption == "aes256-cbc") encrypted = true;
  else if (*encryption != "none") return make_error_code(Errc::unsupported);

  auto comment = header(lines, "Comment");
  if (!comment) return comment.error();

  auto public_count = count_header(lines, "Public-Lines");
  if (!public_count) return public_count.error();
  auto public_text = base64_lines(lines, *public_count);
  if (!public_text) return public_text.error();
  const auto public_blob = base64_decode(public_text->view());
  if (!public_blob) return make_error_code(Errc::bad_encoding);

  std::optional<Protection> protection;
  if (encrypted && version == 3) {
    auto kdf = header(lines, "Key-Derivation");
    if (!kdf) return kdf.error();
    std::string kdf_name;
    if (*kdf == "Argon2id") kdf_name = "argon2id";
    else if (*kdf == "Argon2i") kdf_name = "argon2i";
    else if (*kdf == "Argon2d") kdf_name = "argon2d";
    else return make_error_code(Errc::unsupported);
    std::uint64_t memory = 0, passes = 0, parallelism = 0;
    for (auto [name, out] : {std::pair<std::string_view, std::uint64_t*>{"Argon2-Memory", &memory},
                             {"Argon2-Passes", &passes},
                             {"Argon2-Parallelism", &parallelism}}) {
      auto value = header(lines, name);
      if (!value) return value.error();
      if (!decimal(*value, *out)) return make_error_code(Errc::bad_structure);
    }
    auto salt = header(lines, "Argon2-Salt");
    if (!salt) return salt.error();
    if (salt->empty() || salt->size() % 2 != 0 || !is_hex(*salt)) return make_error_code(Errc::bad_structure);
    protection = Protection{"aes256-cbc", std::move(kdf_name), passes};
  } else if (encrypted) {
    protection = Protection{"aes256-cbc", "sha1", std::nullopt};
  }

  auto private_count = count_header(lines, "Private-Lines");
  if (!private_count) return private_count.error();
  {
    auto private_text = base64_lines(lines, *private_count);
    if (!private_text) return private_text.error();
    const auto private_blob = base64_decode_secret(private_text->view());
    if (!private_blob) return make_error_code(Errc::bad_encoding);
    const std::size_t size = private_blob->size();
    if (size == 0 || (encrypted && size % 16 != 0)) return make_error_code(Errc::bad_structure);
  }

  // The MAC line is the last one; its terminator may be missing at the end of the file.
  std::string_view line;
  if (!lines.next(line, terminated)) return make_error_code(Errc::truncated);
  constexpr std::string_view kMac = "Private-MAC: ";
  const std::size_t mac_len = version == 2 ? 40 : 64;  // HMAC-SHA-1 / HMAC-SHA-256
  if (!line.starts_with(kMac)) {
    const bool cut = !terminated && kMac.starts_with(line);
    return make_error_code(cut ? Errc::truncated : Errc::bad_structure);
  }
  const std::string_view mac = line.substr(kMac.size());
  if (!is_hex(mac)) return make_error_code(Errc::bad_structure);
  if (mac.size() != mac_len)
    return make_error_code(!terminated && mac.size() < mac_len ? Errc::truncated : Errc::bad_structure);

  KeyFacts key;
  auto type = ssh_public_key_facts(*public_blob, key);
  if (!type) return type.error();
  if (*type != key_type) return make_error_code(Errc::bad_structure);
  key.encrypted = encrypted;
  key.protection = std::move(protection);
  key.comment = clean_comment(*comment);

  Parsed parsed;
  parsed.finding.kind = Kind::private_key;
  parsed.finding.format = Format::putty_ppk;
  parsed.finding.rule = "private-key/putty";
  parsed.finding.identity = key_identity(key);
  parsed.finding.key = std::move(key);
  parsed.consumed = lines.position();
  return parsed;
}

}  // namespace keyward::scanner::detail
