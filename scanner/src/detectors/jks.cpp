// SPDX-License-Identifier: Apache-2.0
// Java KeyStore (JKS, magic FEEDFEED) and JCEKS (CECECECE): our own reader, since OpenSSL does
// not read them (layout: OpenJDK sun.security.provider.JavaKeyStore and
// com.sun.crypto.provider.JceKeyStore, engineLoad/engineStore).
// Without a password every entry is listed (alias, date, kind, leaf certificate facts). The
// keyed SHA-1 integrity digest is checked against the candidate passwords, and with a password
// each private key is decrypted in memory (Sun KeyProtector for JKS, PBEWithMD5AndTripleDES for
// JCEKS) only to confirm it and learn its facts; every password copy, derived key and plaintext
// is wiped at once. Never reports a password or a decrypted byte.
#include "detectors/java_store.hpp"

#include "detectors/parsers.hpp"
#include "encoding.hpp"
#include "openssl/cert_info.hpp"
#include "openssl/handles.hpp"
#include "openssl/key_info.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keyward::scanner::detail {
namespace {

constexpr std::uint32_t kJksMagic = 0xFEEDFEEDu;
constexpr std::uint32_t kJceksMagic = 0xCECECECEu;
constexpr std::uint32_t kMaxEntries = 10000;
constexpr std::uint32_t kMaxChain = 1000;
constexpr std::size_t kDigestLen = 20;  // SHA-1
// Java's com.sun.crypto.provider.KeyProtector.MAX_ITERATION_COUNT: Java itself refuses more.
constexpr std::uint64_t kMaxPbeIterations = 5'000'000;
// The salt that keys the integrity digest (JavaKeyStore.getPreKeyedHash).
constexpr std::string_view kIntegritySalt = "Mighty Aphrodite";
// sun.security.provider.KeyProtector.KEY_PROTECTOR_OID and
// com.sun.crypto.provider.KeyProtector's PBEWithMD5AndTripleDES OID.
constexpr std::string_view kJksKeyOid = "1.3.6.1.4.1.42.2.17.1.1";
constexpr std::string_view kJceksKeyOid = "1.3.6.1.4.1.42.2.19.1";

enum Tag : std::uint32_t { kPrivateKey = 1, kTrustedCert = 2, kSecretKey = 3 };

// The password bytes of PBEWithMD5AndTripleDES: com.sun.crypto.provider.PBEKey accepts only
// printable ASCII (0x20..0x7E) and uses one byte per char; nullopt when Java could not have
// used this candidate.
std::optional<SecretBytes> pbe_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  SecretBytes out(s.size());
  std::copy(s.begin(), s.end(), out.data());
  return out;
}

// A digest over several pieces into out (EVP_MAX_MD_SIZE bytes); false on an OpenSSL failure.
bool digest(const EVP_MD* md, EVP_MD_CTX* ctx, std::initializer_list<std::span<const std::uint8_t>> parts,
            unsigned char* out) {
  if (EVP_DigestInit_ex(ctx, md, nullptr) != 1) return false;
  for (const auto& p : parts)
    if (EVP_DigestUpdate(ctx, p.data(), p.size()) != 1) return false;
  unsigned int len = 0;
  return EVP_DigestFinal_ex(ctx, out, &len) == 1;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The JKS/JCEKS integrity check: SHA-1(password UTF-16BE || "Mighty Aphrodite" || store bytes).
bool integrity_matches(std::span<const std::uint8_t> password16, std::span<const std::uint8_t> signed_part,
                       std::span<const std::uint8_t> expected) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  if (!ctx || !digest(sha1(), ctx.get(), {password16, as_bytes(kIntegritySalt), signed_part}, md)) return false;
  return CRYPTO_memcmp(md, expected.data(), kDigestLen) == 0;
}

