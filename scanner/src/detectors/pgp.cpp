// SPDX-License-Identifier: Apache-2.0
// OpenPGP transferable secret keys: ASCII armor (RFC 4880 section 6, CRC-24 checked when
// present) and binary packets (RFC 4880 section 4-5, RFC 9580 for v6 and new algorithms).
// Reads the public part of the first secret-key packet that holds secret material and the S2K
// header that says how it is protected; secret MPIs are never read. Decoded armor is wiped.
#include "detectors/lines.hpp"
#include "detectors/parsers.hpp"

#include "encoding.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace keyward::scanner::detail {
namespace {

constexpr std::string_view kBegin = "-----BEGIN PGP PRIVATE KEY BLOCK-----";
constexpr std::string_view kEnd = "-----END PGP PRIVATE KEY BLOCK-----";
constexpr std::size_t kMaxUserId = 4096;

using Span = std::span<const std::uint8_t>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// RFC 4880 section 6.1.
std::uint32_t crc24(Span data) {
  std::uint32_t crc = 0xB704CE;
  for (auto b : data) {
    crc ^= std::uint32_t{b} << 16;
    for (int i = 0; i < 8; ++i) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864CFB;
    }
  }
  return crc & 0xFFFFFF;
}

// One packet: its tag and body.
struct Packet {
  std::uint8_t tag = 0;
  Span body;
};

// Reads one packet header and body (RFC 4880 section 4.2). Partial lengths are rejected: key,
// user ID and signature packets never use them.
Result<Packet> next_packet(Reader& r) {
  std::uint8_t ctb = 0;
  if (!r.u8(ctb)) return make_error_code(Errc::truncated);
  if ((ctb & 0x80) == 0) return make_error_code(Errc::bad_structure);
  Packet p;
  std::size_t len = 0;
  if (ctb & 0x40) {  // new format
    p.tag = ctb & 0x3F;
    std::uint8_t o1 = 0, o2 = 0;
    if (!r.u8(o1)) return make_error_code(Errc::truncated);
    if (o1 < 192) {
      len = o1;
    } else if (o1 < 224) {
      if (!r.u8(o2)) return make_error_code(Errc::truncated);
      len = ((std::size_t{o1} - 192) << 8) + o2 + 192;
    } else if (o1 == 255) {
      std::uint32_t l = 0;
      if (!r.u32(l)) return make_error_code(Errc::truncated);
      len = l;
    } else {
      return make_error_code(Errc::unsupported);  // partial body length
    }
  } else {  // old format
    p.tag = (ctb >> 2) & 0x0F;
    switch (ctb & 3) {
      case 0: {
        std::uint8_t l = 0;
        if (!r.u8(l)) return make_error_code(Errc::truncated);
        len = l;
        break;
      }
      case 1: {
        std::uint16_t l = 0;
        if (!r.u16(l)) return make_error_code(Errc::truncated);
        len = l;
        break;
      }
      case 2: {
        std::uint32_t l = 0;
        if (!r.u32(l)) return make_error_code(Errc::truncated);
        len = l;
        break;
      }
      default:
        len = r.remaining();
        break;  // indeterminate: to the end of the data
    }
  }
  if (p.tag == 0) return make_error_code(Errc::bad_structure);
  if (!r.bytes(len, p.body)) return make_error_code(Errc::truncated);
  return p;
}

// MPI: u16 bit count, then (bits + 7) / 8 bytes (RFC 4880 section 3.2).
bool read_mpi(Reader& r, Span& out) {
  std::uint16_t bits = 0;
  if (!r.u16(bits)) return false;
  return r.bytes((std::size_t{bits} + 7) / 8, out);
}

std::uint32_t bit_length(Span n) {
  std::size_t i = 0;
  while (i < n.size() && n[i] == 0) ++i;
  if (i == n.size()) return 0;
  std::uint32_t bits = static_cast<std::uint32_t>((n.size() - i - 1) * 8);
  for (std::uint8_t b = n[i]; b != 0; b >>= 1) ++bits;
  return bits;
}

