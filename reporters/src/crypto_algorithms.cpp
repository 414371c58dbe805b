#include <keyward/reporters/crypto_algorithms.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace keyward::reporters {
namespace {

AlgorithmInfo classical(std::string name, std::string family, std::string primitive, std::string parameter_set,
                        std::string curve) {
  return {std::move(name), std::move(family), std::move(primitive), std::move(parameter_set), std::move(curve), 0, true};
}

AlgorithmInfo post_quantum(std::string name, std::string family, std::string primitive, std::string parameter_set,
                           int level) {
  return {std::move(name), std::move(family), std::move(primitive), std::move(parameter_set), "", level, false};
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

std::optional<AlgorithmInfo> named(std::string_view a, const std::optional<std::uint32_t>& bits, std::string_view curve) {
  if (a == "rsa") return classical(fmt::format("RSA-{}", bits_text(bits)), "RSA", "signature", bits_text(bits), "");
  if (a == "dsa") return classical(fmt::format("DSA-{}", bits_text(bits)), "DSA", "signature", bits_text(bits), "");
  if (a == "ec" || a == "sk-ecdsa") {
    const std::string c = curve.empty() ? std::string("unknown") : std::string(curve);
    return classical("ECDSA-" + c, "ECDSA", "signature", "", c);
  }
  if (a == "ed25519" || a == "sk-ed25519") return classical("Ed25519", "EdDSA", "signature", "", "Ed25519");
  if (a == "ed448") return classical("Ed448", "EdDSA", "signature", "", "Ed448");
  if (a == "x25519") return classical("X25519", "ECDH", "key-agree", "", "Curve25519");
  if (a == "x448") return classical("X448", "ECDH", "key-agree", "", "Curve448");
  if (a == "elgamal") return classical(fmt::format("ElGamal-{}", bits_text(bits)), "ElGamal", "pke", bits_text(bits), "");
  if (auto pq = lattice(a)) return pq;
  return hash_based(a);
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

std::optional<AlgorithmInfo> signature_algorithm(std::string_view n) {
  std::string s(n);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto hash = [&]() -> std::string {
    for (std::string_view h : {"sha512", "sha384", "sha256", "sha224", "sha1", "md5"})
      if (s.find(h) != std::string::npos) return fmt::format("{}", h);
    return "";
  }();
  const std::string with = hash.empty() ? std::string() : "with" + hash;
  if (s.find("rsa") != std::string::npos) return classical(hash + "WithRSA", "RSA", "signature", "", "");
  if (s.find("ecdsa") != std::string::npos) return classical("ECDSA" + with, "ECDSA", "signature", "", "");
  if (s.find("dsa") != std::string::npos && s.find("ml-dsa") == std::string::npos && s.find("slh") == std::string::npos)
    return classical("DSA" + with, "DSA", "signature", "", "");
  if (s == "ed25519") return classical("Ed25519", "EdDSA", "signature", "", "Ed25519");
  if (s == "ed448") return classical("Ed448", "EdDSA", "signature", "", "Ed448");
  if (auto pq = lattice(s)) return pq;
  return hash_based(s);
}

}  // namespace keyward::reporters
