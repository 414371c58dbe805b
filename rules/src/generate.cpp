// SPDX-License-Identifier: Apache-2.0
// Example generation for `keyward rules test`. Layouts followed by the hand-written writers:
// OpenSSH PROTOCOL.key (openssh-key-v1), PuTTY manual appendix C (PPK v3), PuTTY import.c
// (SSH.com), RFC 4880 (OpenPGP v4 secret keys, armor), GnuPG agent/keyformat.txt (canonical
// S-expression), RFC 7517/7518 (JWK), .NET RSAKeyValue, sun.security.provider.JavaKeyStore and
// KeyProtector (JKS), com.sun.crypto.provider.JceKeyStore and PBES1Core (JCEKS), PKWARE APPNOTE
// 6.1 (traditional zip encryption).
#include "generate.hpp"

#include <keyward/common/base64.hpp>
#include <keyward/common/hex.hpp>
#include <keyward/common/openssl_errors.hpp>
#include <keyward/common/openssl_handles.hpp>

#include <keyward/rules/rule_test.hpp>

#include "glob.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace keyward::rules {

const std::vector<std::string>& generator_algorithms() {
  static const std::vector<std::string> v{"rsa-1024", "rsa-2048", "rsa-3072", "ec-p256",
                                          "ec-p384",  "ed25519",  "dsa-1024", "dsa-2048"};
  return v;
}

const std::vector<std::string>& generator_formats() {
  static const std::vector<std::string> v{"pem-pkcs8",
                                          "pem-pkcs8-encrypted",
                                          "pem-pkcs1",
                                          "pem-sec1",
                                          "pem-dsa",
                                          "pem-legacy-encrypted",
                                          "der-pkcs8",
                                          "der-pkcs8-encrypted",
                                          "der-pkcs1",
                                          "der-sec1",
                                          "der-dsa",
                                          "openssh",
                                          "putty-ppk",
                                          "sshcom",
                                          "pgp",
                                          "gpg-binary",
                                          "gpg-key-file",
                                          "jwk",
                                          "jwk-public",
                                          "xml-rsa",
                                          "xml-rsa-public",
                                          "pvk",
                                          "snk",
                                          "snk-public",
                                          "pkcs12",
                                          "pkcs12-truststore",
                                          "jks",
                                          "jks-truststore",
                                          "jceks",
                                          "jceks-truststore",
                                          "bks",
                                          "bks-truststore",
                                          "uber",
                                          "bcfks",
                                          "zip-encrypted",
                                          "pem-cert",
                                          "der-cert",
                                          "pkcs7",
                                          "der-pkcs7",
                                          "pem-public-key",
                                          "der-public-key",
                                          "pem-csr",
                                          "der-csr"};
  return v;
}

namespace detail {
namespace {

using Pkey = std::shared_ptr<EVP_PKEY>;
using common::BioPtr;
using common::BnCtxPtr;
using common::CipherCtxPtr;
using common::MdCtxPtr;
using common::P8InfoPtr;
using common::Pkcs12Ptr;
using common::Pkcs7Ptr;
using common::PkeyCtxPtr;
using common::PkeyPtr;
using common::X509Ptr;
using common::X509ReqPtr;
using common::X509SigPtr;
// Example keys' numbers are secret: wiped when freed.
using BnPtr = common::BnSecretPtr;

// A strong password (not in any common list) for encrypted examples that name none.
constexpr const char* kStrongPassword = "kw-Example-Strong-7f3a9c2e51-Passphrase";

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = common::drain_openssl_errors();
  throw std::runtime_error("cannot generate the example: " + what + (detail.empty() ? "" : ": " + detail));
}

void ok(int r, const char* what) {
  if (r <= 0) fail(what);
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

BioPtr mem() {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b) fail("BIO_new");
  return b;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- keys ----------------------------------------------------------------------------------

PkeyPtr keygen_dsa(int bits) {
  PkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
  if (!pctx) fail("DSA context");
  ok(EVP_PKEY_paramgen_init(pctx.get()), "DSA paramgen init");
  ok(EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx.get(), bits), "DSA bits");
  ok(EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pctx.get(), bits <= 1024 ? 160 : 256), "DSA q bits");
  EVP_PKEY* params = nullptr;
  ok(EVP_PKEY_paramgen(pctx.get(), &params), "DSA parameters");
  PkeyPtr p(params);
  PkeyCtxPtr kctx(EVP_PKEY_CTX_new_from_pkey(nullptr, p.get(), nullptr));
  if (!kctx) fail("DSA key context");
  ok(EVP_PKEY_keygen_init(kctx.get()), "DSA keygen init");
  EVP_PKEY* k = nullptr;
  ok(EVP_PKEY_keygen(kctx.get(), &k), "DSA key");
  return PkeyPtr(k);
}

// One key per algorithm per process: generation is the slow part.
Pkey key_for(const std::string& alg) {
  static std::mutex mu;
  static std::map<std::string, Pkey> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(alg); it != cache.end()) return it->second;
  EVP_PKEY* k = nullptr;
  if (alg.rfind("rsa-", 0) == 0) {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(std::stoul(alg.substr(4))));
  } else if (alg == "ec-p256") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else if (alg == "ec-p384") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  } else if (alg == "ed25519") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else if (alg.rfind("dsa-", 0) == 0) {
    k = keygen_dsa(std::stoi(alg.substr(4))).release();
  } else {
    throw std::runtime_error("unknown algorithm '" + alg + "'");
  }
  if (k == nullptr) fail("key generation for " + alg);
  Pkey p(k, EVP_PKEY_free);
  cache.emplace(alg, p);
  return p;
}

const Pkey& ca_key() {
  static const Pkey k = key_for("ec-p256");
  return k;
}

int base_id(const Pkey& k) { return EVP_PKEY_get_base_id(k.get()); }
bool is_rsa(const Pkey& k) { return base_id(k) == EVP_PKEY_RSA; }
bool is_ec(const Pkey& k) { return base_id(k) == EVP_PKEY_EC; }
bool is_dsa(const Pkey& k) { return base_id(k) == EVP_PKEY_DSA; }
bool is_ed25519(const Pkey& k) { return base_id(k) == EVP_PKEY_ED25519; }