// Curves by their DER OID body (RFC 4880 section 9.2 / RFC 6637 / RFC 9580 section 9.2).
struct Curve {
  std::string_view oid;      // OID bytes without tag and length
  std::string_view openssl;  // EC group name, or the raw key type for 25519/448
  bool raw = false;          // a 0x40-prefixed native point
};
constexpr std::array<Curve, 11> kCurves{{
    {"\x2A\x86\x48\xCE\x3D\x03\x01\x07", "prime256v1", false},
    {"\x2B\x81\x04\x00\x22", "secp384r1", false},
    {"\x2B\x81\x04\x00\x23", "secp521r1", false},
    {"\x2B\x81\x04\x00\x0A", "secp256k1", false},
    {"\x2B\x24\x03\x03\x02\x08\x01\x01\x07", "brainpoolP256r1", false},
    {"\x2B\x24\x03\x03\x02\x08\x01\x01\x0B", "brainpoolP384r1", false},
    {"\x2B\x24\x03\x03\x02\x08\x01\x01\x0D", "brainpoolP512r1", false},
    {"\x2B\x06\x01\x04\x01\xDA\x47\x0F\x01", "ED25519", true},
    {"\x2B\x06\x01\x04\x01\x97\x55\x01\x05\x01", "X25519", true},
    {"\x2B\x65\x71", "ED448", true},
    {"\x2B\x65\x6F", "X448", true},
}};

const Curve* find_curve(Span oid) {
  for (const auto& c : kCurves)
    if (c.oid.size() == oid.size() && std::memcmp(c.oid.data(), oid.data(), oid.size()) == 0) return &c;
  return nullptr;
}

// Dotted form of an OID body, for curves OpenSSL cannot build.
std::string dotted_oid(Span oid) {
  std::string out;
  std::uint64_t v = 0;
  bool first = true;
  for (auto b : oid) {
    if (v > (std::uint64_t{1} << 56)) return "unknown";
    v = (v << 7) | (b & 0x7F);
    if (b & 0x80) continue;
    if (first) {
      const std::uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
      out = std::to_string(a) + "." + std::to_string(v - a * 40);
      first = false;
    } else {
      out += "." + std::to_string(v);
    }
    v = 0;
  }
  return out.empty() ? "unknown" : out;
}

std::size_t raw_key_size(std::string_view type) {
  if (type == "ED25519" || type == "X25519") return 32;
  if (type == "X448") return 56;
  if (type == "ED448") return 57;
  return 0;
}

// An ECC public point: OID then MPI (RFC 6637 / RFC 9580 sections 5.5.5.4-6).
Result<void> ecc_facts(Reader& r, std::string_view fallback_algorithm, KeyFacts& key) {
  std::uint8_t oid_len = 0;
  Span oid, point;
  if (!r.u8(oid_len)) return make_error_code(Errc::truncated);
  if (oid_len == 0 || oid_len == 0xFF) return make_error_code(Errc::bad_structure);
  if (!r.bytes(oid_len, oid) || !read_mpi(r, point)) return make_error_code(Errc::truncated);
  const Curve* curve = find_curve(oid);
  if (curve == nullptr) {
    key.algorithm = std::string(fallback_algorithm);
    key.curve = dotted_oid(oid);
    return {};
  }
  if (!curve->raw) return key_facts_from_ec(curve->openssl, point, key);
  const std::size_t size = raw_key_size(curve->openssl);
  if (point.size() != size + 1 || point[0] != 0x40) return make_error_code(Errc::bad_structure);
  return key_facts_from_raw(curve->openssl, point.subspan(1), key);
}