// sun.security.provider.KeyProtector.recover: data = salt(20) || encrypted || check(20); the
// keystream is SHA-1(pw || salt), then SHA-1(pw || previous block); check = SHA-1(pw || plain).
PkeyPtr jks_recover(std::span<const std::uint8_t> password16, std::span<const std::uint8_t> data) {
  if (data.size() <= 2 * kDigestLen) return nullptr;
  const auto salt = data.first(kDigestLen);
  const auto encrypted = data.subspan(kDigestLen, data.size() - 2 * kDigestLen);
  const auto check = data.last(kDigestLen);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return nullptr;
  SecretBytes plain(encrypted.size());
  SecretBytes block(EVP_MAX_MD_SIZE);
  std::copy(salt.begin(), salt.end(), block.data());
  for (std::size_t off = 0; off < encrypted.size(); off += kDigestLen) {
    if (!digest(sha1(), ctx.get(), {password16, block.bytes().first(kDigestLen)}, block.data())) return nullptr;
    const std::size_t n = std::min(kDigestLen, encrypted.size() - off);
    for (std::size_t j = 0; j < n; ++j) plain.data()[off + j] = encrypted[off + j] ^ block.data()[j];
  }
  if (!digest(sha1(), ctx.get(), {password16, plain.bytes()}, block.data()) ||
      CRYPTO_memcmp(block.data(), check.data(), kDigestLen) != 0)
    return nullptr;
  return pkcs8_key(plain.bytes());
}

// How PBES1Core treats a salt whose halves are equal: it means to reverse the first half, as
// JDK 17 does ([a,b,c,d] -> [d,c,b,a], checked against its keytool); older JDKs had a typo
// (salt[3-1] for salt[3-i]) giving [d,a,b,d], as pyjks documents. Stores from either exist.
enum class SaltFix { reverse, legacy_typo };

