// SPDX-License-Identifier: Apache-2.0
#include <keyward/reporters/crypto_algorithms.hpp>

#include <fmt/format.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace keyward::reporters {
namespace {

AlgorithmInfo classical(std::string name, std::string family, std::string primitive, std::string parameter_set,
                        std::string curve) {
  return {std::move(name),
          std::move(family),
          std::move(primitive),
          std::move(parameter_set),
          std::move(curve),
          0,
          true,
          ""};
}

AlgorithmInfo post_quantum(std::string name, std::string family, std::string primitive, std::string parameter_set,
                           int level) {
  return {std::move(name), std::move(family), std::move(primitive), std::move(parameter_set), "", level, false, ""};
}

// The dotted OID of an algorithm OpenSSL names (short or long name); "" when it does not know it
// (OpenSSL 3.0 has no ML-DSA, SLH-DSA or ML-KEM objects; later versions do).
std::string oid_of(std::string_view openssl_name) {
  const int nid = OBJ_txt2nid(std::string(openssl_name).c_str());
  const ASN1_OBJECT* obj = nid == NID_undef ? nullptr : OBJ_nid2obj(nid);
  if (obj == nullptr) return {};
  std::array<char, 80> text{};
  const int n = OBJ_obj2txt(text.data(), static_cast<int>(text.size()), obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= text.size()) return {};
  return std::string(text.data(), static_cast<std::size_t>(n));
}

AlgorithmInfo with_oid(AlgorithmInfo info, std::string_view openssl_name) {
  info.oid = oid_of(openssl_name);
  return info;
}

std::string bits_text(const std::optional<std::uint32_t>& bits) { return bits ? std::to_string(*bits) : std::string(); }

// ML-DSA-44/65/87 are NIST levels 2/3/5 (FIPS 204); ML-KEM-512/768/1024 are 1/3/5 (FIPS 203).
std::optional<AlgorithmInfo> lattice(std::string_view a) {
  constexpr std::array<std::pair<std::string_view, int>, 6> levels{
      {{"ml-dsa-44", 2}, {"ml-dsa-65", 3}, {"ml-dsa-87", 5}, {"ml-kem-512", 1}, {"ml-kem-768", 3}, {"ml-kem-1024", 5}}};
  for (const auto& [name, level] : levels) {
    if (a != name) continue;
    const bool dsa = a.starts_with("ml-dsa");
    return post_quantum(fmt::format("{}-{}", dsa ? "ML-DSA" : "ML-KEM", a.substr(7)), dsa ? "ML-DSA" : "ML-KEM",
                        dsa ? "signature" : "kem", std::string(a.substr(7)), level);
  }
  return std::nullopt;
}

// SLH-DSA-{SHA2,SHAKE}-{128,192,256}{s,f} (FIPS 205): levels 1, 3, 5 by the security parameter.
std::optional<AlgorithmInfo> hash_based(std::string_view a) {
  if (!a.starts_with("slh-dsa-")) return std::nullopt;
  std::string rest(a.substr(8));  // "sha2-128s"
  const auto dash = rest.find('-');
  if (dash == std::string::npos || rest.size() < dash + 4) return std::nullopt;
  const std::string hash = rest.substr(0, dash), set = rest.substr(dash + 1);
  const int level = set.starts_with("128") ? 1 : set.starts_with("192") ? 3 : set.starts_with("256") ? 5 : 0;
  std::string upper = hash;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  return post_quantum(fmt::format("SLH-DSA-{}-{}", upper, set), "SLH-DSA", "signature", upper + "-" + set, level);
}

std::optional<AlgorithmInfo> named(std::string_view a, const std::optional<std::uint32_t>& bits,
                                   std::string_view curve) {
  const std::string b = bits_text(bits);
  const auto sized = [&](std::string_view family) {
    return b.empty() ? std::string(family) : fmt::format("{}-{}", family, b);
  };
  if (a == "rsa") return with_oid(classical(sized("RSA"), "RSA", "signature", b, ""), "rsaEncryption");
  if (a == "dsa") return with_oid(classical(sized("DSA"), "DSA", "signature", b, ""), "dsaEncryption");
  if (a == "ec" || a == "sk-ecdsa") {
    const std::string c(curve);
    return with_oid(classical(c.empty() ? "ECDSA" : "ECDSA-" + c, "ECDSA", "signature", "", c), "id-ecPublicKey");
  }
  if (a == "ed25519" || a == "sk-ed25519")
    return with_oid(classical("Ed25519", "EdDSA", "signature", "", "Ed25519"), "ED25519");
  if (a == "ed448") return with_oid(classical("Ed448", "EdDSA", "signature", "", "Ed448"), "ED448");
  if (a == "x25519") return with_oid(classical("X25519", "ECDH", "key-agree", "", "Curve25519"), "X25519");
  if (a == "x448") return with_oid(classical("X448", "ECDH", "key-agree", "", "Curve448"), "X448");
  if (a == "elgamal") return classical(sized("ElGamal"), "ElGamal", "pke", b, "");
  auto pq = lattice(a);
  if (!pq) pq = hash_based(a);
  if (pq) pq->oid = oid_of(pq->name);
  return pq;
}

// The digest a signature algorithm's OpenSSL name names, spelled as CycloneDX's examples do
// ("SHA256", "SHA3-256", "MD5"); "" when none.
std::string digest_in(std::string_view lower) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 11> digests{{{"sha3-512", "SHA3-512"},
                                                                                   {"sha3-384", "SHA3-384"},
                                                                                   {"sha3-256", "SHA3-256"},
                                                                                   {"sha3-224", "SHA3-224"},
                                                                                   {"sha512", "SHA512"},
                                                                                   {"sha384", "SHA384"},
                                                                                   {"sha256", "SHA256"},
                                                                                   {"sha224", "SHA224"},
                                                                                   {"sha1", "SHA1"},
                                                                                   {"md5", "MD5"},
                                                                                   {"md2", "MD2"}}};
  for (const auto& [needle, name] : digests)
    if (lower.find(needle) != std::string_view::npos) return std::string(name);
  return {};
}

}  // namespace