// The public key material of `algo` (RFC 4880 section 5.5.2, RFC 9580 section 5.5.5).
Result<void> public_material(Reader& r, std::uint8_t algo, KeyFacts& key) {
  Span a, b, c, d;
  switch (algo) {
    case 1:
    case 2:
    case 3:  // RSA: n, e
      if (!read_mpi(r, a) || !read_mpi(r, b)) return make_error_code(Errc::truncated);
      return key_facts_from_rsa(a, b, key);
    case 17:  // DSA: p, q, g, y
      if (!read_mpi(r, a) || !read_mpi(r, b) || !read_mpi(r, c) || !read_mpi(r, d))
        return make_error_code(Errc::truncated);
      return key_facts_from_dsa(a, b, c, d, key);
    case 16:
    case 20:  // ElGamal: p, g, y (OpenSSL has no ElGamal key type)
      if (!read_mpi(r, a) || !read_mpi(r, b) || !read_mpi(r, c)) return make_error_code(Errc::truncated);
      if (bit_length(a) == 0) return make_error_code(Errc::bad_structure);
      key.algorithm = "elgamal";
      key.bits = bit_length(a);
      return {};
    case 19:  // ECDSA
      return ecc_facts(r, "ecdsa", key);
    case 22:  // EdDSA (legacy)
      return ecc_facts(r, "eddsa", key);
    case 18: {  // ECDH: OID, point, KDF parameters
      auto facts = ecc_facts(r, "ecdh", key);
      if (!facts) return facts;
      std::uint8_t kdf_len = 0;
      if (!r.u8(kdf_len) || !r.bytes(kdf_len, a)) return make_error_code(Errc::truncated);
      if (kdf_len < 3) return make_error_code(Errc::bad_structure);
      return {};
    }
    case 25:
    case 26:
    case 27:
    case 28: {  // RFC 9580: X25519, X448, Ed25519, Ed448 (native)
      static constexpr std::array<std::string_view, 4> kTypes{"X25519", "X448", "ED25519", "ED448"};
      const std::string_view type = kTypes[algo - 25];
      if (!r.bytes(raw_key_size(type), a)) return make_error_code(Errc::truncated);
      return key_facts_from_raw(type, a, key);
    }
    default:
      return make_error_code(Errc::unsupported);
  }
}

std::string cipher_name(std::uint8_t id) {
  switch (id) {
    case 1:
      return "idea";
    case 2:
      return "3des";
    case 3:
      return "cast5";
    case 4:
      return "blowfish";
    case 7:
      return "aes-128";
    case 8:
      return "aes-192";
    case 9:
      return "aes-256";
    case 10:
      return "twofish";
    case 11:
      return "camellia-128";
    case 12:
      return "camellia-192";
    case 13:
      return "camellia-256";
    default:
      return "cipher-" + std::to_string(id);
  }
}

// What the S2K header says: the protection, or that the secret is not in this packet.
enum class Secret { present, absent };

// Reads a string-to-key specifier (RFC 4880 section 3.7, RFC 9580 section 3.7).
Result<Secret> read_s2k(Reader& r, Protection& protection) {
  std::uint8_t type = 0, hash = 0;
  Span salt;
  if (!r.u8(type)) return make_error_code(Errc::truncated);
  switch (type) {
    case 0:
      if (!r.u8(hash)) return make_error_code(Errc::truncated);
      protection.kdf = "s2k-simple";
      return Secret::present;
    case 1:
      if (!r.u8(hash) || !r.bytes(8, salt)) return make_error_code(Errc::truncated);
      protection.kdf = "s2k-salted";
      return Secret::present;
    case 3: {
      std::uint8_t c = 0;
      if (!r.u8(hash) || !r.bytes(8, salt) || !r.u8(c)) return make_error_code(Errc::truncated);
      protection.kdf = "s2k-iterated";
      protection.kdf_iterations = (std::uint64_t{16} + (c & 15)) << ((c >> 4) + 6);
      return Secret::present;
    }
    case 4: {  // Argon2: salt[16], passes, parallelism, encoded memory
      std::uint8_t t = 0, p = 0, m = 0;
      if (!r.bytes(16, salt) || !r.u8(t) || !r.u8(p) || !r.u8(m)) return make_error_code(Errc::truncated);
      protection.kdf = "argon2";
      protection.kdf_iterations = t;
      return Secret::present;
    }
    case 101: {  // GnuPG extension: gnu-dummy (1) or divert-to-card (2): no secret here
      Span gnu;
      std::uint8_t mode = 0;
      if (!r.u8(hash) || !r.bytes(3, gnu) || !r.u8(mode)) return make_error_code(Errc::truncated);
      if (std::memcmp(gnu.data(), "GNU", 3) != 0) return make_error_code(Errc::unsupported);
      if (mode == 1 || mode == 2) return Secret::absent;
      return make_error_code(Errc::unsupported);
    }
    default:
      return make_error_code(Errc::unsupported);
  }
}

// The outcome of one secret-key packet.
struct SecretKey {
  KeyFacts key;
  Secret secret = Secret::present;
};