// com.sun.crypto.provider PBEWithMD5AndTripleDES (PBES1Core.deriveCipherKey): each half of the
// 8-byte salt is hashed `iterations` times as MD5(previous || password); the two 16-byte results
// give the DES-EDE3 key (24 bytes) and the CBC IV (8). Gives up at the deadline.
PkeyPtr jceks_recover_with(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt, SaltFix fix,
                           std::uint64_t iterations, std::span<const std::uint8_t> encrypted,
                           std::chrono::steady_clock::time_point deadline) {
  std::array<std::uint8_t, 8> s{};
  std::copy(salt.begin(), salt.end(), s.begin());
  if (std::equal(s.begin(), s.begin() + 4, s.begin() + 4)) {
    const std::uint8_t a = s[0], b = s[1], c = s[2], d = s[3];
    if (fix == SaltFix::reverse) s = {d, c, b, a, s[4], s[5], s[6], s[7]};
    else s = {d, a, b, d, s[4], s[5], s[6], s[7]};
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return nullptr;
  SecretBytes derived(32);  // zero-filled: Java leaves zeros when iterations == 0
  SecretBytes block(EVP_MAX_MD_SIZE);
  for (std::size_t half = 0; half < 2; ++half) {
    std::copy(s.begin() + 4 * half, s.begin() + 4 * half + 4, block.data());
    std::size_t len = 4;
    for (std::uint64_t i = 0; i < iterations; ++i) {
      if ((i & 0xfff) == 0xfff && std::chrono::steady_clock::now() >= deadline) return nullptr;
      if (!digest(md5(), ctx.get(), {block.bytes().first(len), password}, block.data())) return nullptr;
      len = 16;
    }
    std::copy(block.data(), block.data() + len, derived.data() + 16 * half);
  }
  using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
  CipherCtxPtr cctx(EVP_CIPHER_CTX_new());
  SecretBytes plain(encrypted.size() + 8);
  int n1 = 0, n2 = 0;
  if (!cctx || EVP_DecryptInit_ex(cctx.get(), EVP_des_ede3_cbc(), nullptr, derived.data(), derived.data() + 24) != 1 ||
      EVP_DecryptUpdate(cctx.get(), plain.data(), &n1, encrypted.data(), static_cast<int>(encrypted.size())) != 1 ||
      EVP_DecryptFinal_ex(cctx.get(), plain.data() + n1, &n2) != 1)
    return nullptr;  // wrong password: almost always bad padding
  plain.resize(static_cast<std::size_t>(n1 + n2));
  return pkcs8_key(plain.bytes());
}

PkeyPtr jceks_recover(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt,
                      std::uint64_t iterations, std::span<const std::uint8_t> encrypted,
                      std::chrono::steady_clock::time_point deadline) {
  if (salt.size() != 8 || iterations > kMaxPbeIterations || encrypted.empty() || encrypted.size() % 8 != 0)
    return nullptr;
  PkeyPtr key = jceks_recover_with(password, salt, SaltFix::reverse, iterations, encrypted, deadline);
  if (!key && std::equal(salt.begin(), salt.begin() + 4, salt.begin() + 4))
    key = jceks_recover_with(password, salt, SaltFix::legacy_typo, iterations, encrypted, deadline);
  return key;
}

// A private-key entry's EncryptedPrivateKeyInfo, as far as it is known without the password.
struct ProtectedKey {
  std::size_t entry = 0;  // index into Finding::entries
  enum class Scheme { unknown, jks, jceks } scheme = Scheme::unknown;
  ByteVec encrypted;             // the encryptedData octets (ciphertext only)
  ByteVec salt;                  // JCEKS PBE salt
  std::uint64_t iterations = 0;  // JCEKS PBE iteration count
  bool recovered = false;
};

// Reads the EncryptedPrivateKeyInfo of a key entry: its algorithm decides the scheme.
void read_protected_key(std::span<const std::uint8_t> der, ProtectedKey& key, Protection& protection) {
  clear_errors();
  const unsigned char* p = der.data();
  X509SigPtr sig(d2i_X509_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    drain_errors();
    protection.cipher = "unknown";
    return;
  }
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_get0(sig.get(), &alg, &data);
  const ASN1_OBJECT* oid = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&oid, &ptype, &pval, alg);
  char text[128] = {0};
  const int n = OBJ_obj2txt(text, sizeof text, oid, 1);
  const std::string_view algorithm(text,
                                   n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), sizeof text - 1) : 0);
  const auto* octets = ASN1_STRING_get0_data(data);
  key.encrypted.assign(octets, octets + ASN1_STRING_length(data));
  if (algorithm == kJksKeyOid) {
    key.scheme = ProtectedKey::Scheme::jks;
    protection.cipher = "sha1-xor-stream";
    protection.kdf = "sha1";
  } else if (algorithm == kJceksKeyOid) {
    protection.cipher = "des-ede3-cbc";
    protection.kdf = "pbe-md5";
    if (ptype == V_ASN1_SEQUENCE && pval != nullptr) {
      const auto* seq = static_cast<const ASN1_STRING*>(pval);
      const unsigned char* q = ASN1_STRING_get0_data(seq);
      PBEPARAM* raw = d2i_PBEPARAM(nullptr, &q, ASN1_STRING_length(seq));
      std::unique_ptr<PBEPARAM, Deleter<PBEPARAM_free>> params(raw);
      std::uint64_t iterations = 0;
      if (params && params->salt != nullptr && params->iter != nullptr &&
          ASN1_INTEGER_get_uint64(&iterations, params->iter) == 1) {
        const auto* salt = ASN1_STRING_get0_data(params->salt);
        key.salt.assign(salt, salt + ASN1_STRING_length(params->salt));
        key.iterations = iterations;
        key.scheme = ProtectedKey::Scheme::jceks;
        protection.kdf_iterations = iterations;
      }
    }
  } else {
    protection.cipher = std::string(algorithm);
  }
  drain_errors();
}

// Skips one Java serialization stream holding one object ("Java Object Serialization
// Specification", chapter 6 grammar), as JCEKS stores a secret key (a SealedObject). Handles
// class descriptors, strings, arrays, enums and block data; anything else (exceptions, resets,
// externalizable objects without block data) is `unsupported`, and so is exceeding the limits.
class JavaObjectSkipper {
 public:
  enum class Status { ok, truncated, unsupported };

