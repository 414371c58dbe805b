// SPDX-License-Identifier: Apache-2.0
#include "detectors/pem.hpp"

#include "detectors/der.hpp"
#include "encoding.hpp"
#include "openssl/handles.hpp"
#include "text_detect.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace keyward::scanner::detail {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kDashes = "-----";
constexpr std::size_t kMaxBlock = 4u << 20;  // a PEM block larger than this is not a key
constexpr std::size_t kMaxLabel = 65;
constexpr int kLegacySaltLen = 8;  // PKCS5_SALT_LEN: the salt EVP_BytesToKey takes from the DEK-Info hex
// Windowed scans of large files rely on it (text_detect.hpp): BEGIN line, label, body and END.
static_assert(kBegin.size() + kMaxLabel + kDashes.size() + kMaxBlock <= kTextLookahead);

// One block as read: its decoded body wipes itself however decode_pem returns.
struct RawBlock {
  std::string label;
  std::vector<std::pair<std::string, std::string>> headers;
  SecretBytes der;
  std::size_t consumed = 0;
  bool escaped = false;
};

// Characters that wrap a PEM line in source or config: quotes, concatenation, escapes,
// YAML block markers. '+' is base64 too, so it is only stripped next to a quote or a space.
bool is_trim_char(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '"':
    case '\'':
    case ',':
    case ';':
    case '\\':
    case '(':
    case ')':
    case '`':
    case '|':
    case '>':
      return true;
    default:
      return false;
  }
}