Result<SecretKey> parse_secret_key(Span body) {
  Reader r(body);
  std::uint8_t version = 0, algo = 0;
  std::uint32_t created = 0;
  if (!r.u8(version)) return make_error_code(Errc::truncated);
  if (version != 4 && version != 5 && version != 6) return make_error_code(Errc::unsupported);
  if (!r.u32(created) || !r.u8(algo)) return make_error_code(Errc::truncated);
  SecretKey out;
  if (version == 4) {
    auto facts = public_material(r, algo, out.key);
    if (!facts) return facts.error();
  } else {  // v5 / v6 carry the length of the public material
    std::uint32_t material_len = 0;
    Span material;
    if (!r.u32(material_len) || !r.bytes(material_len, material)) return make_error_code(Errc::truncated);
    Reader m(material);
    auto facts = public_material(m, algo, out.key);
    if (!facts) return facts.error();
    if (m.remaining() != 0) return make_error_code(Errc::bad_structure);
  }
  const std::size_t public_len = r.position();

  // Fingerprint over the public-key packet body (RFC 4880 section 12.2, RFC 9580 section 5.5.4).
  std::array<std::uint8_t, 5> prefix{};
  std::size_t prefix_len = 0;
  const EVP_MD* md = nullptr;
  if (version == 4) {
    if (public_len > 0xFFFF) return make_error_code(Errc::unsupported);
    prefix = {0x99, static_cast<std::uint8_t>(public_len >> 8), static_cast<std::uint8_t>(public_len), 0, 0};
    prefix_len = 3;
    md = sha1();
  } else {
    const auto n = static_cast<std::uint32_t>(public_len);
    prefix = {static_cast<std::uint8_t>(version == 5 ? 0x9A : 0x9B), static_cast<std::uint8_t>(n >> 24),
              static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    prefix_len = 5;
    md = sha256();
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), prefix.data(), prefix_len) != 1 ||
      EVP_DigestUpdate(ctx.get(), body.data(), public_len) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &digest_len) != 1)
    return make_error_code(Errc::crypto_error);
  out.key.pgp_fingerprint = hex(Span(digest, digest_len), true);

  // Secret part header (RFC 4880 section 5.5.3, RFC 9580 section 5.5.3).
  std::uint8_t usage = 0;
  if (!r.u8(usage)) return make_error_code(Errc::truncated);
  if (usage == 0) {
    if (r.remaining() < 2) return make_error_code(Errc::truncated);  // secret MPIs + checksum
    out.key.encrypted = false;
    return out;
  }
  if (version != 4) {
    std::uint8_t count = 0;  // octet count of the optional fields that follow
    if (!r.u8(count) || r.remaining() < count) return make_error_code(Errc::truncated);
  }
  Protection protection;
  if (usage == 253 || usage == 254 || usage == 255) {
    std::uint8_t sym = 0, aead = 0;
    if (!r.u8(sym)) return make_error_code(Errc::truncated);
    if (usage == 253 && !r.u8(aead)) return make_error_code(Errc::truncated);
    if (version == 6) {
      std::uint8_t s2k_len = 0;
      if (!r.u8(s2k_len)) return make_error_code(Errc::truncated);
    }
    auto secret = read_s2k(r, protection);
    if (!secret) return secret.error();
    out.secret = *secret;
    protection.cipher = cipher_name(sym);
  } else {
    // Legacy: the octet is the cipher, the key is MD5(passphrase) (simple S2K).
    protection.cipher = cipher_name(usage);
    protection.kdf = "s2k-simple";
  }
  out.key.encrypted = true;
  out.key.protection = std::move(protection);
  return out;
}

}  // namespace

Result<Finding> parse_pgp_packets(std::span<const std::uint8_t> packets) {
  Reader r(packets);
  std::optional<KeyFacts> found;
  std::optional<std::string> user_id;
  std::optional<boost::system::error_code> first_error;
  while (r.remaining() != 0 && !(found && user_id)) {
    auto packet = next_packet(r);
    if (!packet) {
      if (found) break;  // the key packet is whole; what follows is not ours to judge
      return packet.error();
    }
    if (packet->tag == 13 && !user_id) {
      const auto& b = packet->body;
      user_id = std::string(reinterpret_cast<const char*>(b.data()), std::min(b.size(), kMaxUserId));
    } else if ((packet->tag == 5 || packet->tag == 7) && !found) {
      auto secret = parse_secret_key(packet->body);
      if (!secret) {
        if (packet->tag == 5) return secret.error();
        if (!first_error) first_error = secret.error();
        continue;
      }
      if (secret->secret == Secret::present) found = std::move(secret->key);
    }
  }
  if (!found) {
    if (first_error) return *first_error;
    return make_error_code(Errc::not_private);  // public keys only, or secrets on a card
  }
  Finding finding;
  finding.kind = Kind::private_key;
  finding.format = Format::pgp;
  finding.rule = "private-key/pgp";
  if (user_id) found->comment = clean_comment(*user_id);
  finding.identity = key_identity(*found);
  finding.key = std::move(*found);
  return finding;
}

