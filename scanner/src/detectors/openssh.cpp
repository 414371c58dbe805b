// SPDX-License-Identifier: Apache-2.0
// OpenSSH "openssh-key-v1" private keys (PROTOCOL.key in the OpenSSH sources), plus the helpers
// shared by the own parsers: SSH wire public key facts, finding identity, comment cleaning.
// Reads the public blob and, for unencrypted keys, only the structure of the private section
// (check-ints, key type, comment, padding): private values are skipped, never copied. A key type
// this build has no parser for (a post-quantum hybrid, a type newer than this build) is still a
// private key: reported by the type name its container gives (docs/scan.md).
#include "detectors/parsers.hpp"

#include "encoding.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <algorithm>
#include <cstring>

namespace keyward::scanner::detail {
namespace {

constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
constexpr std::size_t kMaxName = 64;  // cipher and kdf names are short ASCII words

Result<void> fail(Errc e) { return make_error_code(e); }

// SSH mpint: a positive number (high bit of the first byte clear).
bool read_mpint(Reader& r, std::span<const std::uint8_t>& out) {
  if (!r.ssh_string(out)) return false;
  return out.empty() || (out[0] & 0x80) == 0;
}

bool printable_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxName) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// How many SSH strings of private material follow the key type for each key type, and whether
// a u8 flags field sits after the public part (security keys), per PROTOCOL.key / sshkey.c.
struct PrivateLayout {
  int strings_before_flags = 0;  // strings before the (optional) flags byte
  bool sk = false;               // flags byte, key handle and reserved strings follow
};

bool private_layout(std::string_view type, PrivateLayout& out) {
  if (type == "ssh-rsa") out = {6, false};                                 // n e d iqmp p q
  else if (type == "ssh-dss") out = {5, false};                            // p q g y x
  else if (type.starts_with("ecdsa-sha2-")) out = {3, false};              // curve Q d
  else if (type == "ssh-ed25519") out = {2, false};                        // pk sk
  else if (type == "sk-ecdsa-sha2-nistp256@openssh.com") out = {3, true};  // curve Q app
  else if (type == "sk-ssh-ed25519@openssh.com") out = {2, true};          // pk app
  else return false;
  return true;
}

// Walks the unencrypted private section; sets the comment. Private values are only skipped.
Result<void> check_private_section(std::span<const std::uint8_t> section, std::string_view pub_type, KeyFacts& key) {
  Reader r(section);
  std::uint32_t check1 = 0, check2 = 0;
  if (!r.u32(check1) || !r.u32(check2)) return fail(Errc::truncated);
  if (check1 != check2) return fail(Errc::bad_structure);
  std::string_view type;
  if (!r.ssh_string(type)) return fail(Errc::truncated);
  if (type != pub_type) return fail(Errc::bad_structure);
  PrivateLayout layout;
  // A type whose layout we do not know: its comment cannot be told from its key material, so
  // none is read (the check-ints and the type name matched).
  if (!private_layout(type, layout)) return {};
  std::span<const std::uint8_t> skipped;
  for (int i = 0; i < layout.strings_before_flags; ++i)
    if (!r.ssh_string(skipped)) return fail(Errc::truncated);
  if (layout.sk) {
    std::uint8_t flags = 0;
    if (!r.u8(flags) || !r.ssh_string(skipped) || !r.ssh_string(skipped)) return fail(Errc::truncated);
  }
  std::string_view comment;
  if (!r.ssh_string(comment)) return fail(Errc::truncated);
  // Padding is 1, 2, 3, ... up to the cipher block size (sshkey.c private2_check_padding).
  const auto pad = r.rest();
  if (pad.size() >= 256) return fail(Errc::bad_structure);
  for (std::size_t i = 0; i < pad.size(); ++i)
    if (pad[i] != static_cast<std::uint8_t>(i + 1)) return fail(Errc::bad_structure);
  key.comment = clean_comment(comment);
  return {};
}

// ssh-keygen -l's "SHA256:<base64>" of a public key blob.
std::string ssh_fingerprint(std::span<const std::uint8_t> blob) {
  const std::string digest = sha256_raw(blob);
  return "SHA256:" +
         base64_encode(
             std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(digest.data()), digest.size()), false);
}