bool is_quote_or_space(char c) { return c == '"' || c == '\'' || c == '`' || c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  for (;;) {
    while (!s.empty() && is_trim_char(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_trim_char(s.back())) s.remove_suffix(1);
    if (!s.empty() && s.back() == '+' && (s.size() == 1 || is_quote_or_space(s[s.size() - 2]))) {
      s.remove_suffix(1);
      continue;
    }
    if (!s.empty() && s.front() == '+' && (s.size() == 1 || is_quote_or_space(s[1]))) {
      s.remove_prefix(1);
      continue;
    }
    return s;
  }
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits the body into logical lines: real line breaks, and "\n"/"\r" escapes when escaped.
template <class F>
void for_each_line(std::string_view body, bool escaped, F&& f) {
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (c == '\n' || c == '\r') {
      f(body.substr(start, i - start));
      start = ++i;
    } else if (escaped && c == '\\' && i + 1 < body.size() && (body[i + 1] == 'n' || body[i + 1] == 'r')) {
      f(body.substr(start, i - start));
      i += 2;
      start = i;
    } else {
      ++i;
    }
  }
  f(body.substr(start));
}

// What precedes "-----BEGIN " on its line when a key was printed with a log prefix (a timestamp
// and process tag, "[INFO] "): each following line carries the same prefix, or one of the same
// shape (digits where it has digits: a timestamp that moves on), and loses it before decoding.
// Only a prefix holding a character that cannot be base64 is one: indentation and quotes are
// trimmed anyway, and a line of base64 never starts with it by chance.
class LinePrefix {
 public:
  LinePrefix(std::string_view text, std::size_t at) {
    std::size_t start = at;
    while (start > 0 && at - start < kMaxPrefix && text[start - 1] != '\n' && text[start - 1] != '\r') --start;
    if (start > 0 && text[start - 1] != '\n' && text[start - 1] != '\r') return;  // too long: none
    const std::string_view p = text.substr(start, at - start);
    if (std::any_of(p.begin(), p.end(), [](char c) { return !is_base64_char(c) && c != '='; })) prefix_ = p;
  }

  // `line` without the prefix when it starts with one; else `line` as it is.
  std::string_view strip(std::string_view line) const {
    if (prefix_.empty() || line.size() < prefix_.size()) return line;
    for (std::size_t i = 0; i < prefix_.size(); ++i) {
      const auto a = static_cast<unsigned char>(prefix_[i]);
      const auto b = static_cast<unsigned char>(line[i]);
      if (a != b && !(std::isdigit(a) && std::isdigit(b))) return line;
    }
    return line.substr(prefix_.size());
  }

 private:
  static constexpr std::size_t kMaxPrefix = 160;
  std::string_view prefix_;
};

Result<RawBlock> read_block(std::string_view text, std::size_t at) {
  RawBlock b;
  std::size_t p = at + kBegin.size();
  const std::size_t label_start = p;
  while (p < text.size() && p - label_start < kMaxLabel) {
    const char c = text[p];
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ') ++p;
    else break;
  }
  if (p == label_start || text.substr(p, kDashes.size()) != kDashes) return make_error_code(Errc::bad_magic);
  b.label = std::string(text.substr(label_start, p - label_start));
  if (b.label.back() == ' ') return make_error_code(Errc::bad_magic);
  const std::size_t body_start = p + kDashes.size();

  const std::string end_marker = "-----END " + b.label + "-----";
  const std::size_t limit = std::min(text.size(), body_start + kMaxBlock);
  const std::string_view window = text.substr(0, limit);
  const std::size_t end = window.find(end_marker, body_start);
  if (end == std::string_view::npos) return make_error_code(Errc::truncated);
  const std::size_t next_begin = window.find(kBegin, body_start);
  if (next_begin != std::string_view::npos && next_begin < end) return make_error_code(Errc::truncated);

  const std::string_view body = text.substr(body_start, end - body_start);
  b.escaped = body.find("\\n") != std::string_view::npos || body.find("\\r") != std::string_view::npos;
  SecretBytes b64;  // the key's base64 text: wiped on every way out
  b64.reserve(body.size());
  bool bad = false;
  bool in_body = false;
  const LinePrefix prefix(text, at);
  for_each_line(body, b.escaped, [&](std::string_view raw) {
    if (bad) return;
    const std::string_view line = trim(prefix.strip(raw));
    if (line.empty()) return;
    const auto colon = line.find(':');
    if (!in_body && colon != std::string_view::npos) {
      b.headers.emplace_back(std::string(trim_space(line.substr(0, colon))),
                             std::string(trim_space(line.substr(colon + 1))));
      return;
    }
    for (char c : line) {
      if (!is_base64_char(c) && c != '=') {
        bad = true;
        return;
      }
    }
    in_body = true;
    b64.append(line);
  });
  if (bad || b64.empty()) return make_error_code(Errc::bad_encoding);
  auto der = base64_decode_secret(b64.view());
  if (!der || der->empty()) return make_error_code(Errc::bad_encoding);
  b.der = std::move(*der);
  b.consumed = end + end_marker.size() - at;
  return b;
}

Result<Finding> legacy_encrypted(const RawBlock& b, std::string_view algorithm) {
  std::string dek;
  bool proc_encrypted = false;
  for (const auto& [name, value] : b.headers) {
    if (name == "Proc-Type" && value.find("ENCRYPTED") != std::string::npos) proc_encrypted = true;
    if (name == "DEK-Info") dek = value;
  }
  if (!proc_encrypted || dek.empty()) return make_error_code(Errc::bad_structure);
  const auto comma = dek.find(',');
  if (comma == std::string::npos) return make_error_code(Errc::bad_structure);
  const std::string cipher_name = dek.substr(0, comma);
  const std::string_view iv = trim_space(std::string_view(dek).substr(comma + 1));
  const EVP_CIPHER* cipher = EVP_get_cipherbyname(cipher_name.c_str());
  if (cipher == nullptr) return make_error_code(Errc::unsupported);
  // ECB has no IV: the hex is then EVP_BytesToKey's 8-byte salt alone (OpenSSL 3 refuses such
  // files, so only this reads them).
  const bool ecb = EVP_CIPHER_get_mode(cipher) == EVP_CIPH_ECB_MODE;
  const int iv_len = ecb ? kLegacySaltLen : EVP_CIPHER_get_iv_length(cipher);
  const int block = EVP_CIPHER_get_block_size(cipher);
  if (static_cast<int>(iv.size()) != 2 * iv_len) return make_error_code(Errc::bad_structure);
  if (!std::all_of(iv.begin(), iv.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return make_error_code(Errc::bad_structure);
  if (b.der.size() < 16 || (block > 1 && b.der.size() % static_cast<size_t>(block) != 0))
    return make_error_code(Errc::bad_structure);
  Finding f = make_key_finding(Format::pem_legacy_encrypted, "private-key/legacy-encrypted");
  f.key->algorithm = std::string(algorithm);
  f.key->encrypted = true;
  f.key->protection = Protection{lower(cipher_name), "evp-bytes-to-key-md5", 1};
  return f;
}

bool has_encryption_headers(const RawBlock& b) {
  return std::any_of(b.headers.begin(), b.headers.end(),
                     [](const auto& h) { return h.first == "Proc-Type" || h.first == "DEK-Info"; });
}

// The findings of block `b` read from `der` (its body, or the complete DER object it starts with).
Result<std::vector<Finding>> decode_block(const RawBlock& b, Der der, FindingMemo* certificates) {
  const std::string& l = b.label;
  auto one = [](Result<Finding> r) -> Result<std::vector<Finding>> {
    if (!r) return r.error();
    std::vector<Finding> v;
    v.push_back(std::move(*r));
    return v;
  };
  if (l == "RSA PRIVATE KEY" || l == "EC PRIVATE KEY" || l == "DSA PRIVATE KEY") {
    const std::string_view alg = l[0] == 'R' ? "rsa" : (l[0] == 'E' ? "ec" : "dsa");
    if (has_encryption_headers(b)) return one(legacy_encrypted(b, alg));
    if (l[0] == 'R') return one(der_traditional_key(der, EVP_PKEY_RSA, Format::pem_pkcs1, "private-key/pkcs1"));
    if (l[0] == 'E') return one(der_traditional_key(der, EVP_PKEY_EC, Format::pem_sec1, "private-key/sec1"));
    return one(der_traditional_key(der, EVP_PKEY_DSA, Format::pem_dsa, "private-key/dsa"));
  }
  if (l == "PRIVATE KEY") {
    // Proc-Type/DEK-Info around a PKCS#8 body (OpenSSL opens it): which algorithm is inside
    // cannot be known without the password.
    if (has_encryption_headers(b)) return one(legacy_encrypted(b, ""));
    return one(der_pkcs8_key(der, Format::pem_pkcs8));
  }
  if (l == "ENCRYPTED PRIVATE KEY") return one(der_encrypted_pkcs8(der, Format::pem_pkcs8_encrypted, false));
  if (l == "OPENSSH PRIVATE KEY") return one(parse_openssh_v1(der));
  if (l == "CERTIFICATE" || l == "X509 CERTIFICATE")
    return one(der_certificate(der, false, Format::pem_cert, certificates));
  if (l == "TRUSTED CERTIFICATE") return one(der_certificate(der, true, Format::pem_cert, certificates));
  if (l == "PKCS7") return der_pkcs7_certificates(der, Format::pkcs7);
  if (l == "PUBLIC KEY") return one(der_public_key(der, false, Format::pem_public_key));
  if (l == "RSA PUBLIC KEY") return one(der_public_key(der, true, Format::pem_public_key));
  if (l == "CERTIFICATE REQUEST" || l == "NEW CERTIFICATE REQUEST") return one(der_csr(der, Format::pem_csr));
  return make_error_code(Errc::unsupported);
}

bool known_label(std::string_view l) { return !pem_label_family(l).empty(); }

}  // namespace

std::string_view pem_label_family(std::string_view l) noexcept {
  if (l == "RSA PRIVATE KEY" || l == "EC PRIVATE KEY" || l == "DSA PRIVATE KEY" || l == "PRIVATE KEY" ||
      l == "ENCRYPTED PRIVATE KEY")
    return "pem-private-key";
  if (l == "OPENSSH PRIVATE KEY") return "openssh";
  if (l == "PGP PRIVATE KEY BLOCK") return "pgp";
  if (l == "CERTIFICATE" || l == "X509 CERTIFICATE" || l == "TRUSTED CERTIFICATE" || l == "PKCS7")
    return "pem-certificate";
  if (l == "PUBLIC KEY" || l == "RSA PUBLIC KEY" || l == "CERTIFICATE REQUEST" || l == "NEW CERTIFICATE REQUEST")
    return "pem-public";
  return {};
}

Result<PemOutcome> decode_pem(std::string_view text, std::size_t at, FindingMemo* certificates) {
  // PGP armor has its own grammar (blank line, CRC-24 line): its parser reads it whole.
  static constexpr std::string_view kPgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----";
  if (text.substr(at, kPgp.size()) == kPgp) {
    auto parsed = parse_pgp_armor(text.substr(at));
    if (!parsed) return parsed.error();
    PemOutcome out;
    out.consumed = parsed->consumed;
    out.findings.push_back(std::move(parsed->finding));
    return out;
  }
  auto block = read_block(text, at);
  if (!block) {
    // A block we do not know, or text that only looks like a label, is not a rejection.
    if (block.error() == make_error_code(Errc::bad_magic)) return make_error_code(Errc::unsupported);
    std::size_t p = at + kBegin.size();
    std::size_t q = p;
    while (q < text.size() && q - p < 64 && text[q] != '-') ++q;
    if (!known_label(text.substr(p, q - p))) return make_error_code(Errc::unsupported);
    return block.error();
  }
  if (!known_label(block->label)) return make_error_code(Errc::unsupported);
  Der der = block->der.bytes();
  auto decoded = decode_block(*block, der, certificates);
  std::uint64_t trailing = 0;
  if (!decoded && !has_encryption_headers(*block)) {
    // Bytes after a complete DER object (OpenSSL loads the object and ignores them): the object
    // alone must then decode as strictly as a whole body does.
    const std::size_t n = complete_der_length(der);
    if (n != 0 && n < der.size()) {
      auto first = decode_block(*block, der.first(n), certificates);
      if (first) {
        decoded = std::move(first);
        trailing = der.size() - n;
        der = der.first(n);
      }
    }
  }
  if (!decoded) return decoded.error();
  PemOutcome out;
  out.consumed = block->consumed;
  out.escaped = block->escaped;
  out.findings = std::move(*decoded);
  for (auto& f : out.findings) {
    f.trailing_bytes = trailing;
    if (f.identity.empty()) set_der_identity(f, der);
  }
  return out;  // block->der (a clear private key perhaps) is wiped by its type, here as on every return above
}

}  // namespace keyward::scanner::detail