  explicit JavaObjectSkipper(Reader& r) : r_(r) {}

  Status stream() {
    std::uint16_t magic = 0, version = 0;
    if (!r_.u16(magic) || !r_.u16(version)) return Status::truncated;
    if (magic != 0xACED || version != 5) return Status::unsupported;
    std::uint8_t tc = 0;
    if (!r_.u8(tc)) return Status::truncated;
    return object(tc, 0);
  }

 private:
  enum : std::uint8_t {
    TC_NULL = 0x70,
    TC_REFERENCE,
    TC_CLASSDESC,
    TC_OBJECT,
    TC_STRING,
    TC_ARRAY,
    TC_CLASS,
    TC_BLOCKDATA,
    TC_ENDBLOCKDATA,
    TC_RESET,
    TC_BLOCKDATALONG,
    TC_EXCEPTION,
    TC_LONGSTRING,
    TC_PROXYCLASSDESC,
    TC_ENUM,
  };
  enum : std::uint8_t {
    SC_WRITE_METHOD = 0x01,
    SC_SERIALIZABLE = 0x02,
    SC_EXTERNALIZABLE = 0x04,
    SC_BLOCK_DATA = 0x08
  };
  static constexpr std::uint32_t kBaseHandle = 0x7E0000;
  static constexpr int kMaxDepth = 32;
  static constexpr std::size_t kMaxHandles = 4096;
  static constexpr std::size_t kMaxSteps = 100000;

  struct ClassDesc {
    std::string name;
    std::uint8_t flags = 0;
    std::string field_types;  // one type code per field, in stream order
    long super = -1;          // index into classes_, -1 for none
  };

  static std::size_t primitive_size(char code) {
    switch (code) {
      case 'B':
      case 'Z':
        return 1;
      case 'C':
      case 'S':
        return 2;
      case 'I':
      case 'F':
        return 4;
      case 'J':
      case 'D':
        return 8;
      default:
        return 0;
    }
  }

  bool step() { return ++steps_ <= kMaxSteps; }

  Status new_handle(long class_index) {
    if (handles_.size() >= kMaxHandles) return Status::unsupported;
    handles_.push_back(class_index);
    return Status::ok;
  }

  Status skip(std::uint64_t n) {
    if (n > r_.remaining()) return Status::truncated;
    r_.skip(static_cast<std::size_t>(n));
    return Status::ok;
  }

  Status utf(std::string* out) {
    std::uint16_t len = 0;
    std::span<const std::uint8_t> b;
    if (!r_.u16(len) || !r_.bytes(len, b)) return Status::truncated;
    if (out != nullptr) out->assign(b.begin(), b.end());
    return Status::ok;
  }

