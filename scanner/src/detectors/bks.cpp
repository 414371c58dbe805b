// SPDX-License-Identifier: Apache-2.0
// Bouncy Castle's own key stores: BKS (versions 0/1 and 2) and UBER, read by our own parser in
// memory (layout: Bouncy Castle's BcKeyStoreSpi engineLoad/loadStore and its BouncyCastleStore;
// docs/scan.md "Bouncy Castle stores").
// BKS: header (version, salt, iteration count), then entries in clear (type byte, alias, date,
// chain, body) up to a zero type byte, then an HMAC-SHA1 over the entries keyed by the PKCS#12
// KDF (id 3). Version 2 derives a 20-byte MAC key; versions 0 and 1 a 2-byte one (BC passed
// the MAC size in bytes where bits were meant). Sealed keys are PBEWithSHAAnd3-KeyTripleDES-CBC
// (PKCS#12 KDF ids 1 and 2, salt and iterations per entry); key entries are not encrypted.
// UBER: the same header, then everything encrypted with PBEWithSHAAndTwofish-CBC, which OpenSSL
// does not implement: reported from its header, contents unknown.
// Every crypto step is OpenSSL's; decrypted bytes live in SecretBytes only.
#include "detectors/java_store.hpp"
#include "detectors/parsers.hpp"
#include "openssl/key_info.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pkcs12.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace keyward::scanner::detail {
namespace {

// BcKeyStoreSpi.STORE_SALT_SIZE (what BC writes; BKS reads any length, UBER insists on it).
constexpr std::uint32_t kStoreSaltLen = 20;
constexpr std::uint32_t kMaxSaltLen = 1024;
// BouncyCastleStore refuses more (MIN_ITERATIONS << 6); BC writes 1024..2047.
constexpr std::uint32_t kMaxUberIterations = 1u << 16;
// A PKCS#12 KDF with more iterations than this is not run (one try would stall a worker).
constexpr std::uint32_t kMaxKdfIterations = 1'000'000;
// Below OpenSSL's PKCS12_DEFAULT_ITER, as PKCS#12 stores are graded.
constexpr std::uint32_t kWeakIterations = 2048;
constexpr std::uint32_t kMaxEntries = 10000;
constexpr std::uint32_t kMaxChain = 1000;
constexpr std::size_t kMacLen = 20;  // HMAC-SHA1
constexpr std::size_t kTwofishBlock = 16;

// BcKeyStoreSpi's entry types and key types.
enum EntryType : std::uint8_t { kEnd = 0, kCertificate = 1, kKey = 2, kSecret = 3, kSealed = 4 };
enum KeyType : std::uint8_t { kPrivateKey = 0, kPublicKey = 1, kSecretKey = 2 };

struct Header {
  std::uint32_t version = 0;
  std::span<const std::uint8_t> salt;
  std::uint32_t iterations = 0;
};

Result<Header> read_header(Reader& r) {
  Header h;
  std::uint32_t salt_len = 0;
  if (!r.u32(h.version) || !r.u32(salt_len)) return make_error_code(Errc::truncated);
  if (h.version > 2) return make_error_code(Errc::bad_magic);
  if (salt_len == 0 || salt_len > kMaxSaltLen) return make_error_code(Errc::bad_structure);
  if (!r.bytes(salt_len, h.salt) || !r.u32(h.iterations)) return make_error_code(Errc::truncated);
  if (h.iterations > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
    return make_error_code(Errc::bad_structure);
  return h;
}

// The PKCS#12 KDF (RFC 7292 appendix B, SHA-1) with BC's password bytes; false on failure.
bool pkcs12_kdf(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt, int id,
                std::uint32_t iterations, std::span<std::uint8_t> out) {
  if (iterations == 0 || iterations > kMaxKdfIterations) return false;
  auto* pass = const_cast<unsigned char*>(password.empty() ? nullptr : password.data());
  const bool ok = PKCS12_key_gen_uni(pass, static_cast<int>(password.size()), const_cast<unsigned char*>(salt.data()),
                                     static_cast<int>(salt.size()), id, static_cast<int>(iterations),
                                     static_cast<int>(out.size()), out.data(), sha1()) == 1;
  clear_errors();
  return ok;
}

// The store MAC: HMAC-SHA1 over the entries, its key from the PKCS#12 KDF (id 3).
bool mac_matches(std::span<const std::uint8_t> password, const Header& h, std::span<const std::uint8_t> body,
                 std::span<const std::uint8_t> expected) {
  SecretBytes key(h.version == 2 ? kMacLen : kMacLen / 8);  // 160 bits, or BC's 20 "bits"
  if (!pkcs12_kdf(password, h.salt, PKCS12_MAC_ID, h.iterations, key.bytes())) return false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(sha1(), key.data(), static_cast<int>(key.size()), body.data(), body.size(), md, &len) == nullptr ||
      len != kMacLen) {
    clear_errors();
    return false;
  }
  return CRYPTO_memcmp(md, expected.data(), kMacLen) == 0;
}

// A sealed entry's body: salt, iteration count and the 3DES ciphertext of the encoded key.
struct SealedKey {
  std::size_t entry = 0;  // index into Finding::entries
  std::span<const std::uint8_t> salt;
  std::uint32_t iterations = 0;
  std::span<const std::uint8_t> encrypted;
  bool recovered = false;
};

Result<SealedKey> read_sealed(std::span<const std::uint8_t> body) {
  Reader r(body);
  SealedKey k;
  std::uint32_t salt_len = 0;
  if (!r.u32(salt_len)) return make_error_code(Errc::truncated);
  if (salt_len == 0 || salt_len > kMaxSaltLen) return make_error_code(Errc::bad_structure);
  if (!r.bytes(salt_len, k.salt) || !r.u32(k.iterations)) return make_error_code(Errc::truncated);
  k.encrypted = r.rest();
  if (k.encrypted.empty() || k.encrypted.size() % 8 != 0) return make_error_code(Errc::bad_structure);
  return k;
}

// BcKeyStoreSpi.decodeKey's fields: key type, format, algorithm, encoding.
struct EncodedKey {
  std::uint8_t type = 0;
  std::string_view format;
  std::span<const std::uint8_t> encoded;
};

bool read_encoded_key(Reader& r, EncodedKey& k) {
  std::string_view algorithm;
  if (!r.u8(k.type) || !read_java_utf(r, k.format) || !read_java_utf(r, algorithm)) return false;
  auto encoded = read_java_blob(r);
  if (!encoded) return false;
  k.encoded = *encoded;
  return true;
}

// Facts of a PKCS#8 private key or a secret key into `key`; false for anything else.
bool encoded_key_facts(const EncodedKey& k, KeyFacts& key) {
  if (k.type == kSecretKey) {
    key = KeyFacts{};
    key.algorithm = std::string(kSecretKeyAlgorithm);
    return true;
  }
  if (k.type != kPrivateKey || k.format != "PKCS#8") return false;
  clear_errors();
  common::PkeyPtr pkey = pkcs8_key(k.encoded);
  if (pkey) {
    key = KeyFacts{};
    fill_key_facts(pkey.get(), key);
  }
  drain_errors();
  return pkey != nullptr;
}

// PBEWithSHAAnd3-KeyTripleDES-CBC: key (id 1, 24 bytes) and IV (id 2, 8 bytes) from the PKCS#12
// KDF; the plaintext is the encoded key. Fills `key` on success.
bool unseal(const SealedKey& k, std::span<const std::uint8_t> password, KeyFacts& key) {
  SecretBytes des_key(24), iv(8);
  if (!pkcs12_kdf(password, k.salt, PKCS12_KEY_ID, k.iterations, des_key.bytes()) ||
      !pkcs12_kdf(password, k.salt, PKCS12_IV_ID, k.iterations, iv.bytes()))
    return false;
  common::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  SecretBytes plain(k.encrypted.size() + 8);
  int n1 = 0, n2 = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_des_ede3_cbc(), nullptr, des_key.data(), iv.data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), plain.data(), &n1, k.encrypted.data(), static_cast<int>(k.encrypted.size())) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + n1, &n2) == 1;
  clear_errors();
  if (!ok) return false;  // wrong password: almost always bad padding
  plain.resize(static_cast<std::size_t>(n1 + n2));
  Reader r(plain.bytes());
  EncodedKey encoded;
  KeyFacts facts;
  if (!read_encoded_key(r, encoded) || !encoded_key_facts(encoded, facts)) return false;
  facts.encrypted = true;
  facts.protection = key.protection;
  key = std::move(facts);
  return true;
}