std::string bn_param(const Pkey& k, const char* name, std::size_t pad = 0) {
  BIGNUM* raw = nullptr;
  ok(EVP_PKEY_get_bn_param(k.get(), name, &raw), name);
  BnPtr bn(raw);
  std::string out(pad != 0 ? pad : static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  if (pad != 0) ok(BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(pad)), name);
  else BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string octet_param(const Pkey& k, const char* name) {
  std::size_t len = 0;
  ok(EVP_PKEY_get_octet_string_param(k.get(), name, nullptr, 0, &len), name);
  std::string out(len, '\0');
  ok(EVP_PKEY_get_octet_string_param(k.get(), name, reinterpret_cast<unsigned char*>(out.data()), len, &len), name);
  out.resize(len);
  return out;
}

// A key's raw public or private bytes (Ed25519 and the like), read with get.
std::string raw_key(const Pkey& k, int (*get)(const EVP_PKEY*, unsigned char*, std::size_t*), const char* what) {
  std::size_t len = 0;
  ok(get(k.get(), nullptr, &len), what);
  std::string out(len, '\0');
  ok(get(k.get(), reinterpret_cast<unsigned char*>(out.data()), &len), what);
  return out;
}

std::string raw_public(const Pkey& k) { return raw_key(k, EVP_PKEY_get_raw_public_key, "raw public key"); }
std::string raw_private(const Pkey& k) { return raw_key(k, EVP_PKEY_get_raw_private_key, "raw private key"); }

std::string ec_group(const Pkey& k) {
  char name[64] = {0};
  std::size_t len = 0;
  ok(EVP_PKEY_get_utf8_string_param(k.get(), OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len), "EC group");
  return name;
}

std::size_t ec_field_bytes(const Pkey& k) { return (static_cast<std::size_t>(EVP_PKEY_get_bits(k.get())) + 7) / 8; }

// ---- encodings -----------------------------------------------------------------------------

std::string wrap(const std::string& s, std::size_t width) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += width) out += s.substr(i, width) + "\n";
  return out;
}

void put_u32(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

void put_u16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

void put_u32le(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
}

void put_u16le(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v);
  out += static_cast<char>(v >> 8);
}

std::string ssh_string(std::string_view s) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
  return out;
}

std::string strip_zeros(std::string_view b) {
  std::size_t i = 0;
  while (i < b.size() && b[i] == 0) ++i;
  return std::string(b.substr(i));
}

// RFC 4251 mpint of an unsigned big-endian number.
std::string ssh_mpint(std::string_view b) {
  std::string v = strip_zeros(b);
  if (!v.empty() && (static_cast<unsigned char>(v[0]) & 0x80)) v.insert(v.begin(), '\0');
  return ssh_string(v);
}

std::uint32_t bit_count(std::string_view b) {
  const std::string v = strip_zeros(b);
  if (v.empty()) return 0;
  std::uint32_t bits = static_cast<std::uint32_t>(v.size() * 8);
  for (unsigned char top = static_cast<unsigned char>(v[0]); (top & 0x80) == 0;
       top = static_cast<unsigned char>(top << 1))
    --bits;
  return bits;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  ok(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)), "random bytes");
  return out;
}

std::string sha1(std::initializer_list<std::string_view> parts) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ok(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr), "SHA-1");
  for (auto p : parts) ok(EVP_DigestUpdate(ctx.get(), p.data(), p.size()), "SHA-1");
  ok(EVP_DigestFinal_ex(ctx.get(), md, &len), "SHA-1");
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string md5(std::string_view a, std::string_view b) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ok(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr), "MD5");
  ok(EVP_DigestUpdate(ctx.get(), a.data(), a.size()) && EVP_DigestUpdate(ctx.get(), b.data(), b.size()), "MD5");
  ok(EVP_DigestFinal_ex(ctx.get(), md, &len), "MD5");
  return std::string(reinterpret_cast<char*>(md), len);
}

// ---- certificates --------------------------------------------------------------------------

void add_name(X509_NAME* name, const std::string& cn, const char* org) {
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(org), -1, -1, 0);
}

const EVP_MD* digest_for(const Pkey& signer) { return is_ed25519(signer) ? nullptr : EVP_sha256(); }

X509Ptr make_cert(const Pkey& subject_key, const ExampleCertificate& spec, const std::string& cn) {
  const std::int64_t now = now_seconds();
  std::int64_t not_before = now - 86400;
  if (!spec.not_before.empty()) {
    auto d = parse_date(spec.not_before);
    if (!d) throw std::runtime_error("bad not_before date " + spec.not_before);
    not_before = *d;
  }
  std::int64_t not_after = std::max(now, not_before) + 365 * 86400;
  if (spec.validity == "expired") {
    not_after = now - 86400;
    if (spec.not_before.empty()) not_before = now - 400 * 86400;
  } else if (spec.validity == "expiring") {
    not_after = now + 10 * 86400;
  }
  const Pkey& issuer_key = spec.ca_issued ? ca_key() : subject_key;
  X509Ptr x(X509_new());
  if (!x) fail("X509_new");
  ok(X509_set_version(x.get(), 2), "certificate version");
  BnPtr serial(BN_new());
  ok(serial && BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "serial");
  ok(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())) != nullptr, "serial");
  ok(ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(not_before)) != nullptr, "notBefore");
  ok(ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(not_after)) != nullptr, "notAfter");
  ok(X509_set_pubkey(x.get(), subject_key.get()), "public key");
  add_name(X509_get_subject_name(x.get()), cn, "Keyward Examples");
  if (spec.ca_issued) {
    X509_NAME* issuer = X509_NAME_new();
    add_name(issuer, "Keyward Example CA", "Keyward Examples");
    X509_set_issuer_name(x.get(), issuer);
    X509_NAME_free(issuer);
  } else {
    X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) fail("extension " + value);
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, spec.is_ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature");
  if (!spec.eku.empty()) {
    std::string list;
    for (const auto& e : spec.eku) list += (list.empty() ? "" : ",") + e;
    add(NID_ext_key_usage, list);
  }
  ok(X509_sign(x.get(), issuer_key.get(), digest_for(issuer_key)), "certificate signature");
  return x;
}

std::string cert_pem(X509* x) {
  auto b = mem();
  ok(PEM_write_bio_X509(b.get(), x), "certificate PEM");
  return bio_text(b.get());
}

