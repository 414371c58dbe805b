// SPDX-License-Identifier: Apache-2.0
// Bouncy Castle FIPS key store (BCFKS): DER, read with OpenSSL's ASN.1 functions (layout: Bouncy
// Castle's BcFKSKeyStoreSpi and its ObjectStore ASN.1 classes; docs/scan.md "Bouncy Castle
// stores").
//   ObjectStore ::= SEQUENCE { EncryptedObjectStoreData, ObjectStoreIntegrityCheck }
//   EncryptedObjectStoreData ::= SEQUENCE { AlgorithmIdentifier (PBES2: PBKDF2 with AES-CCM or
//       AES key wrap with padding), encryptedContent OCTET STRING }
//   ObjectStoreIntegrityCheck ::= PbkdMacIntegrityCheck | [0] SignatureCheck
//   PbkdMacIntegrityCheck ::= SEQUENCE { macAlgorithm (HMAC-SHA512), pbkdAlgorithm (PBKDF2 or
//       scrypt), mac OCTET STRING }
// The MAC is over the DER of EncryptedObjectStoreData, keyed by the KDF over the password's
// PKCS#12 bytes followed by those of "INTEGRITY_CHECK" (BC derives PBKDF2 with SHA-512 unless
// the PRF is HMAC-SHA3-512, and passes scrypt's block size as its parallelization too). A
// candidate that verifies the MAC opens the store; its contents are not decrypted, so they are
// reported as unknown.
#include "detectors/java_store.hpp"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <string>

namespace keyward::scanner::detail {
namespace {

// KDF cost one try may take: PBKDF2 rounds, and scrypt's memory (128 * N * r bytes).
constexpr std::uint64_t kMaxPbkdf2Iterations = 1'000'000;
constexpr std::uint64_t kMaxScryptMemory = std::uint64_t{64} << 20;
constexpr std::uint64_t kMaxMacKeyLen = 1024;
// Below this many PBKDF2 rounds a store is graded low-iterations (BC writes 51,200).
constexpr std::uint64_t kWeakIterations = 2048;
constexpr std::string_view kIntegrityPurpose = "INTEGRITY_CHECK";

void free_sequence(ASN1_SEQUENCE_ANY* s) noexcept { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
using SequencePtr = common::Owned<ASN1_SEQUENCE_ANY, free_sequence>;
using AlgorPtr = common::Owned<X509_ALGOR, X509_ALGOR_free>;
using Pbe2Ptr = common::Owned<PBE2PARAM, PBE2PARAM_free>;
using Pbkdf2Ptr = common::Owned<PBKDF2PARAM, PBKDF2PARAM_free>;
using ScryptPtr = common::Owned<SCRYPT_PARAMS, SCRYPT_PARAMS_free>;

std::span<const std::uint8_t> bytes_of(const ASN1_STRING* s) {
  return {ASN1_STRING_get0_data(s), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// A DER SEQUENCE spanning `der` exactly, as its elements.
SequencePtr sequence(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  SequencePtr s(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (!s || p != der.data() + der.size()) return nullptr;
  return s;
}

// Element i of a sequence when it has ASN.1 type `type`: a SEQUENCE's whole encoding, an
// OCTET STRING's contents. Empty otherwise.
std::span<const std::uint8_t> element(const ASN1_SEQUENCE_ANY* s, int i, int type) {
  if (i >= sk_ASN1_TYPE_num(s)) return {};
  const ASN1_TYPE* t = sk_ASN1_TYPE_value(s, i);
  if (t == nullptr || t->type != type) return {};
  return bytes_of(type == V_ASN1_SEQUENCE ? t->value.sequence : t->value.octet_string);
}

AlgorPtr algorithm(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  AlgorPtr a(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
  if (!a || p != der.data() + der.size()) return nullptr;
  return a;
}

int nid_of(const X509_ALGOR* a) {
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, a);
  return OBJ_obj2nid(oid);
}

const ASN1_TYPE* parameter_of(const X509_ALGOR* a) {
  const void* pval = nullptr;
  int ptype = 0;
  X509_ALGOR_get0(nullptr, &ptype, &pval, a);
  return ptype == V_ASN1_SEQUENCE ? a->parameter : nullptr;
}

bool to_u64(const ASN1_INTEGER* i, std::uint64_t& out) { return i != nullptr && ASN1_INTEGER_get_uint64(&out, i) == 1; }

// A password-based KDF as BcFKSKeyStoreSpi.generateKey runs it.
struct Kdf {
  bool scrypt = false;
  ByteVec salt;
  std::uint64_t cost = 0;  // PBKDF2 iterations, or scrypt's N
  std::uint64_t block_size = 0;
  std::uint64_t key_len = 0;  // 0: not given (BC cannot derive the key then)
  const EVP_MD* prf = nullptr;
};

Result<Kdf> read_pbkdf2(const ASN1_TYPE* param) {
  Pbkdf2Ptr p(param != nullptr
                  ? static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), param))
                  : nullptr);
  if (!p || p->salt == nullptr || p->salt->type != V_ASN1_OCTET_STRING) return make_error_code(Errc::bad_structure);
  Kdf k;
  const auto salt = bytes_of(p->salt->value.octet_string);
  k.salt.assign(salt.begin(), salt.end());
  if (!to_u64(p->iter, k.cost)) return make_error_code(Errc::bad_structure);
  if (p->keylength != nullptr && !to_u64(p->keylength, k.key_len)) return make_error_code(Errc::bad_structure);
  k.prf = p->prf != nullptr && nid_of(p->prf) == NID_hmac_sha3_512 ? EVP_sha3_512() : EVP_sha512();
  return k;
}

Result<Kdf> read_scrypt(const ASN1_TYPE* param) {
  ScryptPtr p(param != nullptr
                  ? static_cast<SCRYPT_PARAMS*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), param))
                  : nullptr);
  if (!p || p->salt == nullptr) return make_error_code(Errc::bad_structure);
  Kdf k;
  k.scrypt = true;
  const auto salt = bytes_of(p->salt);
  k.salt.assign(salt.begin(), salt.end());
  if (!to_u64(p->costParameter, k.cost) || !to_u64(p->blockSize, k.block_size))
    return make_error_code(Errc::bad_structure);
  if (p->keyLength != nullptr && !to_u64(p->keyLength, k.key_len)) return make_error_code(Errc::bad_structure);
  return k;
}