// A public key blob whose type this build does not parse: the facts are its type name (an SSH
// algorithm name, RFC 4251 section 6: printable ASCII, at most 64 characters) and fingerprint.
Result<std::string_view> unknown_type_facts(std::span<const std::uint8_t> blob, KeyFacts& key) {
  Reader r(blob);
  std::string_view type;
  if (!r.ssh_string(type)) return make_error_code(Errc::truncated);
  if (!printable_name(type) || type.find(',') != std::string_view::npos) return make_error_code(Errc::bad_structure);
  key = KeyFacts{};
  key.algorithm = std::string(type);
  key.ssh_fingerprint = ssh_fingerprint(blob);
  return type;
}

}  // namespace

std::string clean_comment(std::string_view raw) {
  constexpr std::size_t kMax = 256;
  std::string out;
  out.reserve(std::min(raw.size(), kMax));
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t n = utf8_sequence(raw, i);
    const std::size_t take = n == 0 ? 1 : n;
    if (out.size() + take > kMax) break;
    const auto c = static_cast<unsigned char>(raw[i]);
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) out += '?';
    else out.append(raw.substr(i, n));
    i += take;
  }
  return out;
}

std::string key_identity(const KeyFacts& key) {
  if (!key.spki_sha256.empty()) return key.spki_sha256;
  if (!key.ssh_fingerprint.empty()) return "ssh:" + key.ssh_fingerprint;
  if (!key.pgp_fingerprint.empty()) return "pgp:" + key.pgp_fingerprint;
  return {};
}

Result<std::string_view> ssh_public_key_facts(std::span<const std::uint8_t> blob, KeyFacts& key) {
  Reader r(blob);
  std::string_view type;
  if (!r.ssh_string(type)) return make_error_code(Errc::truncated);
  enum class Build { rsa, dsa, ec, ed25519 } build = Build::rsa;
  std::span<const std::uint8_t> a, b, c, d;  // rsa: e n; dsa: p q g y; ec: point; ed: pk
  std::string_view curve;
  std::string_view sk_algorithm;
  if (type == "ssh-rsa") {
    build = Build::rsa;
    if (!read_mpint(r, a) || !read_mpint(r, b)) return make_error_code(Errc::bad_structure);
  } else if (type == "ssh-dss") {
    build = Build::dsa;
    if (!read_mpint(r, a) || !read_mpint(r, b) || !read_mpint(r, c) || !read_mpint(r, d))
      return make_error_code(Errc::bad_structure);
  } else if (type == "ecdsa-sha2-nistp256" || type == "ecdsa-sha2-nistp384" || type == "ecdsa-sha2-nistp521" ||
             type == "sk-ecdsa-sha2-nistp256@openssh.com") {
    build = Build::ec;
    const bool sk = type.starts_with("sk-");
    const std::string_view expected =
        sk ? std::string_view("nistp256") : type.substr(std::string_view("ecdsa-sha2-").size());
    if (!r.ssh_string(curve) || !r.ssh_string(a)) return make_error_code(Errc::truncated);
    if (curve != expected) return make_error_code(Errc::bad_structure);
    if (sk) {
      std::string_view application;
      if (!r.ssh_string(application)) return make_error_code(Errc::truncated);
      sk_algorithm = "sk-ecdsa";
    }
  } else if (type == "ssh-ed25519" || type == "sk-ssh-ed25519@openssh.com") {
    build = Build::ed25519;
    if (!r.ssh_string(a)) return make_error_code(Errc::truncated);
    if (a.size() != 32) return make_error_code(Errc::bad_structure);
    if (type.starts_with("sk-")) {
      std::string_view application;
      if (!r.ssh_string(application)) return make_error_code(Errc::truncated);
      sk_algorithm = "sk-ed25519";
    }
  } else {
    return make_error_code(Errc::unsupported);
  }
  if (r.remaining() != 0) return make_error_code(Errc::bad_structure);

  Result<void> built;
  switch (build) {
    case Build::rsa:
      built = key_facts_from_rsa(b, a, key);
      break;
    case Build::dsa:
      built = key_facts_from_dsa(a, b, c, d, key);
      break;
    case Build::ec:
      built = key_facts_from_ec(curve, a, key);
      break;
    case Build::ed25519:
      built = key_facts_from_raw("ED25519", a, key);
      break;
  }
  if (!built) return built.error();
  if (!sk_algorithm.empty()) key.algorithm = std::string(sk_algorithm);
  key.ssh_fingerprint = ssh_fingerprint(blob);
  return type;
}

