// SPDX-License-Identifier: Apache-2.0
#include "token_keys.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/common/openssl_errors.hpp>

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace keyward::migrate::keys {
namespace {

using common::BioPtr;
using common::PkeyPtr;
using common::SecretBytes;
using common::X509Ptr;
using Bytes = std::vector<std::uint8_t>;

// DER OIDs of the curves (CKA_EC_PARAMS is the namedCurve OID).
constexpr std::array<std::uint8_t, 10> kP256{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<std::uint8_t, 7> kP384{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::array<std::uint8_t, 5> kEd25519{0x06, 0x03, 0x2b, 0x65, 0x70};
constexpr std::array<std::uint8_t, 3> kF4{0x01, 0x00, 0x01};
const unsigned long kClassPrivate = CKO_PRIVATE_KEY, kClassPublic = CKO_PUBLIC_KEY;
const unsigned long kTypeRsa = CKK_RSA, kTypeEc = CKK_EC, kTypeEd = CKK_EC_EDWARDS;

[[noreturn]] void fail(const std::string& what) {
  const std::string ossl = common::drain_openssl_errors();
  throw std::runtime_error(ossl.empty() ? what : what + " (" + ossl + ")");
}

std::span<const std::uint8_t> ec_params(Kind kind) {
  switch (kind) {
    case Kind::ec_p256:
      return kP256;
    case Kind::ec_p384:
      return kP384;
    case Kind::ed25519:
      return kEd25519;
    case Kind::rsa:
      break;
  }
  return {};
}

SecretBytes read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) throw std::runtime_error(fmt::format("cannot read {}", path));
  SecretBytes data;
  for (;;) {
    std::uint8_t* at = data.append_space(16384);
    const std::size_t n = std::fread(at, 1, 16384, f);
    data.appended(n);
    if (n == 0) break;
  }
  std::fclose(f);
  return data;
}

int password_cb(char* buf, int size, int, void* u) {
  const auto* pw = static_cast<const std::optional<SecretBytes>*>(u);
  if (pw == nullptr || !pw->has_value() || static_cast<int>((*pw)->size()) > size) return 0;
  std::copy((*pw)->view().begin(), (*pw)->view().end(), buf);
  return static_cast<int>((*pw)->size());
}

BioPtr mem_bio(const SecretBytes& data) { return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))); }

SourceKey from_pkcs12(const SecretBytes& data, const std::optional<SecretBytes>& password) {
  BioPtr bio = mem_bio(data);
  common::Pkcs12Ptr p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) return {};
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  const char* pw = password ? password->c_str() : "";
  if (PKCS12_parse(p12.get(), pw, &key, &cert, &ca) != 1 || key == nullptr) fail("cannot open the PKCS#12 file");
  SourceKey out;
  out.key.reset(key);
  if (cert != nullptr) out.certificates.emplace_back(cert);
  sk_X509_pop_free(ca, X509_free);
  return out;
}

SourceKey from_der(const SecretBytes& data, const std::optional<SecretBytes>& password) {
  EVP_PKEY* key = nullptr;
  OSSL_DECODER_CTX* dctx =
      OSSL_DECODER_CTX_new_for_pkey(&key, "DER", nullptr, nullptr, EVP_PKEY_KEYPAIR, nullptr, nullptr);
  if (dctx == nullptr) fail("cannot set up the key decoder");
  if (password) OSSL_DECODER_CTX_set_passphrase(dctx, password->data(), password->size());
  const unsigned char* p = data.data();
  std::size_t len = data.size();
  const int ok = OSSL_DECODER_from_data(dctx, &p, &len);
  OSSL_DECODER_CTX_free(dctx);
  SourceKey out;
  if (ok == 1) out.key.reset(key);
  return out;
}

void append_bn(PrivateTemplate& t, EVP_PKEY* key, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) fail(fmt::format("the key has no {}", param));
  common::BnSecretPtr owned(bn);
  SecretBytes v(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, v.data());
  t.values.push_back(std::move(v));
}

Bytes bn_bytes(EVP_PKEY* key, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) fail(fmt::format("the key has no {}", param));
  common::BnPtr owned(bn);
  Bytes v(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, v.data());
  return v;
}

// DER OCTET STRING around `raw` (CKA_EC_POINT's form), lengths below 256 bytes.
Bytes octet_string(std::span<const std::uint8_t> raw) {
  Bytes out{0x04};
  if (raw.size() >= 0x80) out.push_back(0x81);
  out.push_back(static_cast<std::uint8_t>(raw.size()));
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

// The point inside CKA_EC_POINT (DER OCTET STRING; some modules give it raw).
Bytes unwrap_point(const Bytes& v) {
  if (v.size() > 2 && v[0] == 0x04) {
    std::size_t len = v[1], hdr = 2;
    if (v[1] == 0x81 && v.size() > 3) len = v[2], hdr = 3;
    if (hdr + len == v.size()) return Bytes(v.begin() + static_cast<std::ptrdiff_t>(hdr), v.end());
  }
  return v;
}

}  // namespace