Result<Kdf> read_kdf(const X509_ALGOR* a) {
  const int nid = nid_of(a);
  if (nid == NID_id_pbkdf2) return read_pbkdf2(parameter_of(a));
  if (nid == NID_id_scrypt) return read_scrypt(parameter_of(a));
  return make_error_code(Errc::unsupported);
}

Protection protection_of(const Kdf& k, std::string cipher) {
  return Protection{std::move(cipher), k.scrypt ? "scrypt" : "pbkdf2", k.cost};
}

// EncryptedObjectStoreData's PBES2 parameters: the KDF, and the cipher's name.
Result<Protection> read_store_encryption(std::span<const std::uint8_t> der) {
  SequencePtr s = sequence(der);
  if (!s || sk_ASN1_TYPE_num(s.get()) != 2) return make_error_code(Errc::bad_structure);
  AlgorPtr alg = algorithm(element(s.get(), 0, V_ASN1_SEQUENCE));
  if (!alg || element(s.get(), 1, V_ASN1_OCTET_STRING).empty()) return make_error_code(Errc::bad_structure);
  if (nid_of(alg.get()) != NID_pbes2) return make_error_code(Errc::unsupported);
  const ASN1_TYPE* param = parameter_of(alg.get());
  Pbe2Ptr pbe2(param != nullptr ? static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), param))
                                : nullptr);
  if (!pbe2 || pbe2->keyfunc == nullptr || pbe2->encryption == nullptr) return make_error_code(Errc::bad_structure);
  auto kdf = read_kdf(pbe2->keyfunc);
  if (!kdf) return kdf.error();
  const int cipher = nid_of(pbe2->encryption);
  std::string name = cipher == NID_aes_256_ccm          ? "aes-256-ccm"
                     : cipher == NID_id_aes256_wrap_pad ? "aes-256-kwp"
                     : cipher != NID_undef              ? OBJ_nid2ln(cipher)
                                                        : "unknown";
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return protection_of(*kdf, std::move(name));
}

// PbkdMacIntegrityCheck: the MAC digest, the KDF and the MAC value.
struct Integrity {
  const EVP_MD* md = nullptr;  // nullptr: a MAC this reader does not compute
  std::string name;
  Kdf kdf;
  ByteVec mac;
};

Result<Integrity> read_integrity(std::span<const std::uint8_t> der) {
  SequencePtr s = sequence(der);
  if (!s || sk_ASN1_TYPE_num(s.get()) != 3) return make_error_code(Errc::bad_structure);
  AlgorPtr mac_alg = algorithm(element(s.get(), 0, V_ASN1_SEQUENCE));
  AlgorPtr kdf_alg = algorithm(element(s.get(), 1, V_ASN1_SEQUENCE));
  const auto mac = element(s.get(), 2, V_ASN1_OCTET_STRING);
  if (!mac_alg || !kdf_alg || mac.empty()) return make_error_code(Errc::bad_structure);
  Integrity in;
  const int nid = nid_of(mac_alg.get());
  if (nid == NID_hmacWithSHA512) {
    in.md = EVP_sha512();
    in.name = "sha512";
  } else if (nid == NID_hmac_sha3_512) {
    in.md = EVP_sha3_512();
    in.name = "sha3-512";
  } else {
    in.name = "unknown";
  }
  auto kdf = read_kdf(kdf_alg.get());
  if (!kdf) return kdf.error();
  in.kdf = std::move(*kdf);
  in.mac.assign(mac.begin(), mac.end());
  return in;
}