std::string cert_der(X509* x) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  if (n <= 0) fail("certificate DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// ---- OpenSSL-written key formats -----------------------------------------------------------

std::string pkcs8_pem(const Pkey& k, const char* password) {
  auto b = mem();
  ok(PEM_write_bio_PKCS8PrivateKey(b.get(), k.get(), password ? EVP_aes_256_cbc() : nullptr, password,
                                   password ? static_cast<int>(std::strlen(password)) : 0, nullptr, nullptr),
     "PKCS#8 PEM");
  return bio_text(b.get());
}

std::string pkcs8_der(const Pkey& k, const char* password) {
  auto b = mem();
  ok(i2d_PKCS8PrivateKey_bio(b.get(), k.get(), password ? EVP_aes_256_cbc() : nullptr, password,
                             password ? static_cast<int>(std::strlen(password)) : 0, nullptr, nullptr),
     "PKCS#8 DER");
  return bio_text(b.get());
}

std::string traditional_pem(const Pkey& k, const char* password) {
  auto b = mem();
  ok(PEM_write_bio_PrivateKey_traditional(b.get(), k.get(), password ? EVP_aes_128_cbc() : nullptr,
                                          reinterpret_cast<const unsigned char*>(password),
                                          password ? static_cast<int>(std::strlen(password)) : 0, nullptr, nullptr),
     "traditional PEM");
  return bio_text(b.get());
}

std::string traditional_der(const Pkey& k) {
  unsigned char* der = nullptr;
  const int n = i2d_PrivateKey(k.get(), &der);
  if (n <= 0) fail("traditional DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_clear_free(der, static_cast<std::size_t>(n));
  return out;
}

std::string pkcs8_plain_der(const Pkey& k) {
  P8InfoPtr p8(EVP_PKEY2PKCS8(k.get()));
  if (!p8) fail("PKCS#8 info");
  unsigned char* der = nullptr;
  const int n = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der);
  if (n <= 0) fail("PKCS#8 info DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_clear_free(der, static_cast<std::size_t>(n));
  return out;
}

// ---- OpenSSH openssh-key-v1 (unencrypted) --------------------------------------------------

std::string ssh_curve(const Pkey& k) {
  const std::string g = ec_group(k);
  if (g == "prime256v1" || g == "P-256") return "nistp256";
  if (g == "secp384r1" || g == "P-384") return "nistp384";
  throw std::runtime_error("no OpenSSH name for curve " + g);
}

std::string ssh_key_type(const Pkey& k) {
  if (is_rsa(k)) return "ssh-rsa";
  if (is_ec(k)) return "ecdsa-sha2-" + ssh_curve(k);
  if (is_ed25519(k)) return "ssh-ed25519";
  throw std::runtime_error("OpenSSH and PuTTY examples take rsa, ec or ed25519 keys");
}

std::string ssh_public_blob(const Pkey& k) {
  const std::string type = ssh_key_type(k);
  std::string out = ssh_string(type);
  if (is_rsa(k)) out += ssh_mpint(bn_param(k, "e")) + ssh_mpint(bn_param(k, "n"));
  else if (is_ec(k)) out += ssh_string(ssh_curve(k)) + ssh_string(octet_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY));
  else out += ssh_string(raw_public(k));
  return out;
}

std::string openssh_pem(const Pkey& k) {
  const std::string type = ssh_key_type(k);
  std::string priv;
  const std::string check = random_bytes(4);
  priv += check + check + ssh_string(type);
  if (is_rsa(k)) {
    priv += ssh_mpint(bn_param(k, "n")) + ssh_mpint(bn_param(k, "e")) + ssh_mpint(bn_param(k, "d")) +
            ssh_mpint(bn_param(k, "rsa-coefficient1")) + ssh_mpint(bn_param(k, "rsa-factor1")) +
            ssh_mpint(bn_param(k, "rsa-factor2"));
  } else if (is_ec(k)) {
    priv += ssh_string(ssh_curve(k)) + ssh_string(octet_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY)) +
            ssh_mpint(bn_param(k, "priv"));
  } else {
    const std::string pk = raw_public(k);
    priv += ssh_string(pk) + ssh_string(raw_private(k) + pk);
  }
  priv += ssh_string("keyward example");
  for (char pad = 1; priv.size() % 8 != 0; ++pad) priv += pad;
  std::string blob("openssh-key-v1", 15);  // with its NUL
  blob += ssh_string("none") + ssh_string("none") + ssh_string("");
  put_u32(blob, 1);
  blob += ssh_string(ssh_public_blob(k)) + ssh_string(priv);
  return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wrap(common::base64_encode(blob), 70) +
         "-----END OPENSSH PRIVATE KEY-----\n";
}

// ---- PuTTY PPK v3 (unencrypted) ------------------------------------------------------------

std::string ppk(const Pkey& k) {
  const std::string type = ssh_key_type(k);
  const std::string comment = "keyward example";
  const std::string pub = ssh_public_blob(k);
  std::string priv;
  if (is_rsa(k)) {
    priv = ssh_mpint(bn_param(k, "d")) + ssh_mpint(bn_param(k, "rsa-factor1")) + ssh_mpint(bn_param(k, "rsa-factor2")) +
           ssh_mpint(bn_param(k, "rsa-coefficient1"));
  } else if (is_ec(k)) {
    priv = ssh_mpint(bn_param(k, "priv"));
  } else {
    priv = ssh_string(raw_private(k));
  }
  const std::string mac_data =
      ssh_string(type) + ssh_string("none") + ssh_string(comment) + ssh_string(pub) + ssh_string(priv);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  static const unsigned char kEmptyKey[1] = {0};
  if (HMAC(EVP_sha256(), kEmptyKey, 0, reinterpret_cast<const unsigned char*>(mac_data.data()), mac_data.size(), mac,
           &mac_len) == nullptr)
    fail("PPK MAC");
  const std::string pub_lines = wrap(common::base64_encode(pub), 64),
                    priv_lines = wrap(common::base64_encode(priv), 64);
  auto count = [](const std::string& lines) { return std::to_string(std::count(lines.begin(), lines.end(), '\n')); };
  return "PuTTY-User-Key-File-3: " + type + "\nEncryption: none\nComment: " + comment +
         "\nPublic-Lines: " + count(pub_lines) + "\n" + pub_lines + "Private-Lines: " + count(priv_lines) + "\n" +
         priv_lines + "Private-MAC: " + common::to_hex(std::string_view(reinterpret_cast<char*>(mac), mac_len)) + "\n";
}

// ---- SSH.com (unencrypted RSA) -------------------------------------------------------------

std::string sshcom_mpint(std::string_view b) {
  std::string out;
  const std::string v = strip_zeros(b);
  put_u32(out, bit_count(v));
  return out + v;
}

std::string sshcom(const Pkey& k) {
  if (!is_rsa(k)) throw std::runtime_error("SSH.com examples take rsa keys");
  // u = p^-1 mod q, with p and q as OpenSSL holds them (PuTTY import.c writes iqmp of its own order).
  const std::string inner = sshcom_mpint(bn_param(k, "e")) + sshcom_mpint(bn_param(k, "d")) +
                            sshcom_mpint(bn_param(k, "n")) + sshcom_mpint(bn_param(k, "rsa-coefficient1")) +
                            sshcom_mpint(bn_param(k, "rsa-factor1")) + sshcom_mpint(bn_param(k, "rsa-factor2"));
  std::string data;
  put_u32(data, static_cast<std::uint32_t>(inner.size()));
  data += inner;
  std::string body =
      ssh_string("if-modn{sign{rsa-pkcs1-sha1},encrypt{rsa-pkcs1v2-oaep}}") + ssh_string("none") + ssh_string(data);
  std::string blob;
  put_u32(blob, 0x3f6ff9eb);
  put_u32(blob, static_cast<std::uint32_t>(body.size() + 8));
  blob += body;
  return "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"keyward example\"\n" +
         wrap(common::base64_encode(blob), 70) + "---- END SSH2 ENCRYPTED PRIVATE KEY ----\n";
}

// ---- OpenPGP v4 secret key (unprotected), armored or binary --------------------------------

std::string pgp_mpi(std::string_view b) {
  std::string out;
  const std::string v = strip_zeros(b);
  put_u16(out, static_cast<std::uint16_t>(bit_count(v)));
  return out + v;
}

std::string pgp_packet(int tag, const std::string& body) {
  std::string out(1, static_cast<char>(0xC0 | tag));
  const std::size_t n = body.size();
  if (n < 192) {
    out += static_cast<char>(n);
  } else if (n < 8384) {
    out += static_cast<char>(((n - 192) >> 8) + 192);
    out += static_cast<char>((n - 192) & 0xff);
  } else {
    out += static_cast<char>(0xff);
    put_u32(out, static_cast<std::uint32_t>(n));
  }
  return out + body;
}