Kind kind_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return Kind::rsa;
    case EVP_PKEY_ED25519:
      return Kind::ed25519;
    case EVP_PKEY_EC: {
      std::array<char, 64> group{};
      std::size_t n = 0;
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &n);
      const std::string_view g(group.data(), n);
      if (g == "prime256v1" || g == "P-256") return Kind::ec_p256;
      if (g == "secp384r1" || g == "P-384") return Kind::ec_p384;
      throw std::runtime_error(fmt::format("EC curve {} is not supported by the executor", g));
    }
    default:
      throw std::runtime_error("the key's algorithm is not supported by the executor");
  }
}

Spec spec_of(const std::string& algorithm) {
  if (algorithm == "rsa-2048") return {Kind::rsa, 2048};
  if (algorithm == "rsa-3072") return {Kind::rsa, 3072};
  if (algorithm == "rsa-4096") return {Kind::rsa, 4096};
  if (algorithm == "ec-p256") return {Kind::ec_p256, 0};
  if (algorithm == "ec-p384") return {Kind::ec_p384, 0};
  if (algorithm == "ed25519") return {Kind::ed25519, 0};
  throw std::runtime_error(fmt::format("algorithm '{}' is not supported by the executor", algorithm));
}

std::string mechanism_name(Kind kind) {
  switch (kind) {
    case Kind::rsa:
      return "CKM_SHA256_RSA_PKCS";
    case Kind::ec_p256:
    case Kind::ec_p384:
      return "CKM_ECDSA";
    case Kind::ed25519:
      return "CKM_EDDSA";
  }
  return "";
}

ck_key_type_t key_type(Kind kind) {
  return kind == Kind::rsa ? CKK_RSA : kind == Kind::ed25519 ? CKK_EC_EDWARDS : CKK_EC;
}

ck_mechanism_type_t generation_mechanism(Kind kind) {
  return kind == Kind::rsa       ? CKM_RSA_PKCS_KEY_PAIR_GEN
         : kind == Kind::ed25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN
                                 : CKM_EC_KEY_PAIR_GEN;
}

SourceKey read_key_file(const std::string& path, const std::optional<SecretBytes>& password) {
  const SecretBytes data = read_file(path);
  SourceKey out;
  if (data.view().find("-----BEGIN") != std::string_view::npos) {
    BioPtr bio = mem_bio(data);
    out.key.reset(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, password_cb, const_cast<std::optional<SecretBytes>*>(&password)));
    if (!out.key)
      fail(fmt::format("cannot read the private key in {}{}", path, password ? "" : " (no password given)"));
    out.certificates = read_certificates(path);
    return out;
  }
  out = from_der(data, password);
  if (!out.key) out = from_pkcs12(data, password);
  if (!out.key) fail(fmt::format("cannot read the private key in {}{}", path, password ? "" : " (no password given)"));
  return out;
}

std::vector<X509Ptr> read_certificates(const std::string& path) {
  std::vector<X509Ptr> out;
  BioPtr bio(BIO_new_file(path.c_str(), "rb"));
  if (!bio) return out;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  if (out.empty()) {
    BioPtr der(BIO_new_file(path.c_str(), "rb"));
    if (X509* c = d2i_X509_bio(der.get(), nullptr)) out.emplace_back(c);
  }
  common::drain_openssl_errors();
  return out;
}

std::vector<std::uint8_t> spki_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) fail("cannot encode the public key");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string spki_sha256_hex(EVP_PKEY* key) { return common::sha256_hex(spki_der(key)); }