Result<Finding> parse_openssh_v1(std::span<const std::uint8_t> blob) {
  if (blob.size() < kMagic.size()) {
    const bool prefix = blob.empty() || std::memcmp(blob.data(), kMagic.data(), blob.size()) == 0;
    return make_error_code(prefix ? Errc::truncated : Errc::bad_magic);
  }
  if (std::memcmp(blob.data(), kMagic.data(), kMagic.size()) != 0) return make_error_code(Errc::bad_magic);
  Reader r(blob.subspan(kMagic.size()));

  std::string_view cipher, kdf;
  std::span<const std::uint8_t> kdf_options, public_blob, private_section;
  std::uint32_t nkeys = 0;
  if (!r.ssh_string(cipher) || !r.ssh_string(kdf) || !r.ssh_string(kdf_options) || !r.u32(nkeys))
    return make_error_code(Errc::truncated);
  if (!printable_name(cipher) || !printable_name(kdf)) return make_error_code(Errc::bad_structure);
  if (nkeys == 0) return make_error_code(Errc::bad_structure);
  if (nkeys != 1) return make_error_code(Errc::unsupported);  // ssh-keygen writes one key per file
  if (!r.ssh_string(public_blob) || !r.ssh_string(private_section)) return make_error_code(Errc::truncated);
  // Bytes after the private section are allowed: AEAD ciphers append their tag there.

  const bool encrypted = cipher != "none";
  std::optional<Protection> protection;
  if (kdf == "bcrypt") {
    Reader k(kdf_options);
    std::span<const std::uint8_t> salt;
    std::uint32_t rounds = 0;
    if (!k.ssh_string(salt) || !k.u32(rounds) || k.remaining() != 0) return make_error_code(Errc::bad_structure);
    if (encrypted) protection = Protection{std::string(cipher), "bcrypt", rounds};
  } else if (kdf == "none") {
    if (encrypted || !kdf_options.empty()) return make_error_code(Errc::bad_structure);
  } else {
    return make_error_code(Errc::unsupported);
  }

  Finding finding;
  finding.kind = Kind::private_key;
  finding.format = Format::openssh;
  finding.rule = "private-key/openssh";
  KeyFacts key;
  auto type = ssh_public_key_facts(public_blob, key);
  if (!type && type.error() == make_error_code(Errc::unsupported)) type = unknown_type_facts(public_blob, key);
  if (!type) return type.error();
  if (!encrypted) {
    if (private_section.size() % 8 != 0) return make_error_code(Errc::bad_structure);
    auto checked = check_private_section(private_section, *type, key);
    if (!checked) return checked.error();
  } else if (private_section.empty()) {
    return make_error_code(Errc::bad_structure);
  }
  key.encrypted = encrypted;
  key.protection = std::move(protection);
  finding.identity = key_identity(key);
  finding.key = std::move(key);
  return finding;
}

}  // namespace keyward::scanner::detail
