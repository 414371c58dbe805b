// SPDX-License-Identifier: Apache-2.0
#include "openssl/key_info.hpp"

#include "openssl/handles.hpp"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include <array>

namespace keyward::scanner::detail {

std::string curve_display_name(std::string_view name) {
  struct Pair {
    std::string_view from, to;
  };
  static constexpr std::array<Pair, 10> kNames{{
      {"prime256v1", "P-256"},
      {"secp256r1", "P-256"},
      {"nistp256", "P-256"},
      {"secp384r1", "P-384"},
      {"nistp384", "P-384"},
      {"secp521r1", "P-521"},
      {"nistp521", "P-521"},
      {"prime192v1", "P-192"},
      {"secp224r1", "P-224"},
      {"nistp224", "P-224"},
  }};
  for (const auto& p : kNames)
    if (p.from == name) return std::string(p.to);
  return std::string(name);
}

void fill_key_facts(const EVP_PKEY* pkey, KeyFacts& key) {
  if (pkey == nullptr) return;
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      key.algorithm = "rsa";
      break;
    case EVP_PKEY_RSA_PSS:
      key.algorithm = "rsa-pss";
      break;
    case EVP_PKEY_DSA:
      key.algorithm = "dsa";
      break;
    case EVP_PKEY_EC:
      key.algorithm = "ec";
      break;
    case EVP_PKEY_ED25519:
      key.algorithm = "ed25519";
      break;
    case EVP_PKEY_ED448:
      key.algorithm = "ed448";
      break;
    case EVP_PKEY_X25519:
      key.algorithm = "x25519";
      break;
    case EVP_PKEY_X448:
      key.algorithm = "x448";
      break;
    case EVP_PKEY_DH:
    case EVP_PKEY_DHX:
      key.algorithm = "dh";
      break;
    default: {
      const char* n = EVP_PKEY_get0_type_name(pkey);
      key.algorithm = n ? n : "unknown";
      for (auto& c : key.algorithm) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  const int bits = EVP_PKEY_get_bits(pkey);
  if (bits > 0) key.bits = static_cast<std::uint32_t>(bits);
  if (key.algorithm == "ec") {
    char group[80] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1)
      key.curve = curve_display_name(std::string_view(group, len));
  }
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(const_cast<EVP_PKEY*>(pkey), &der);
  if (n > 0) {
    key.spki_sha256 = sha256_hex(std::span<const unsigned char>(der, static_cast<size_t>(n)));
    OPENSSL_free(der);
  }
}

namespace {

Result<PkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return make_error_code(Errc::crypto_error);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return make_error_code(Errc::crypto_error);
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr)
    return make_error_code(Errc::crypto_error);
  return PkeyPtr(raw);
}

BnPtr bn(Bytes b) { return BnPtr(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr)); }

}  // namespace

Result<void> key_facts_from_rsa(Bytes n, Bytes e, KeyFacts& key) {
  clear_errors();
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  BnPtr bn_n = bn(n), bn_e = bn(e);
  if (!bld || !bn_n || !bn_e || BN_is_zero(bn_n.get())) return make_error_code(Errc::bad_structure);
  if (BN_num_bits(bn_n.get()) > 16384) return make_error_code(Errc::too_large);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  auto pkey = from_params("RSA", bld.get());
  if (!pkey) return pkey.error();
  fill_key_facts(pkey->get(), key);
  return {};
}

Result<void> key_facts_from_dsa(Bytes p, Bytes q, Bytes g, Bytes y, KeyFacts& key) {
  clear_errors();
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  BnPtr bp = bn(p), bq = bn(q), bg = bn(g), by = bn(y);
  if (!bld || !bp || !bq || !bg || !by) return make_error_code(Errc::bad_structure);
  if (BN_num_bits(bp.get()) > 16384) return make_error_code(Errc::too_large);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, bp.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_Q, bq.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, bg.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, by.get());
  auto pkey = from_params("DSA", bld.get());
  if (!pkey) return pkey.error();
  fill_key_facts(pkey->get(), key);
  return {};
}

Result<void> key_facts_from_ec(std::string_view curve, Bytes point, KeyFacts& key) {
  clear_errors();
  std::string group(curve);
  if (group == "nistp256" || group == "P-256") group = "prime256v1";
  else if (group == "nistp384" || group == "P-384") group = "secp384r1";
  else if (group == "nistp521" || group == "P-521") group = "secp521r1";
  else if (group == "secp256k1" || group == "P-256K") group = "secp256k1";
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || point.empty()) return make_error_code(Errc::bad_structure);
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  auto pkey = from_params("EC", bld.get());
  if (!pkey) return pkey.error();
  fill_key_facts(pkey->get(), key);
  return {};
}

Result<void> key_facts_from_raw(std::string_view algorithm, Bytes raw, KeyFacts& key) {
  clear_errors();
  int id = 0;
  if (algorithm == "ED25519") id = EVP_PKEY_ED25519;
  else if (algorithm == "ED448") id = EVP_PKEY_ED448;
  else if (algorithm == "X25519") id = EVP_PKEY_X25519;
  else if (algorithm == "X448") id = EVP_PKEY_X448;
  else return make_error_code(Errc::unsupported);
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(id, nullptr, raw.data(), raw.size()));
  if (!pkey) return make_error_code(Errc::crypto_error);
  fill_key_facts(pkey.get(), key);
  return {};
}

}  // namespace keyward::scanner::detail