// What reading the entries found.
struct Body {
  std::vector<SealedKey> sealed;
  bool plain_key = false;  // a key or secret entry stored without encryption
  std::uint32_t min_key_iterations = std::numeric_limits<std::uint32_t>::max();
};

// One certificate: its type name, then u32 length + encoding. Facts only for X.509.
Result<std::optional<CertFacts>> read_certificate(Reader& r, KeyFacts* key) {
  std::string_view type;
  if (!read_java_utf(r, type)) return make_error_code(Errc::truncated);
  auto der = read_java_blob(r);
  if (!der) return der.error();
  if (type != "X.509") return std::optional<CertFacts>();
  return der_certificate_facts(*der, key);
}

// The body of one entry of `type` after its chain: fills `entry` and the store facts.
Result<void> read_entry_body(Reader& r, std::uint8_t type, StoreEntry& entry, StoreFacts& store, Body& body,
                             std::size_t index) {
  if (type == kCertificate) {
    auto cert = read_certificate(r, nullptr);
    if (!cert) return cert.error();
    entry.kind = Kind::certificate;
    entry.certificate = std::move(*cert);
    ++store.certificates;
    add_distinct(store.contents, "trusted-certificate");
    return {};
  }
  KeyFacts key = entry.key.value_or(KeyFacts{});
  entry.kind = Kind::private_key;
  if (type == kKey) {
    EncodedKey encoded;
    if (!read_encoded_key(r, encoded)) return make_error_code(Errc::truncated);
    if (encoded.type == kPublicKey) {
      entry.kind = Kind::public_key;
      add_distinct(store.contents, "public-key");
      return {};
    }
    (void)encoded_key_facts(encoded, key);  // unreadable: the chain's facts stay
    body.plain_key = true;
    add_distinct(store.contents, key.secret_key() ? "secret-key" : "private-key");
  } else if (type == kSecret) {
    auto secret = read_java_blob(r);
    if (!secret) return secret.error();
    key = KeyFacts{};
    key.algorithm = std::string(kSecretKeyAlgorithm);
    body.plain_key = true;
    add_distinct(store.contents, "secret-key");
  } else if (type == kSealed) {
    auto blob = read_java_blob(r);
    if (!blob) return blob.error();
    auto sealed = read_sealed(*blob);
    if (!sealed) return sealed.error();
    sealed->entry = index;
    key.encrypted = true;
    key.protection = Protection{"des-ede3-cbc", "pkcs12", sealed->iterations};
    add_distinct(store.encryption, *key.protection);
    body.min_key_iterations = std::min(body.min_key_iterations, sealed->iterations);
    body.sealed.push_back(*sealed);
    add_distinct(store.contents, entry.chain_length > 0 ? "private-key" : "sealed-key");
  } else {
    return make_error_code(Errc::bad_structure);
  }
  entry.key = std::move(key);
  return {};
}