// Whether one try of this KDF fits what a scan may spend.
bool affordable(const Kdf& k) {
  if (k.key_len == 0 || k.key_len > kMaxMacKeyLen || k.cost == 0) return false;
  if (!k.scrypt) return k.cost <= kMaxPbkdf2Iterations;
  return k.block_size > 0 && k.block_size <= 64 && k.cost <= kMaxScryptMemory / (128 * k.block_size);
}

// The integrity key for one password (BcFKSKeyStoreSpi.generateKey, "INTEGRITY_CHECK").
bool derive(const Kdf& k, std::string_view password, SecretBytes& key) {
  SecretBytes material = pkcs12_password_bytes(password);
  material.append(pkcs12_password_bytes(kIntegrityPurpose).bytes());
  key.resize(static_cast<std::size_t>(k.key_len));
  const auto* pass = reinterpret_cast<const char*>(material.data());
  bool ok = false;
  if (k.scrypt)
    ok = EVP_PBE_scrypt(pass, material.size(), k.salt.data(), k.salt.size(), k.cost, k.block_size, k.block_size,
                        kMaxScryptMemory * 2, key.data(), key.size()) == 1;
  else
    ok = PKCS5_PBKDF2_HMAC(pass, static_cast<int>(material.size()), k.salt.data(), static_cast<int>(k.salt.size()),
                           static_cast<int>(k.cost), k.prf, static_cast<int>(key.size()), key.data()) == 1;
  clear_errors();
  return ok;
}

bool mac_matches(const Integrity& in, std::string_view password, std::span<const std::uint8_t> signed_part) {
  SecretBytes key;
  if (!derive(in.kdf, password, key)) return false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(in.md, key.data(), static_cast<int>(key.size()), signed_part.data(), signed_part.size(), md, &len) ==
      nullptr) {
    clear_errors();
    return false;
  }
  return len == in.mac.size() && CRYPTO_memcmp(md, in.mac.data(), len) == 0;
}

void try_passwords(const Integrity& in, std::span<const std::uint8_t> signed_part, const PasswordSet& passwords,
                   StoreFacts& store) {
  if (in.md == nullptr || !affordable(in.kdf)) return;
  PasswordBudget budget(passwords);
  const std::size_t i = first_opener(passwords, budget, [&](std::size_t, const PasswordCandidate& c) {
    return mac_matches(in, c.password.view(), signed_part);
  });
  if (i != std::string::npos) mark_opened_by(passwords.candidates[i], store);
}

}  // namespace

Result<Finding> parse_bcfks(std::span<const std::uint8_t> data, const PasswordSet& passwords) {
  clear_errors();
  SequencePtr top = sequence(data);
  if (!top || sk_ASN1_TYPE_num(top.get()) != 2) {
    clear_errors();
    return make_error_code(Errc::bad_structure);
  }
  const auto store_data = element(top.get(), 0, V_ASN1_SEQUENCE);
  auto encryption = read_store_encryption(store_data);
  if (!encryption) {
    clear_errors();
    return encryption.error();
  }
  StoreFacts store;
  store.encryption.push_back(*encryption);
  const ASN1_TYPE* check = sk_ASN1_TYPE_value(top.get(), 1);
  if (check != nullptr && check->type == V_ASN1_SEQUENCE) {
    auto integrity = read_integrity(element(top.get(), 1, V_ASN1_SEQUENCE));
    if (!integrity) {
      clear_errors();
      return integrity.error();
    }
    store.mac = integrity->name;
    store.mac_iterations = integrity->kdf.cost;
    if (!integrity->kdf.scrypt && integrity->kdf.cost < kWeakIterations)
      add_distinct(store.weaknesses, "low-iterations");
    try_passwords(*integrity, store_data, passwords, store);
  } else {
    store.mac = "signature";  // [0] SignatureCheck: verified with a certificate, not a password
  }
  if (encryption->kdf == "pbkdf2" && encryption->kdf_iterations.value_or(0) < kWeakIterations)
    add_distinct(store.weaknesses, "low-iterations");
  // Its contents stay encrypted: unknown, so it may hold a key and is not a trust store.
  store.contents.emplace_back(kStoreContentsEncrypted);
  store.truststore = false;
  Finding finding;
  finding.kind = Kind::keystore;
  finding.format = Format::bcfks;
  finding.rule = "keystore/bcfks";
  finding.identity = store_identity(finding, data);
  finding.store = std::move(store);
  clear_errors();
  return finding;
}

}  // namespace keyward::scanner::detail