// RSA factors as OpenPGP and libgcrypt order them: p < q, u = p^-1 mod q.
std::array<std::string, 3> rsa_pqu(const Pkey& k) {
  const std::string f1 = bn_param(k, "rsa-factor1"), f2 = bn_param(k, "rsa-factor2");
  BnPtr p(BN_bin2bn(reinterpret_cast<const unsigned char*>(f1.data()), static_cast<int>(f1.size()), nullptr));
  BnPtr q(BN_bin2bn(reinterpret_cast<const unsigned char*>(f2.data()), static_cast<int>(f2.size()), nullptr));
  if (!p || !q) fail("RSA factors");
  if (BN_cmp(p.get(), q.get()) > 0) std::swap(p, q);
  BnCtxPtr ctx(BN_CTX_new());
  BnPtr u(BN_mod_inverse(nullptr, p.get(), q.get(), ctx.get()));
  if (!u) fail("RSA u");
  auto bytes = [](const BIGNUM* bn) {
    std::string s(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(s.data()));
    return s;
  };
  return {bytes(p.get()), bytes(q.get()), bytes(u.get())};
}

std::string pgp_packets(const Pkey& k) {
  std::string pub;
  pub += static_cast<char>(4);
  put_u32(pub, static_cast<std::uint32_t>(now_seconds()));
  std::string secret;
  if (is_rsa(k)) {
    pub += static_cast<char>(1);
    pub += pgp_mpi(bn_param(k, "n")) + pgp_mpi(bn_param(k, "e"));
    // RFC 4880 5.5.3: d, p, q, u = p^-1 mod q with p < q.
    const auto [p, q, u] = rsa_pqu(k);
    secret = pgp_mpi(bn_param(k, "d")) + pgp_mpi(p) + pgp_mpi(q) + pgp_mpi(u);
  } else if (is_ed25519(k)) {
    pub += static_cast<char>(22);  // EdDSA (legacy, RFC 4880bis)
    static const char kOid[] = "\x2B\x06\x01\x04\x01\xDA\x47\x0F\x01";
    pub += static_cast<char>(9);
    pub += std::string(kOid, 9);
    pub += pgp_mpi("\x40" + raw_public(k));
    secret = pgp_mpi(raw_private(k));
  } else {
    throw std::runtime_error("OpenPGP examples take rsa or ed25519 keys");
  }
  std::uint32_t sum = 0;
  for (unsigned char c : secret) sum += c;
  std::string key = pub;
  key += static_cast<char>(0);  // s2k usage 0: not protected
  key += secret;
  put_u16(key, static_cast<std::uint16_t>(sum & 0xffff));
  return pgp_packet(5, key) + pgp_packet(13, "keyward example <example@keyward.invalid>");
}

std::uint32_t crc24(std::string_view data) {
  std::uint32_t crc = 0xB704CE;
  for (unsigned char c : data) {
    crc ^= static_cast<std::uint32_t>(c) << 16;
    for (int i = 0; i < 8; ++i) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864CFB;
    }
  }
  return crc & 0xFFFFFF;
}

std::string pgp_armor(const Pkey& k) {
  const std::string packets = pgp_packets(k);
  const std::uint32_t crc = crc24(packets);
  std::string c;
  c += static_cast<char>(crc >> 16);
  c += static_cast<char>(crc >> 8);
  c += static_cast<char>(crc);
  return "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + wrap(common::base64_encode(packets), 64) + "=" +
         common::base64_encode(c) + "\n-----END PGP PRIVATE KEY BLOCK-----\n";
}

// ---- GnuPG private-keys-v1.d key file (canonical S-expression, unprotected) -----------------

std::string sexp_atom(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s); }

std::string sexp_param(std::string_view name, std::string_view value) {
  return "(" + sexp_atom(name) + sexp_atom(value) + ")";
}

std::string gpg_key_file(const Pkey& k) {
  auto mpi = [](std::string_view b) {
    std::string v = strip_zeros(b);
    if (!v.empty() && (static_cast<unsigned char>(v[0]) & 0x80)) v.insert(v.begin(), '\0');
    return v;
  };
  std::string algo;
  if (is_rsa(k)) {
    const auto [p, q, u] = rsa_pqu(k);
    algo = "(" + sexp_atom("rsa") + sexp_param("n", mpi(bn_param(k, "n"))) + sexp_param("e", mpi(bn_param(k, "e"))) +
           sexp_param("d", mpi(bn_param(k, "d"))) + sexp_param("p", mpi(p)) + sexp_param("q", mpi(q)) +
           sexp_param("u", mpi(u)) + ")";
  } else if (is_ed25519(k)) {
    algo = "(" + sexp_atom("ecc") + sexp_param("curve", "Ed25519") + sexp_param("flags", "eddsa") +
           sexp_param("q", "\x40" + raw_public(k)) + sexp_param("d", raw_private(k)) + ")";
  } else {
    throw std::runtime_error("GnuPG key-file examples take rsa or ed25519 keys");
  }
  return "(" + sexp_atom("private-key") + algo + ")";
}

// ---- JWK and .NET XML ----------------------------------------------------------------------

std::string jwk(const Pkey& k, bool with_private) {
  std::string j;
  if (is_rsa(k)) {
    j = "{\"kty\":\"RSA\",\"n\":\"" + common::base64url_encode(bn_param(k, "n")) + "\",\"e\":\"" +
        common::base64url_encode(bn_param(k, "e")) + "\"";
    if (with_private)
      j += ",\"d\":\"" + common::base64url_encode(bn_param(k, "d")) + "\",\"p\":\"" +
           common::base64url_encode(bn_param(k, "rsa-factor1")) + "\",\"q\":\"" +
           common::base64url_encode(bn_param(k, "rsa-factor2")) + "\",\"dp\":\"" +
           common::base64url_encode(bn_param(k, "rsa-exponent1")) + "\",\"dq\":\"" +
           common::base64url_encode(bn_param(k, "rsa-exponent2")) + "\",\"qi\":\"" +
           common::base64url_encode(bn_param(k, "rsa-coefficient1")) + "\"";
  } else if (is_ec(k)) {
    const std::size_t n = ec_field_bytes(k);
    const std::string point = octet_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
    if (point.size() != 1 + 2 * n || point[0] != 4) fail("EC point");
    const std::string crv = ssh_curve(k) == "nistp256" ? "P-256" : "P-384";
    j = "{\"kty\":\"EC\",\"crv\":\"" + crv + "\",\"x\":\"" + common::base64url_encode(point.substr(1, n)) +
        "\",\"y\":\"" + common::base64url_encode(point.substr(1 + n, n)) + "\"";
    if (with_private) j += ",\"d\":\"" + common::base64url_encode(bn_param(k, "priv", n)) + "\"";
  } else if (is_ed25519(k)) {
    j = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + common::base64url_encode(raw_public(k)) + "\"";
    if (with_private) j += ",\"d\":\"" + common::base64url_encode(raw_private(k)) + "\"";
  } else {
    throw std::runtime_error("JWK examples take rsa, ec or ed25519 keys");
  }
  return j + ",\"kid\":\"keyward-example\"}\n";
}