std::optional<AlgorithmInfo> algorithm_of(const scanner::KeyFacts& key) {
  if (key.algorithm.empty() || key.secret_key()) return std::nullopt;
  return named(key.algorithm, key.bits, key.curve);
}

std::optional<AlgorithmInfo> algorithm_of(const scanner::CertFacts& cert) {
  if (cert.key_algorithm.empty()) return std::nullopt;
  return named(cert.key_algorithm, cert.key_bits, cert.key_curve);
}

std::optional<AlgorithmInfo> key_algorithm(const scanner::Finding& f) {
  if (f.key)
    if (auto a = algorithm_of(*f.key)) return a;
  for (const auto& e : f.entries)
    if (e.kind == scanner::Kind::private_key && e.key)
      if (auto a = algorithm_of(*e.key)) return a;
  if (f.certificate) return algorithm_of(*f.certificate);
  return std::nullopt;
}

std::optional<AlgorithmInfo> plan_algorithm(std::string_view name) {
  scanner::KeyFacts k;
  const auto dash = name.find('-');
  const std::string_view family = name.substr(0, dash);
  const std::string_view rest = dash == std::string_view::npos ? std::string_view() : name.substr(dash + 1);
  if ((family == "rsa" || family == "dsa") && !rest.empty() &&
      std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    k.algorithm = std::string(family);
    k.bits = static_cast<std::uint32_t>(std::stoul(std::string(rest)));
  } else if (family == "ec" && !rest.empty()) {
    k.algorithm = "ec";
    const bool nist = rest.size() > 1 && rest[0] == 'p' && std::isdigit(static_cast<unsigned char>(rest[1])) != 0;
    k.curve = nist ? "P-" + std::string(rest.substr(1)) : std::string(rest);
  } else {
    k.algorithm = std::string(name);
  }
  return algorithm_of(k);
}

std::optional<AlgorithmInfo> signature_algorithm(std::string_view n) {
  std::string s(n);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "ed25519") return with_oid(classical("Ed25519", "EdDSA", "signature", "", "Ed25519"), n);
  if (s == "ed448") return with_oid(classical("Ed448", "EdDSA", "signature", "", "Ed448"), n);
  if (auto pq = lattice(s)) return pq;
  if (auto pq = hash_based(s)) return pq;
  if (s == "rsassa-pss" || s == "rsassapss") return with_oid(classical("RSASSA-PSS", "RSA", "signature", "", ""), n);
  const std::string hash = digest_in(s);
  const std::string with = hash.empty() ? std::string() : hash + "with";
  if (s.find("ecdsa") != std::string::npos) return with_oid(classical(with + "ECDSA", "ECDSA", "signature", "", ""), n);
  if (s.find("rsa") != std::string::npos) return with_oid(classical(with + "RSA", "RSA", "signature", "", ""), n);
  if (s.find("dsa") != std::string::npos) return with_oid(classical(with + "DSA", "DSA", "signature", "", ""), n);
  return std::nullopt;
}

}  // namespace keyward::reporters