  // classDesc: a new descriptor, a reference to one, or null (out = -1).
  Status class_desc(std::uint8_t tc, int depth, long& out) {
    if (depth > kMaxDepth || !step()) return Status::unsupported;
    out = -1;
    switch (tc) {
      case TC_NULL:
        return Status::ok;
      case TC_REFERENCE: {
        std::uint32_t h = 0;
        if (!r_.u32(h)) return Status::truncated;
        if (h < kBaseHandle || h - kBaseHandle >= handles_.size() || handles_[h - kBaseHandle] < 0)
          return Status::unsupported;
        out = handles_[h - kBaseHandle];
        return Status::ok;
      }
      case TC_CLASSDESC: {
        ClassDesc desc;
        if (auto s = utf(&desc.name); s != Status::ok) return s;
        if (auto s = skip(8); s != Status::ok) return s;  // serialVersionUID
        const long index = static_cast<long>(classes_.size());
        classes_.emplace_back();
        if (auto s = new_handle(index); s != Status::ok) return s;
        std::uint16_t fields = 0;
        if (!r_.u8(desc.flags) || !r_.u16(fields)) return Status::truncated;
        for (std::uint16_t i = 0; i < fields; ++i) {
          std::uint8_t code = 0;
          if (!r_.u8(code)) return Status::truncated;
          if (auto s = utf(nullptr); s != Status::ok) return s;
          if (code == '[' || code == 'L') {
            std::uint8_t t = 0;
            if (!r_.u8(t)) return Status::truncated;
            if (t != TC_STRING && t != TC_LONGSTRING && t != TC_REFERENCE) return Status::unsupported;
            if (auto s = object(t, depth + 1); s != Status::ok) return s;
          } else if (primitive_size(static_cast<char>(code)) == 0) {
            return Status::unsupported;
          }
          desc.field_types.push_back(static_cast<char>(code));
        }
        if (auto s = annotation(depth + 1); s != Status::ok) return s;
        std::uint8_t t = 0;
        if (!r_.u8(t)) return Status::truncated;
        if (auto s = class_desc(t, depth + 1, desc.super); s != Status::ok) return s;
        classes_[static_cast<std::size_t>(index)] = std::move(desc);
        out = index;
        return Status::ok;
      }
      case TC_PROXYCLASSDESC: {
        const long index = static_cast<long>(classes_.size());
        classes_.push_back(ClassDesc{"", SC_SERIALIZABLE, "", -1});
        if (auto s = new_handle(index); s != Status::ok) return s;
        std::uint32_t count = 0;
        if (!r_.u32(count)) return Status::truncated;
        if (count > 65535) return Status::unsupported;
        for (std::uint32_t i = 0; i < count; ++i)
          if (auto s = utf(nullptr); s != Status::ok) return s;
        if (auto s = annotation(depth + 1); s != Status::ok) return s;
        std::uint8_t t = 0;
        long super = -1;
        if (!r_.u8(t)) return Status::truncated;
        if (auto s = class_desc(t, depth + 1, super); s != Status::ok) return s;
        classes_[static_cast<std::size_t>(index)].super = super;
        out = index;
        return Status::ok;
      }
      default:
        return Status::unsupported;
    }
  }

  // classAnnotation / objectAnnotation: contents up to TC_ENDBLOCKDATA.
  Status annotation(int depth) {
    for (;;) {
      if (!step()) return Status::unsupported;
      std::uint8_t tc = 0;
      if (!r_.u8(tc)) return Status::truncated;
      if (tc == TC_ENDBLOCKDATA) return Status::ok;
      if (tc == TC_BLOCKDATA) {
        std::uint8_t n = 0;
        if (!r_.u8(n)) return Status::truncated;
        if (auto s = skip(n); s != Status::ok) return s;
      } else if (tc == TC_BLOCKDATALONG) {
        std::uint32_t n = 0;
        if (!r_.u32(n)) return Status::truncated;
        if (auto s = skip(n); s != Status::ok) return s;
      } else if (auto s = object(tc, depth + 1); s != Status::ok) {
        return s;
      }
    }
  }

  // The field values of an object of class `cls`, superclass first.
  Status class_data(long cls, int depth) {
    std::vector<long> chain;
    for (long c = cls; c >= 0; c = classes_[static_cast<std::size_t>(c)].super) {
      if (chain.size() >= 64) return Status::unsupported;
      chain.push_back(c);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const std::size_t c = static_cast<std::size_t>(*it);
      const std::uint8_t flags = classes_[c].flags;
      if (flags & SC_EXTERNALIZABLE) {
        if (!(flags & SC_BLOCK_DATA)) return Status::unsupported;
        if (auto s = annotation(depth + 1); s != Status::ok) return s;
        continue;
      }
      if (!(flags & SC_SERIALIZABLE)) continue;
      const std::string types = classes_[c].field_types;  // copy: classes_ may grow below
      for (char code : types) {
        if (const std::size_t n = primitive_size(code); n > 0) {
          if (auto s = skip(n); s != Status::ok) return s;
          continue;
        }
        std::uint8_t tc = 0;
        if (!r_.u8(tc)) return Status::truncated;
        if (auto s = object(tc, depth + 1); s != Status::ok) return s;
      }
      if (flags & SC_WRITE_METHOD)
        if (auto s = annotation(depth + 1); s != Status::ok) return s;
    }
    return Status::ok;
  }