// BcKeyStoreSpi.loadStore: entries up to the zero type byte.
Result<Body> read_entries(Reader& r, Finding& finding, StoreFacts& store) {
  Body body;
  for (std::uint32_t n = 0;; ++n) {
    std::uint8_t type = 0;
    if (!r.u8(type)) return make_error_code(Errc::truncated);
    if (type == kEnd) return body;
    if (type > kSealed) return make_error_code(Errc::bad_structure);
    if (n >= kMaxEntries) return make_error_code(Errc::too_large);
    std::string_view alias;
    std::uint32_t date_hi = 0, date_lo = 0, chain = 0;
    if (!read_java_utf(r, alias) || !r.u32(date_hi) || !r.u32(date_lo) || !r.u32(chain))
      return make_error_code(Errc::truncated);
    if (chain > kMaxChain) return make_error_code(Errc::too_large);
    StoreEntry entry;
    entry.alias = clean_comment(alias);
    entry.created = static_cast<std::int64_t>((std::uint64_t{date_hi} << 32) | date_lo) / 1000;
    entry.chain_length = chain;
    KeyFacts key;
    for (std::uint32_t k = 0; k < chain; ++k) {
      auto cert = read_certificate(r, k == 0 ? &key : nullptr);
      if (!cert) return cert.error();
      if (k == 0) entry.certificate = std::move(*cert);
    }
    store.certificates += chain;
    if (chain > 0) entry.key = std::move(key);
    if (auto ok = read_entry_body(r, type, entry, store, body, finding.entries.size()); !ok) return ok.error();
    finding.entries.push_back(std::move(entry));
  }
}