std::string xml_rsa(const Pkey& k, bool with_private) {
  if (!is_rsa(k)) throw std::runtime_error("RSAKeyValue examples take rsa keys");
  auto el = [&](const char* tag, const char* param) {
    return std::string("<") + tag + ">" + common::base64_encode(bn_param(k, param)) + "</" + tag + ">";
  };
  std::string x = "<RSAKeyValue>" + el("Modulus", "n") + el("Exponent", "e");
  if (with_private)
    x += el("P", "rsa-factor1") + el("Q", "rsa-factor2") + el("DP", "rsa-exponent1") + el("DQ", "rsa-exponent2") +
         el("InverseQ", "rsa-coefficient1") + el("D", "d");
  return x + "</RSAKeyValue>\n";
}

// ---- Microsoft blobs -----------------------------------------------------------------------

std::string pvk(const Pkey& k) {
  if (!is_rsa(k) && !is_dsa(k)) throw std::runtime_error("PVK examples take rsa or dsa keys");
  auto b = mem();
  ok(i2b_PVK_bio(b.get(), k.get(), 0, nullptr, nullptr), "PVK");
  return bio_text(b.get());
}

std::string snk(const Pkey& k, bool with_private) {
  if (!is_rsa(k)) throw std::runtime_error("SNK examples take rsa keys");
  auto b = mem();
  ok(with_private ? i2b_PrivateKey_bio(b.get(), k.get()) : i2b_PublicKey_bio(b.get(), k.get()), "SNK");
  return bio_text(b.get());
}

// ---- stores --------------------------------------------------------------------------------

std::string pkcs12(const Pkey& k, X509* cert, const std::string& password, bool with_key) {
  Pkcs12Ptr p12(
      PKCS12_create(password.c_str(), "keyward-example", with_key ? k.get() : nullptr, cert, nullptr, 0, 0, 0, 0, 0));
  if (!p12) fail("PKCS#12");
  auto b = mem();
  ok(i2d_PKCS12_bio(b.get(), p12.get()), "PKCS#12 DER");
  return bio_text(b.get());
}

std::string utf16be(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    out += '\0';
    out += static_cast<char>(c);
  }
  return out;
}

void put_utf(std::string& out, std::string_view s) {
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out += s;
}

std::string encrypted_key_info(const char* oid, int ptype, void* pval, const std::string& data) {
  X509SigPtr sig(X509_SIG_new());
  if (!sig) fail("EncryptedPrivateKeyInfo");
  X509_ALGOR* alg = nullptr;
  ASN1_OCTET_STRING* oct = nullptr;
  X509_SIG_getm(sig.get(), &alg, &oct);
  ok(X509_ALGOR_set0(alg, OBJ_txt2obj(oid, 1), ptype, pval), "key protection algorithm");
  ok(ASN1_OCTET_STRING_set(oct, reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size())),
     "key protection data");
  unsigned char* der = nullptr;
  const int n = i2d_X509_SIG(sig.get(), &der);
  if (n <= 0) fail("EncryptedPrivateKeyInfo DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// sun.security.provider.KeyProtector.protect.
std::string jks_protect(const Pkey& k, const std::string& password) {
  const std::string pw = utf16be(password);
  const std::string plain = pkcs8_plain_der(k);
  const std::string salt = random_bytes(20);
  std::string enc(plain.size(), '\0');
  std::string block = salt;
  for (std::size_t off = 0; off < plain.size(); off += 20) {
    block = sha1({pw, block});
    for (std::size_t j = 0; j < 20 && off + j < plain.size(); ++j)
      enc[off + j] = static_cast<char>(plain[off + j] ^ block[j]);
  }
  const std::string check = sha1({pw, plain});
  return encrypted_key_info("1.3.6.1.4.1.42.2.17.1.1", V_ASN1_NULL, nullptr, salt + enc + check);
}

// DES-EDE3-CBC with PKCS#5 padding.
std::string des3_cbc(const std::string& key, const std::string& iv, const std::string& plain) {
  CipherCtxPtr c(EVP_CIPHER_CTX_new());
  std::string enc(plain.size() + 16, '\0');
  int n1 = 0, n2 = 0;
  ok(c && EVP_EncryptInit_ex(c.get(), EVP_des_ede3_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                             reinterpret_cast<const unsigned char*>(iv.data())),
     "3DES");
  ok(EVP_EncryptUpdate(c.get(), reinterpret_cast<unsigned char*>(enc.data()), &n1,
                       reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size())),
     "3DES");
  ok(EVP_EncryptFinal_ex(c.get(), reinterpret_cast<unsigned char*>(enc.data()) + n1, &n2), "3DES");
  enc.resize(static_cast<std::size_t>(n1 + n2));
  return enc;
}

// com.sun.crypto.provider.KeyProtector with PBEWithMD5AndTripleDES (PBES1Core).
std::string jceks_protect(const Pkey& k, const std::string& password) {
  constexpr int kIterations = 200000;  // keytool's default
  std::string salt = random_bytes(8);
  while (salt.compare(0, 4, salt, 4, 4) == 0) salt = random_bytes(8);  // equal halves are special-cased
  std::string derived;
  for (int half = 0; half < 2; ++half) {
    std::string block = salt.substr(4 * static_cast<std::size_t>(half), 4);
    for (int i = 0; i < kIterations; ++i) block = md5(block, password);
    derived += block;
  }
  const std::string enc = des3_cbc(derived.substr(0, 24), derived.substr(24, 8), pkcs8_plain_der(k));
  PBEPARAM* param = PBEPARAM_new();
  ok(param != nullptr && ASN1_OCTET_STRING_set(param->salt, reinterpret_cast<const unsigned char*>(salt.data()), 8) &&
         ASN1_INTEGER_set(param->iter, kIterations),
     "PBE parameters");
  ASN1_STRING* packed = ASN1_item_pack(param, ASN1_ITEM_rptr(PBEPARAM), nullptr);
  PBEPARAM_free(param);
  if (packed == nullptr) fail("PBE parameters DER");
  return encrypted_key_info("1.3.6.1.4.1.42.2.19.1", V_ASN1_SEQUENCE, packed, enc);
}