  Status object(std::uint8_t tc, int depth) {
    if (depth > kMaxDepth || !step()) return Status::unsupported;
    switch (tc) {
      case TC_NULL:
        return Status::ok;
      case TC_REFERENCE: {
        std::uint32_t h = 0;
        if (!r_.u32(h)) return Status::truncated;
        if (h < kBaseHandle || h - kBaseHandle >= handles_.size()) return Status::unsupported;
        return Status::ok;
      }
      case TC_STRING: {
        if (auto s = new_handle(-1); s != Status::ok) return s;
        return utf(nullptr);
      }
      case TC_LONGSTRING: {
        if (auto s = new_handle(-1); s != Status::ok) return s;
        std::uint32_t hi = 0, lo = 0;
        if (!r_.u32(hi) || !r_.u32(lo)) return Status::truncated;
        return skip((std::uint64_t{hi} << 32) | lo);
      }
      case TC_CLASSDESC:
      case TC_PROXYCLASSDESC: {
        long ignored = -1;
        return class_desc(tc, depth, ignored);
      }
      case TC_CLASS: {
        std::uint8_t t = 0;
        long cls = -1;
        if (!r_.u8(t)) return Status::truncated;
        if (auto s = class_desc(t, depth + 1, cls); s != Status::ok) return s;
        return new_handle(-1);
      }
      case TC_ENUM: {
        std::uint8_t t = 0;
        long cls = -1;
        if (!r_.u8(t)) return Status::truncated;
        if (auto s = class_desc(t, depth + 1, cls); s != Status::ok) return s;
        if (auto s = new_handle(-1); s != Status::ok) return s;
        if (!r_.u8(t)) return Status::truncated;
        if (t != TC_STRING && t != TC_LONGSTRING && t != TC_REFERENCE) return Status::unsupported;
        return object(t, depth + 1);
      }
      case TC_ARRAY: {
        std::uint8_t t = 0;
        long cls = -1;
        if (!r_.u8(t)) return Status::truncated;
        if (auto s = class_desc(t, depth + 1, cls); s != Status::ok) return s;
        if (cls < 0) return Status::unsupported;
        const std::string& name = classes_[static_cast<std::size_t>(cls)].name;
        if (name.size() < 2 || name[0] != '[') return Status::unsupported;
        const char element = name[1];
        if (auto s = new_handle(-1); s != Status::ok) return s;
        std::uint32_t size = 0;
        if (!r_.u32(size)) return Status::truncated;
        if (size > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max())) return Status::unsupported;
        if (const std::size_t n = primitive_size(element); n > 0) return skip(std::uint64_t{size} * n);
        if (element != '[' && element != 'L') return Status::unsupported;
        for (std::uint32_t i = 0; i < size; ++i) {
          std::uint8_t e = 0;
          if (!r_.u8(e)) return Status::truncated;
          if (auto s = object(e, depth + 1); s != Status::ok) return s;
        }
        return Status::ok;
      }
      case TC_OBJECT: {
        std::uint8_t t = 0;
        long cls = -1;
        if (!r_.u8(t)) return Status::truncated;
        if (auto s = class_desc(t, depth + 1, cls); s != Status::ok) return s;
        if (cls < 0) return Status::unsupported;
        if (auto s = new_handle(-1); s != Status::ok) return s;
        return class_data(cls, depth);
      }
      default:
        return Status::unsupported;  // TC_EXCEPTION, TC_RESET, block data out of place
    }
  }

  Reader& r_;
  std::vector<long> handles_;  // per handle: its class index, or -1 when it is not a class
  std::vector<ClassDesc> classes_;
  std::size_t steps_ = 0;
};