Result<std::vector<Finding>> parse_pgp_keyring(std::span<const std::uint8_t> packets) {
  // A keyring (secring.gpg, an export of several keys) is a sequence of transferable keys, each
  // starting with a primary key packet (tag 5 secret or 6 public): parse each one on its own.
  constexpr std::size_t kMaxKeys = 4096;
  Reader r(packets);
  std::vector<std::size_t> starts;
  while (r.remaining() != 0 && starts.size() < kMaxKeys) {
    const std::size_t at = r.position();
    auto packet = next_packet(r);
    if (!packet) break;
    if (packet->tag == 5 || packet->tag == 6) starts.push_back(at);
  }
  if (starts.empty() || starts.front() != 0) starts.insert(starts.begin(), 0);
  std::vector<Finding> out;
  std::optional<boost::system::error_code> first_error;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : packets.size();
    auto key = parse_pgp_packets(packets.subspan(starts[i], end - starts[i]));
    if (key) out.push_back(std::move(*key));
    else if (!first_error) first_error = key.error();
  }
  if (out.empty()) return first_error ? *first_error : make_error_code(Errc::not_private);
  return out;
}

Result<Parsed> parse_pgp_armor(std::string_view text) {
  Lines lines(text);
  std::string_view line;
  bool terminated = false;
  if (!lines.next(line, terminated)) return make_error_code(Errc::truncated);
  if (trim(line) != kBegin) {
    const bool cut = !terminated && kBegin.starts_with(line);
    return make_error_code(cut ? Errc::truncated : Errc::bad_magic);
  }

  // Armor headers "Key: Value" up to an empty line (RFC 4880 section 6.2). Without headers some
  // writers omit the empty line: a line that is not a header starts the body.
  SecretBytes body;  // the key's base64 text
  bool in_headers = true;
  bool ended = false;
  std::optional<std::uint32_t> checksum;
  while (lines.next(line, terminated)) {
    const std::string_view t = trim(line);
    if (t == kEnd) {
      ended = true;
      break;
    }
    if (t.starts_with("-----")) return make_error_code(Errc::bad_structure);
    if (in_headers) {
      if (t.empty()) {
        in_headers = false;
        continue;
      }
      const std::size_t colon = t.find(": ");
      if (colon != std::string_view::npos && colon > 0) {
        bool tag_ok = true;
        for (char c : t.substr(0, colon))
          if (c <= 0x20 || c >= 0x7f) tag_ok = false;
        if (tag_ok) continue;
      }
      in_headers = false;
    }
    if (checksum) {
      if (!t.empty()) return make_error_code(Errc::bad_structure);  // only END after the CRC
      continue;
    }
    if (t.size() == 5 && t[0] == '=' && body.size() % 4 == 0) {
      auto crc = base64_decode(t.substr(1));
      if (!crc || crc->size() != 3) return make_error_code(Errc::bad_encoding);
      checksum = (std::uint32_t{(*crc)[0]} << 16) | (std::uint32_t{(*crc)[1]} << 8) | (*crc)[2];
      continue;
    }
    for (char c : t)
      if (!is_base64_char(c) && c != '=') return make_error_code(Errc::bad_encoding);
    body.append(t);
  }
  if (!ended) return make_error_code(Errc::truncated);
  if (body.empty()) return make_error_code(Errc::bad_structure);
  const auto packets = base64_decode_secret(body.view());  // wiped on every return
  if (!packets) return make_error_code(Errc::bad_encoding);
  if (checksum && crc24(packets->bytes()) != *checksum) return make_error_code(Errc::bad_encoding);
  auto finding = parse_pgp_packets(packets->bytes());
  if (!finding) return finding.error();
  Parsed parsed;
  parsed.finding = std::move(*finding);
  parsed.consumed = lines.position();
  return parsed;
}

}  // namespace keyward::scanner::detail