std::string java_store(bool jceks, const Pkey* key, X509* cert, const std::string& password) {
  std::string out;
  put_u32(out, jceks ? 0xCECECECEu : 0xFEEDFEEDu);
  put_u32(out, 2);
  put_u32(out, 1);
  const auto ms = static_cast<std::uint64_t>(now_seconds()) * 1000;
  const std::string der = cert_der(cert);
  if (key != nullptr) {
    put_u32(out, 1);  // private key entry
    put_utf(out, "keyward-example");
    put_u32(out, static_cast<std::uint32_t>(ms >> 32));
    put_u32(out, static_cast<std::uint32_t>(ms));
    const std::string protected_key = jceks ? jceks_protect(*key, password) : jks_protect(*key, password);
    put_u32(out, static_cast<std::uint32_t>(protected_key.size()));
    out += protected_key;
    put_u32(out, 1);  // chain length
  } else {
    put_u32(out, 2);  // trusted certificate entry
    put_utf(out, "keyward-example-ca");
    put_u32(out, static_cast<std::uint32_t>(ms >> 32));
    put_u32(out, static_cast<std::uint32_t>(ms));
  }
  put_utf(out, "X.509");
  put_u32(out, static_cast<std::uint32_t>(der.size()));
  out += der;
  out += sha1({utf16be(password), "Mighty Aphrodite", out});
  return out;
}

// ---- Bouncy Castle stores (docs/scan.md, "Bouncy Castle stores") ----------------------------

// PBEParametersGenerator.PKCS12PasswordToBytes: UTF-16BE and two zero bytes; nothing when empty.
std::string bc_password(const std::string& s) { return s.empty() ? std::string() : utf16be(s) + std::string(2, '\0'); }

// The PKCS#12 KDF (SHA-1) over BC's password bytes.
std::string pkcs12_kdf(const std::string& password, const std::string& salt, int id, int iterations, std::size_t n) {
  std::string bmp = bc_password(password);
  std::string out(n, '\0');
  ok(PKCS12_key_gen_uni(bmp.empty() ? nullptr : reinterpret_cast<unsigned char*>(bmp.data()),
                        static_cast<int>(bmp.size()), reinterpret_cast<unsigned char*>(const_cast<char*>(salt.data())),
                        static_cast<int>(salt.size()), id, iterations, static_cast<int>(n),
                        reinterpret_cast<unsigned char*>(out.data()), EVP_sha1()),
     "PKCS#12 KDF");
  return out;
}

std::string hmac(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ok(HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
          data.size(), out, &len) != nullptr,
     "HMAC");
  return std::string(reinterpret_cast<char*>(out), len);
}

// BcKeyStoreSpi version 2: one sealed key (PBEWithSHAAnd3-KeyTripleDES-CBC) with its certificate,
// or one trusted certificate, then the HMAC-SHA1 of the entries (PKCS#12 KDF id 3, 160 bits).
std::string bks_store(const Pkey* key, X509* cert, const std::string& password) {
  constexpr int kIterations = 1500;  // BC writes 1024..2047
  const auto ms = static_cast<std::uint64_t>(now_seconds()) * 1000;
  const std::string der = cert_der(cert);
  std::string body(1, key != nullptr ? '\x04' : '\x01');
  put_utf(body, key != nullptr ? "keyward-example" : "keyward-example-ca");
  put_u32(body, static_cast<std::uint32_t>(ms >> 32));
  put_u32(body, static_cast<std::uint32_t>(ms));
  put_u32(body, key != nullptr ? 1 : 0);  // chain length; a certificate entry's certificate follows alike
  put_utf(body, "X.509");
  put_u32(body, static_cast<std::uint32_t>(der.size()));
  body += der;
  if (key != nullptr) {
    const std::string p8 = pkcs8_plain_der(*key);
    std::string encoded(1, '\0');  // a private key
    put_utf(encoded, "PKCS#8");
    put_utf(encoded, is_rsa(*key) ? "RSA" : is_ec(*key) ? "EC" : is_dsa(*key) ? "DSA" : "Ed25519");
    put_u32(encoded, static_cast<std::uint32_t>(p8.size()));
    encoded += p8;
    const std::string salt = random_bytes(20);
    std::string sealed;
    put_u32(sealed, 20);
    sealed += salt;
    put_u32(sealed, kIterations);
    sealed += des3_cbc(pkcs12_kdf(password, salt, 1, kIterations, 24), pkcs12_kdf(password, salt, 2, kIterations, 8),
                       encoded);
    put_u32(body, static_cast<std::uint32_t>(sealed.size()));
    body += sealed;
  }
  body += '\0';
  const std::string salt = random_bytes(20);
  std::string out;
  put_u32(out, 2);
  put_u32(out, 20);
  out += salt;
  put_u32(out, kIterations);
  return out + body + hmac(EVP_sha1(), pkcs12_kdf(password, salt, 3, kIterations, 20), body);
}

// UBER: BC encrypts everything after the header with PBEWithSHAAndTwofish-CBC, which OpenSSL does
// not implement; the example is the real header over random whole blocks, all keyward reads of one.
std::string uber_store() {
  std::string out;
  put_u32(out, 1);
  put_u32(out, 20);
  out += random_bytes(20);
  put_u32(out, 1500);
  return out + random_bytes(16 * 64);
}

std::string der_tlv(unsigned char tag, const std::string& content) {
  std::string len;
  for (std::size_t n = content.size(); n > 0; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xff));
  std::string out(1, static_cast<char>(tag));
  if (content.size() < 128) out += static_cast<char>(content.size());
  else out += static_cast<char>(0x80 | len.size()) + len;
  return out + content;
}

std::string der_oid(const char* dotted) {
  std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> o(OBJ_txt2obj(dotted, 1), ASN1_OBJECT_free);
  if (!o) fail("OID");
  unsigned char* der = nullptr;
  const int n = i2d_ASN1_OBJECT(o.get(), &der);
  if (n <= 0) fail("OID DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string der_uint(std::uint32_t v) {
  std::string b;
  for (; v > 0; v >>= 8) b.insert(b.begin(), static_cast<char>(v & 0xff));
  if (b.empty() || (static_cast<unsigned char>(b[0]) & 0x80)) b.insert(b.begin(), '\0');
  return der_tlv(0x02, b);
}

// BcFKSKeyStoreSpi's ObjectStore: PBES2 (PBKDF2, AES-256-CCM) over the content and the
// PbkdMacIntegrityCheck (HMAC-SHA512, PBKDF2 over the password and "INTEGRITY_CHECK"). The
// content is random bytes: keyward verifies the MAC and never decrypts the content.
std::string bcfks_store(const std::string& password) {
  constexpr std::uint32_t kIterations = 51200;  // BC's default
  const auto pbkdf2 = [&](const std::string& salt, std::uint32_t key_len) {
    const std::string prf = der_tlv(0x30, der_oid("1.2.840.113549.2.11") + der_tlv(0x05, ""));
    return der_tlv(0x30, der_oid("1.2.840.113549.1.5.12") +
                             der_tlv(0x30, der_tlv(0x04, salt) + der_uint(kIterations) + der_uint(key_len) + prf));
  };
  const std::string ccm =
      der_tlv(0x30, der_oid("2.16.840.1.101.3.4.1.47") + der_tlv(0x30, der_tlv(0x04, random_bytes(12)) + der_uint(8)));
  const std::string pbes2 =
      der_tlv(0x30, der_oid("1.2.840.113549.1.5.13") + der_tlv(0x30, pbkdf2(random_bytes(64), 32) + ccm));
  const std::string store_data = der_tlv(0x30, pbes2 + der_tlv(0x04, random_bytes(256)));
  const std::string salt = random_bytes(64);
  const std::string material = bc_password(password) + bc_password("INTEGRITY_CHECK");
  std::string key(64, '\0');
  ok(PKCS5_PBKDF2_HMAC(material.data(), static_cast<int>(material.size()),
                       reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), kIterations,
                       EVP_sha512(), static_cast<int>(key.size()), reinterpret_cast<unsigned char*>(key.data())),
     "PBKDF2");
  const std::string mac_alg = der_tlv(0x30, der_oid("1.2.840.113549.2.11") + der_tlv(0x05, ""));
  const std::string check =
      der_tlv(0x30, mac_alg + pbkdf2(salt, 64) + der_tlv(0x04, hmac(EVP_sha512(), key, store_data)));
  return der_tlv(0x30, store_data + check);
}