// One certificate: (version 2) its type name, then u32 length + encoding. Sets `x509` when the
// type is X.509 (version 1 stores hold X.509 only).
Result<std::span<const std::uint8_t>> read_cert(Reader& r, std::uint32_t version, bool& x509) {
  x509 = true;
  if (version == 2) {
    std::string_view type;
    if (!read_java_utf(r, type)) return make_error_code(Errc::truncated);
    x509 = type == "X.509";
  }
  return read_java_blob(r);
}

// Tries one password on one protected key; fills `key` from the recovered key on success.
bool try_recover(const ProtectedKey& pk, const PasswordCandidate& c, std::chrono::steady_clock::time_point deadline,
                 KeyFacts& key) {
  clear_errors();
  PkeyPtr pkey;
  if (pk.scheme == ProtectedKey::Scheme::jks) {
    const SecretBytes pw = utf16be(c.password.view());
    pkey = jks_recover(pw.bytes(), pk.encrypted);
  } else if (pk.scheme == ProtectedKey::Scheme::jceks) {
    const auto pw = pbe_ascii(c.password.view());
    if (pw) pkey = jceks_recover(pw->bytes(), pk.salt, pk.iterations, pk.encrypted, deadline);
  }
  drain_errors();
  if (!pkey) return false;
  KeyFacts facts;
  fill_key_facts(pkey.get(), facts);
  facts.encrypted = key.encrypted;
  facts.protection = key.protection;
  if (c.source.empty()) facts.weak_password = true;
  else facts.password_exposed_in = c.source;
  key = std::move(facts);
  return true;
}

}  // namespace