PrivateTemplate private_parts(EVP_PKEY* key, Kind kind) {
  PrivateTemplate t;
  t.values.reserve(8);
  std::vector<ck_attribute_type_t> types;
  if (kind == Kind::rsa) {
    const std::array<std::pair<const char*, ck_attribute_type_t>, 8> parts{{
        {OSSL_PKEY_PARAM_RSA_N, CKA_MODULUS},
        {OSSL_PKEY_PARAM_RSA_E, CKA_PUBLIC_EXPONENT},
        {OSSL_PKEY_PARAM_RSA_D, CKA_PRIVATE_EXPONENT},
        {OSSL_PKEY_PARAM_RSA_FACTOR1, CKA_PRIME_1},
        {OSSL_PKEY_PARAM_RSA_FACTOR2, CKA_PRIME_2},
        {OSSL_PKEY_PARAM_RSA_EXPONENT1, CKA_EXPONENT_1},
        {OSSL_PKEY_PARAM_RSA_EXPONENT2, CKA_EXPONENT_2},
        {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, CKA_COEFFICIENT},
    }};
    for (const auto& [param, type] : parts) append_bn(t, key, param), types.push_back(type);
  } else if (kind == Kind::ed25519) {
    std::size_t n = 32;
    SecretBytes seed(32);
    if (EVP_PKEY_get_raw_private_key(key, seed.data(), &n) != 1 || n != 32) fail("cannot read the Ed25519 key");
    t.values.push_back(std::move(seed));
    types.push_back(CKA_VALUE);
  } else {
    append_bn(t, key, OSSL_PKEY_PARAM_PRIV_KEY);
    types.push_back(CKA_VALUE);
  }
  t.attrs.push_back(p11::attr(CKA_KEY_TYPE,
                              kind == Kind::rsa       ? &kTypeRsa
                              : kind == Kind::ed25519 ? &kTypeEd
                                                      : &kTypeEc,
                              sizeof(unsigned long)));
  t.attrs.push_back(p11::attr(CKA_CLASS, &kClassPrivate, sizeof kClassPrivate));
  if (kind != Kind::rsa) t.attrs.push_back(p11::attr(CKA_EC_PARAMS, ec_params(kind).data(), ec_params(kind).size()));
  for (std::size_t i = 0; i < types.size(); ++i)
    t.attrs.push_back(p11::attr(types[i], t.values[i].data(), t.values[i].size()));
  return t;
}

std::vector<ck_attribute> public_parts(EVP_PKEY* key, Kind kind, std::vector<Bytes>& store) {
  std::vector<ck_attribute> a;
  a.push_back(p11::attr(CKA_CLASS, &kClassPublic, sizeof kClassPublic));
  a.push_back(p11::attr(CKA_KEY_TYPE,
                        kind == Kind::rsa       ? &kTypeRsa
                        : kind == Kind::ed25519 ? &kTypeEd
                                                : &kTypeEc,
                        sizeof(unsigned long)));
  store.reserve(store.size() + 2);
  if (kind == Kind::rsa) {
    store.push_back(bn_bytes(key, OSSL_PKEY_PARAM_RSA_N));
    a.push_back(p11::attr(CKA_MODULUS, store.back().data(), store.back().size()));
    store.push_back(bn_bytes(key, OSSL_PKEY_PARAM_RSA_E));
    a.push_back(p11::attr(CKA_PUBLIC_EXPONENT, store.back().data(), store.back().size()));
    return a;
  }
  Bytes point(133);
  std::size_t n = point.size();
  const int ok = kind == Kind::ed25519
                     ? EVP_PKEY_get_raw_public_key(key, point.data(), &n)
                     : EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &n);
  if (ok != 1) fail("cannot read the public point");
  point.resize(n);
  store.push_back(octet_string(point));
  a.push_back(p11::attr(CKA_EC_PARAMS, ec_params(kind).data(), ec_params(kind).size()));
  a.push_back(p11::attr(CKA_EC_POINT, store.back().data(), store.back().size()));
  return a;
}

std::vector<ck_attribute> generation_parts(const Spec& spec) {
  if (spec.kind == Kind::rsa)
    return {p11::attr_ulong(CKA_MODULUS_BITS, spec.bits), p11::attr(CKA_PUBLIC_EXPONENT, kF4.data(), kF4.size())};
  return {p11::attr(CKA_EC_PARAMS, ec_params(spec.kind).data(), ec_params(spec.kind).size())};
}

PkeyPtr token_public_key(p11::Session& s, ck_object_handle_t pub, Kind kind) {
  EVP_PKEY* key = nullptr;
  if (kind == Kind::ed25519) {
    const Bytes point = unwrap_point(s.get(pub, CKA_EC_POINT));
    key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, point.data(), point.size());
    if (key == nullptr) fail("the token's Ed25519 public key is malformed");
    return PkeyPtr(key);
  }
  common::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  Bytes n, e, point;
  common::BnPtr bn_n, bn_e;
  if (kind == Kind::rsa) {
    n = s.get(pub, CKA_MODULUS), e = s.get(pub, CKA_PUBLIC_EXPONENT);
    bn_n.reset(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
    bn_e.reset(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  } else {
    point = unwrap_point(s.get(pub, CKA_EC_POINT));
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                    kind == Kind::ec_p256 ? "prime256v1" : "secp384r1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  }
  common::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  common::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, kind == Kind::rsa ? "RSA" : "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    fail("the token's public key is malformed");
  return PkeyPtr(key);
}

}  // namespace keyward::migrate::keys