// ---- zip with traditional PKWARE encryption, one stored member -----------------------------

std::uint32_t crc_table(std::uint32_t i) {
  std::uint32_t c = i;
  for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  return c;
}

std::uint32_t crc32_byte(std::uint32_t crc, unsigned char b) { return crc_table((crc ^ b) & 0xff) ^ (crc >> 8); }

std::uint32_t crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) crc = crc32_byte(crc, c);
  return crc ^ 0xFFFFFFFFu;
}

struct ZipKeys {
  std::uint32_t k0 = 0x12345678, k1 = 0x23456789, k2 = 0x34567890;
  void update(unsigned char c) {
    k0 = crc32_byte(k0, c);
    k1 = (k1 + (k0 & 0xff)) * 134775813u + 1;
    k2 = crc32_byte(k2, static_cast<unsigned char>(k1 >> 24));
  }
  unsigned char stream() const {
    const std::uint32_t t = (k2 | 2u) & 0xffffu;  // unsigned: the product exceeds int
    return static_cast<unsigned char>((t * (t ^ 1u)) >> 8);
  }
  char encrypt(unsigned char p) {
    const char c = static_cast<char>(p ^ stream());
    update(p);
    return c;
  }
};

std::string encrypted_zip(const std::string& name, const std::string& content, const std::string& password) {
  const std::uint32_t crc = crc32(content);
  ZipKeys keys;
  for (unsigned char c : password) keys.update(c);
  std::string header = random_bytes(11);
  header += static_cast<char>(crc >> 24);  // check byte: high byte of the CRC
  std::string data;
  for (unsigned char c : header) data += keys.encrypt(c);
  for (unsigned char c : content) data += keys.encrypt(c);
  const std::uint16_t time = 0, date = (46 << 9) | (1 << 5) | 1;  // 2026-01-01
  std::string out;
  put_u32le(out, 0x04034b50);
  put_u16le(out, 20);
  put_u16le(out, 1);  // encrypted
  put_u16le(out, 0);  // stored
  put_u16le(out, time);
  put_u16le(out, date);
  put_u32le(out, crc);
  put_u32le(out, static_cast<std::uint32_t>(data.size()));
  put_u32le(out, static_cast<std::uint32_t>(content.size()));
  put_u16le(out, static_cast<std::uint16_t>(name.size()));
  put_u16le(out, 0);
  out += name + data;
  const std::uint32_t cd_offset = static_cast<std::uint32_t>(out.size());
  put_u32le(out, 0x02014b50);
  put_u16le(out, 20);
  put_u16le(out, 20);
  put_u16le(out, 1);
  put_u16le(out, 0);
  put_u16le(out, time);
  put_u16le(out, date);
  put_u32le(out, crc);
  put_u32le(out, static_cast<std::uint32_t>(data.size()));
  put_u32le(out, static_cast<std::uint32_t>(content.size()));
  put_u16le(out, static_cast<std::uint16_t>(name.size()));
  put_u16le(out, 0);
  put_u16le(out, 0);
  put_u16le(out, 0);
  put_u16le(out, 0);
  put_u32le(out, 0);
  put_u32le(out, 0);
  out += name;
  const std::uint32_t cd_size = static_cast<std::uint32_t>(out.size()) - cd_offset;
  put_u32le(out, 0x06054b50);
  put_u16le(out, 0);
  put_u16le(out, 0);
  put_u16le(out, 1);
  put_u16le(out, 1);
  put_u32le(out, cd_size);
  put_u32le(out, cd_offset);
  put_u16le(out, 0);
  return out;
}

// ---- public keys, requests, PKCS#7 ---------------------------------------------------------

std::string public_pem(const Pkey& k) {
  auto b = mem();
  ok(PEM_write_bio_PUBKEY(b.get(), k.get()), "public key PEM");
  return bio_text(b.get());
}

std::string public_der(const Pkey& k) {
  auto b = mem();
  ok(i2d_PUBKEY_bio(b.get(), k.get()), "public key DER");
  return bio_text(b.get());
}

X509ReqPtr make_csr(const Pkey& k) {
  X509ReqPtr req(X509_REQ_new());
  if (!req) fail("X509_REQ_new");
  ok(X509_REQ_set_version(req.get(), 0), "CSR version");
  add_name(X509_REQ_get_subject_name(req.get()), "keyward example request", "Keyward Examples");
  ok(X509_REQ_set_pubkey(req.get(), k.get()), "CSR key");
  ok(X509_REQ_sign(req.get(), k.get(), digest_for(k)), "CSR signature");
  return req;
}

Pkcs7Ptr certs_only(X509* cert) {
  Pkcs7Ptr p7(PKCS7_new());
  ok(p7 != nullptr && PKCS7_set_type(p7.get(), NID_pkcs7_signed), "PKCS#7");
  ok(PKCS7_content_new(p7.get(), NID_pkcs7_data), "PKCS#7 content");
  ok(PKCS7_add_certificate(p7.get(), cert), "PKCS#7 certificate");
  return p7;
}

std::string extension_of(const std::string& format) {
  static const std::map<std::string, std::string> ext{{"openssh", ""},
                                                      {"putty-ppk", ".ppk"},
                                                      {"sshcom", ".ssh2"},
                                                      {"pgp", ".asc"},
                                                      {"gpg-binary", ".gpg"},
                                                      {"gpg-key-file", ".key"},
                                                      {"jwk", ".jwk"},
                                                      {"jwk-public", ".jwk"},
                                                      {"xml-rsa", ".xml"},
                                                      {"xml-rsa-public", ".xml"},
                                                      {"pvk", ".pvk"},
                                                      {"snk", ".snk"},
                                                      {"snk-public", ".snk"},
                                                      {"pkcs12", ".p12"},
                                                      {"pkcs12-truststore", ".p12"},
                                                      {"jks", ".jks"},
                                                      {"jks-truststore", ".jks"},
                                                      {"jceks", ".jceks"},
                                                      {"jceks-truststore", ".jceks"},
                                                      {"bks", ".bks"},
                                                      {"bks-truststore", ".bks"},
                                                      {"uber", ".uber"},
                                                      {"bcfks", ".bcfks"},
                                                      {"zip-encrypted", ".zip"},
                                                      {"pem-cert", ".crt"},
                                                      {"der-cert", ".cer"},
                                                      {"pkcs7", ".p7b"},
                                                      {"der-pkcs7", ".p7b"},
                                                      {"pem-public-key", ".pub.pem"},
                                                      {"der-public-key", ".pub.der"},
                                                      {"pem-csr", ".csr"},
                                                      {"der-csr", ".csr.der"}};
  if (auto it = ext.find(format); it != ext.end()) return it->second;
  return format.rfind("der-", 0) == 0 ? ".der" : ".pem";
}

}  // namespace