Result<Finding> parse_jks(std::span<const std::uint8_t> data, const PasswordSet& passwords) {
  Reader r(data);
  std::uint32_t magic = 0, version = 0, count = 0;
  if (!r.u32(magic)) return make_error_code(Errc::truncated);
  if (magic != kJksMagic && magic != kJceksMagic) return make_error_code(Errc::bad_magic);
  const bool jceks = magic == kJceksMagic;
  if (!r.u32(version) || !r.u32(count)) return make_error_code(Errc::truncated);
  if (version != 1 && version != 2) return make_error_code(Errc::unsupported);
  if (count > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
    return make_error_code(Errc::bad_structure);
  if (count > kMaxEntries) return make_error_code(Errc::too_large);

  Finding finding;
  finding.kind = Kind::keystore;
  finding.format = jceks ? Format::jceks : Format::jks;
  finding.rule = jceks ? "keystore/jceks" : "keystore/jks";
  StoreFacts store;
  store.mac = "sha1";
  std::vector<ProtectedKey> keys;
  bool complete = true;  // false when a secret-key entry could not be skipped

  for (std::uint32_t i = 0; i < count && complete; ++i) {
    std::uint32_t tag = 0;
    std::string_view alias;
    std::uint32_t date_hi = 0, date_lo = 0;
    if (!r.u32(tag) || !read_java_utf(r, alias) || !r.u32(date_hi) || !r.u32(date_lo))
      return make_error_code(Errc::truncated);
    StoreEntry entry;
    entry.alias = clean_comment(alias);
    entry.created = static_cast<std::int64_t>((std::uint64_t{date_hi} << 32) | date_lo) / 1000;
    if (tag == kPrivateKey) {
      auto blob = read_java_blob(r);
      if (!blob) return blob.error();
      std::uint32_t chain = 0;
      if (!r.u32(chain)) return make_error_code(Errc::truncated);
      if (chain > kMaxChain) return make_error_code(Errc::too_large);
      entry.kind = Kind::private_key;
      entry.chain_length = chain;
      store.certificates += chain;  // the chain is the entry's own: no other entry lists it
      KeyFacts key;
      for (std::uint32_t k = 0; k < chain; ++k) {
        bool x509 = true;
        auto der = read_cert(r, version, x509);
        if (!der) return der.error();
        if (k == 0 && x509) entry.certificate = der_certificate_facts(*der, &key);
      }
      ProtectedKey pk;
      pk.entry = finding.entries.size();
      Protection protection;
      read_protected_key(*blob, pk, protection);
      key.encrypted = true;
      key.protection = protection;
      add_distinct(store.encryption, protection);
      if (pk.scheme == ProtectedKey::Scheme::jks) add_distinct(store.weaknesses, "jks-key-protection");
      if (protection.cipher == "des-ede3-cbc") add_distinct(store.weaknesses, "pbe-md5-3des");
      entry.key = std::move(key);
      keys.push_back(std::move(pk));
      add_distinct(store.contents, "private-key");
    } else if (tag == kTrustedCert) {
      bool x509 = true;
      auto der = read_cert(r, version, x509);
      if (!der) return der.error();
      entry.kind = Kind::certificate;
      ++store.certificates;
      if (x509) entry.certificate = der_certificate_facts(*der, nullptr);
      add_distinct(store.contents, "trusted-certificate");
    } else if (tag == kSecretKey && jceks) {
      // A javax.crypto.SealedObject (PBEWithMD5AndTripleDES): secret material we cannot read
      // without the password and do not decrypt. Reported as a key entry without facts.
      JavaObjectSkipper skipper(r);
      const auto status = skipper.stream();
      if (status == JavaObjectSkipper::Status::truncated) return make_error_code(Errc::truncated);
      if (status == JavaObjectSkipper::Status::unsupported) complete = false;
      entry.kind = Kind::private_key;
      KeyFacts key;
      key.algorithm = std::string(kSecretKeyAlgorithm);
      key.encrypted = true;
      entry.key = std::move(key);
      add_distinct(store.weaknesses, "pbe-md5-3des");
      add_distinct(store.contents, "secret-key");
    } else {
      return make_error_code(Errc::bad_structure);
    }
    finding.entries.push_back(std::move(entry));
  }
  add_distinct(store.weaknesses, "sha1-integrity");

  // The integrity digest follows the last entry; when an entry could not be skipped, it is
  // taken as the last 20 bytes (keytool writes nothing after it).
  std::size_t signed_len = r.position();
  if (complete) {
    if (r.remaining() < kDigestLen) return make_error_code(Errc::truncated);
  } else {
    if (data.size() < r.position() + kDigestLen) return make_error_code(Errc::truncated);
    signed_len = data.size() - kDigestLen;
  }
  const auto signed_part = data.first(signed_len);
  const auto expected = data.subspan(signed_len, kDigestLen);

  PasswordBudget budget(passwords);
  const PasswordCandidate* opener = nullptr;
  if (const std::size_t i = first_opener(passwords, budget,
                                         [&](std::size_t, const PasswordCandidate& c) {
                                           const SecretBytes pw = utf16be(c.password.view());
                                           return integrity_matches(pw.bytes(), signed_part, expected);
                                         });
      i != std::string::npos) {
    opener = &passwords.candidates[i];
    mark_opened_by(*opener, store);
  }
  const auto deadline = budget.deadline();
  for (auto& pk : keys) {
    if (pk.scheme == ProtectedKey::Scheme::unknown) continue;
    KeyFacts& key = *finding.entries[pk.entry].key;
    // The password that verified the store is known, not guessed: no try is spent on it.
    if (opener != nullptr && !budget.expired()) pk.recovered = try_recover(pk, *opener, deadline, key);
    for (const auto& c : passwords.candidates) {
      if (pk.recovered) break;
      if (&c == opener) continue;
      // A key password rarely differs from the store password; when no candidate opened the
      // store, guessing common passwords on a JCEKS key (200,000 MD5 rounds each) would only
      // burn the budget: there, try only passwords found next to the store.
      if (opener == nullptr && pk.scheme != ProtectedKey::Scheme::jks && c.source.empty()) continue;
      if (!budget.take()) break;
      if (try_recover(pk, c, deadline, key)) {
        pk.recovered = true;
        mark_opened_by(c, store);
      }
    }
  }

  store.truststore = no_key_entries(finding);
  finding.identity = store_identity(finding, data);
  finding.store = std::move(store);
  return finding;
}

}  // namespace keyward::scanner::detail