std::vector<std::string> grade(const Header& h, const Body& body) {
  std::vector<std::string> weak{"sha1-mac"};
  if (h.version < 2) weak.emplace_back("bks-v1-mac");  // a 16-bit MAC key
  if (!body.sealed.empty()) weak.emplace_back("3des");
  if (h.iterations < kWeakIterations || body.min_key_iterations < kWeakIterations) weak.emplace_back("low-iterations");
  if (body.plain_key) weak.emplace_back("unencrypted-key");
  std::sort(weak.begin(), weak.end());
  return weak;
}

// Tries one candidate on every sealed key not recovered yet.
void unseal_all(Finding& finding, Body& body, const PasswordCandidate& c, StoreFacts& store) {
  const SecretBytes pw = pkcs12_password_bytes(c.password.view());
  for (auto& k : body.sealed) {
    if (k.recovered) continue;
    KeyFacts& key = *finding.entries[k.entry].key;
    if (!unseal(k, pw.bytes(), key)) continue;
    k.recovered = true;
    if (c.source.empty()) key.weak_password = true;
    else key.password_exposed_in = c.source;
    mark_opened_by(c, store);
  }
}

// The store MAC first (cheap: about 2,000 SHA-1 rounds), then the sealed keys: with the password
// that verified the store, then with the other candidates while the budget lasts.
void try_passwords(Finding& finding, Body& body, const Header& h, std::span<const std::uint8_t> signed_part,
                   std::span<const std::uint8_t> mac, const PasswordSet& passwords, StoreFacts& store) {
  PasswordBudget budget(passwords);
  const PasswordCandidate* opener = nullptr;
  if (const std::size_t i = first_opener(passwords, budget,
                                         [&](std::size_t, const PasswordCandidate& c) {
                                           const SecretBytes pw = pkcs12_password_bytes(c.password.view());
                                           return mac_matches(pw.bytes(), h, signed_part, mac);
                                         });
      i != std::string::npos) {
    opener = &passwords.candidates[i];
    mark_opened_by(*opener, store);
  }
  if (body.sealed.empty()) return;
  if (opener != nullptr) unseal_all(finding, body, *opener, store);
  for (const auto& c : passwords.candidates) {
    if (std::all_of(body.sealed.begin(), body.sealed.end(), [](const SealedKey& k) { return k.recovered; })) break;
    if (&c == opener) continue;
    if (!budget.take()) break;
    unseal_all(finding, body, c, store);
  }
}

}  // namespace

Result<Finding> parse_bks(std::span<const std::uint8_t> data, const PasswordSet& passwords) {
  Reader r(data);
  auto header = read_header(r);
  if (!header) return header.error();
  const std::size_t body_start = r.position();
  Finding finding;
  finding.kind = Kind::keystore;
  finding.format = Format::bks;
  finding.rule = "keystore/bks";
  StoreFacts store;
  store.mac = "sha1";
  store.mac_iterations = header->iterations;
  auto body = read_entries(r, finding, store);
  if (!body) return body.error();
  std::span<const std::uint8_t> mac;
  const auto signed_part = data.subspan(body_start, r.position() - body_start);
  if (!r.bytes(kMacLen, mac)) return make_error_code(Errc::truncated);
  store.weaknesses = grade(*header, *body);
  try_passwords(finding, *body, *header, signed_part, mac, passwords, store);
  store.truststore = no_key_entries(finding);
  finding.identity = store_identity(finding, data);
  finding.store = std::move(store);
  return finding;
}

Result<Finding> parse_uber(std::span<const std::uint8_t> data) {
  Reader r(data);
  auto header = read_header(r);
  if (!header) return header.error();
  if (header->salt.size() != kStoreSaltLen || header->iterations > kMaxUberIterations)
    return make_error_code(Errc::bad_structure);
  // The Twofish-CBC ciphertext: whole blocks, at least the end byte and the SHA-1 digest.
  if (r.remaining() < 2 * kTwofishBlock || r.remaining() % kTwofishBlock != 0)
    return make_error_code(Errc::bad_structure);
  Finding finding;
  finding.kind = Kind::keystore;
  finding.format = Format::uber;
  finding.rule = "keystore/uber";
  StoreFacts store;
  store.encryption.push_back(Protection{"twofish-cbc", "pkcs12", header->iterations});
  if (header->iterations < kWeakIterations) store.weaknesses.emplace_back("low-iterations");
  // Not opened (OpenSSL has no Twofish): what it holds is unknown, so it may hold a key.
  store.contents.emplace_back(kStoreContentsEncrypted);
  store.truststore = false;
  finding.identity = store_identity(finding, data);
  finding.store = std::move(store);
  return finding;
}

}  // namespace keyward::scanner::detail