std::string default_example_path(const std::string& format) {
  if (format == "openssh") return "keys/id_example";
  return "keys/example" + extension_of(format);
}

namespace {

// Throws "'<spec>': <what>" unless the key fits the format.
void need(const std::string& spec, bool fits, const char* what) {
  if (!fits) throw std::runtime_error("'" + spec + "': " + what);
}

// The file of a format holding the key (or its public half, a CSR, an encrypted zip); nullopt
// for a format holding a certificate.
std::optional<std::string> key_format_bytes(const std::string& format, const Pkey& k, const std::string& password,
                                            const std::string& spec) {
  if (format == "pem-pkcs8") return pkcs8_pem(k, nullptr);
  else if (format == "pem-pkcs8-encrypted") return pkcs8_pem(k, password.c_str());
  else if (format == "pem-pkcs1") {
    need(spec, is_rsa(k), "pem-pkcs1 takes an rsa key");
    return traditional_pem(k, nullptr);
  } else if (format == "pem-sec1") {
    need(spec, is_ec(k), "pem-sec1 takes an ec key");
    return traditional_pem(k, nullptr);
  } else if (format == "pem-dsa") {
    need(spec, is_dsa(k), "pem-dsa takes a dsa key");
    return traditional_pem(k, nullptr);
  } else if (format == "pem-legacy-encrypted") {
    need(spec, is_rsa(k) || is_ec(k) || is_dsa(k), "legacy PEM encryption takes rsa, ec or dsa keys");
    return traditional_pem(k, password.c_str());
  } else if (format == "der-pkcs8") return pkcs8_der(k, nullptr);
  else if (format == "der-pkcs8-encrypted") return pkcs8_der(k, password.c_str());
  else if (format == "der-pkcs1") {
    need(spec, is_rsa(k), "der-pkcs1 takes an rsa key");
    return traditional_der(k);
  } else if (format == "der-sec1") {
    need(spec, is_ec(k), "der-sec1 takes an ec key");
    return traditional_der(k);
  } else if (format == "der-dsa") {
    need(spec, is_dsa(k), "der-dsa takes a dsa key");
    return traditional_der(k);
  } else if (format == "openssh") return openssh_pem(k);
  else if (format == "putty-ppk") return ppk(k);
  else if (format == "sshcom") return sshcom(k);
  else if (format == "pgp") return pgp_armor(k);
  else if (format == "gpg-binary") return pgp_packets(k);
  else if (format == "gpg-key-file") return gpg_key_file(k);
  else if (format == "jwk") return jwk(k, true);
  else if (format == "jwk-public") return jwk(k, false);
  else if (format == "xml-rsa") return xml_rsa(k, true);
  else if (format == "xml-rsa-public") return xml_rsa(k, false);
  else if (format == "pvk") return pvk(k);
  else if (format == "snk") return snk(k, true);
  else if (format == "snk-public") return snk(k, false);
  else if (format == "pem-public-key") return public_pem(k);
  else if (format == "der-public-key") return public_der(k);
  else if (format == "pem-csr" || format == "der-csr") {
    auto req = make_csr(k);
    auto b = mem();
    ok(format == "pem-csr" ? PEM_write_bio_X509_REQ(b.get(), req.get()) : i2d_X509_REQ_bio(b.get(), req.get()), "CSR");
    return bio_text(b.get());
  } else if (format == "zip-encrypted") {
    return encrypted_zip("signing.key", pkcs8_pem(k, nullptr), password);
  }
  return std::nullopt;
}

// The file of a format holding a certificate (and for stores, the key), as cert_spec describes it.
std::string certificate_format_bytes(const std::string& format, const Pkey& k, const ExampleCertificate& cert_spec,
                                     const std::string& cn, const std::string& password) {
  X509Ptr cert = make_cert(k, cert_spec, cn);
  if (format == "pem-cert") return cert_pem(cert.get());
  else if (format == "der-cert") return cert_der(cert.get());
  else if (format == "pkcs7" || format == "der-pkcs7") {
    auto p7 = certs_only(cert.get());
    auto b = mem();
    ok(format == "pkcs7" ? PEM_write_bio_PKCS7(b.get(), p7.get()) : i2d_PKCS7_bio(b.get(), p7.get()), "PKCS#7");
    return bio_text(b.get());
  } else if (format == "pkcs12") return pkcs12(k, cert.get(), password, true);
  else if (format == "pkcs12-truststore") return pkcs12(k, cert.get(), password, false);
  else if (format == "jks" || format == "jceks") return java_store(format == "jceks", &k, cert.get(), password);
  else if (format == "jks-truststore" || format == "jceks-truststore")
    return java_store(format == "jceks-truststore", nullptr, cert.get(), password);
  else if (format == "bks") return bks_store(&k, cert.get(), password);
  else if (format == "bks-truststore") return bks_store(nullptr, cert.get(), password);
  else if (format == "uber") return uber_store();
  else if (format == "bcfks") return bcfks_store(password);
  else throw std::runtime_error("unknown format '" + format + "'");
}

}  // namespace

std::vector<GeneratedFile> generate_example(const Example& e) {
  const auto space = e.generate.find(' ');
  const std::string alg = e.generate.substr(0, space);
  std::string format = space == std::string::npos ? std::string() : e.generate.substr(space + 1);
  while (!format.empty() && format.front() == ' ') format.erase(0, 1);
  const Pkey k = key_for(alg);
  const std::string path = e.path.empty() ? default_example_path(format) : e.path;
  const std::string password = e.password.empty() ? kStrongPassword : e.password;
  const std::string cn = "keyward example " + alg;
  const ExampleCertificate default_cert{};

  std::optional<std::string> bytes = key_format_bytes(format, k, password, e.generate);
  const bool cert_inside = !bytes;  // the certificate spec describes the main file itself
  if (cert_inside)
    bytes = certificate_format_bytes(format, k, e.certificate ? *e.certificate : default_cert, cn, password);

  std::vector<GeneratedFile> files;
  files.push_back({path, std::move(*bytes), e.mode});
  if (e.certificate && !cert_inside) {
    X509Ptr cert = make_cert(k, *e.certificate, cn);
    files.push_back({e.certificate->path.empty() ? path + ".crt" : e.certificate->path, cert_pem(cert.get()), 0644});
  }
  if (e.nearby_password) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
    files.push_back(
        {dir + "keystore.properties", "storePassword=" + password + "\nkeyPassword=" + password + "\n", 0644});
  }
  return files;
}

}  // namespace detail
}  // namespace keyward::rules
