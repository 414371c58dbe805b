// SPDX-License-Identifier: Apache-2.0
// Renders the CycloneDX 1.6 CBOM from the inventory (cbom_inventory.hpp); the mapping field by
// field and the properties keyward adds are in docs/formats/cbom.md.
#include <keyward/reporters/cbom.hpp>

#include "cbom_inventory.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>

namespace keyward::reporters {
namespace {

using cbom::algorithm_ref;
using cbom::CertAsset;
using cbom::Inventory;
using cbom::KeyAsset;
using cbom::Material;
using cbom::Place;
using cbom::Properties;
using nlohmann::ordered_json;

// The bom-ref of metadata.component (what was scanned); it depends on every key and certificate.
constexpr const char* kInventoryRef = "keyward:inventory";
constexpr auto kReplace = ordered_json::error_handler_t::replace;  // non-UTF-8 paths and names

std::string join(const std::set<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
  return out;
}

// The container format CycloneDX's `format` names ("PEM", "DER", "OpenSSH", "PKCS#12", ...).
std::string coarse_format(std::string_view f) {
  if (f.starts_with("pem-")) return "PEM";
  if (f.starts_with("der-")) return "DER";
  if (f == "openssh" || f == "ssh-public-key") return "OpenSSH";
  if (f == "putty-ppk") return "PuTTY";
  if (f == "sshcom") return "SSH.COM";
  if (f == "pgp" || f.starts_with("gpg-")) return "OpenPGP";
  if (f == "xml-rsa") return "XML";
  if (f == "pkcs12") return "PKCS#12";
  if (f == "pkcs7") return "PKCS#7";
  if (f == "zip-encrypted") return "ZIP";
  std::string upper(f);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;  // JWK, JKS, JCEKS, PVK, SNK, BKS, UBER, BCFKS
}

ordered_json properties_json(const Properties& props) {
  ordered_json out = ordered_json::array();
  for (const auto& [name, value] : props) out.push_back({{"name", name}, {"value", value}});
  return out;
}

std::string context_of(const Place& p) {
  std::string s = "host=" + p.host + "; format=" + p.format;
  if (!p.entry.empty()) s += "; entry=" + p.entry;
  if (p.key) s += p.encrypted ? "; encrypted=true" : "; encrypted=false";
  if (!p.suppressed.empty()) s += "; suppressed=" + p.suppressed;
  if (p.score >= 0) s += fmt::format("; risk={} {}", p.score, p.severity);
  return s;
}

ordered_json evidence(const std::set<Place>& places) {
  ordered_json occurrences = ordered_json::array();
  for (const auto& p : places) {
    ordered_json o{{"location", p.location}};
    if (p.line > 0) o["line"] = p.line;
    if (p.offset > 0) o["offset"] = p.offset;
    o["additionalContext"] = context_of(p);
    occurrences.push_back(std::move(o));
  }
  return {{"occurrences", std::move(occurrences)}};
}

// What every asset with places says: on how many hosts, its riskiest place, its suppression.
void place_properties(const std::set<Place>& places, Properties& props) {
  if (places.empty()) return;
  std::set<std::string> hosts;
  const Place* riskiest = nullptr;
  std::size_t suppressed = 0;
  for (const auto& p : places) {
    hosts.insert(p.host);
    if (p.score >= 0 && (riskiest == nullptr || p.score > riskiest->score)) riskiest = &p;
    if (!p.suppressed.empty()) ++suppressed;
  }
  props.emplace("keyward:hosts", std::to_string(hosts.size()));
  if (riskiest != nullptr) {
    props.emplace("keyward:risk-score", std::to_string(riskiest->score));
    props.emplace("keyward:severity", riskiest->severity);
  }
  if (suppressed > 0) props.emplace("keyward:suppressed-places", std::to_string(suppressed));
  if (suppressed == places.size()) props.emplace("keyward:suppressed", "true");
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

std::string key_name(const KeyAsset& a) {
  std::string what;
  switch (a.material) {
    case Material::private_key:
      what = "private key";
      break;
    case Material::public_key:
      what = "public key";
      break;
    case Material::secret_key:
      what = "secret key";
      break;
    case Material::unknown:
      what = "key store contents (unknown)";
      break;
  }
  return a.algorithm ? a.algorithm->name + " " + what : what;
}

// The file extension CycloneDX's certificateExtension names: the place's own ("crt", "pem",
// "p12"), else the format's usual one.
std::string certificate_extension(const CertAsset& c) {
  if (c.places.empty()) return {};
  const Place& p = *c.places.begin();
  std::string name = p.location.substr(p.location.find_last_of("!/") + 1);
  const auto dot = name.find_last_of('.');
  std::string ext = dot == std::string::npos ? std::string() : name.substr(dot + 1);
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const bool plain = !ext.empty() && ext.size() <= 5 &&
                     std::all_of(ext.begin(), ext.end(), [](unsigned char ch) { return std::isalnum(ch) != 0; });
  if (plain) return ext;
  if (p.format == "pem-cert") return "pem";
  if (p.format == "der-cert") return "der";
  if (p.format == "pkcs12") return "p12";
  if (p.format == "pkcs7" || p.format == "der-pkcs7") return "p7b";
  return p.format;
}

// A valid RFC 4122 UUID (version 5 layout) from the SHA-256 of the document's content.
std::string uuid_from(std::string_view content) {
  std::string h = common::sha256_hex(content).substr(0, 32);
  h[12] = '5';
  static constexpr std::string_view kHex = "0123456789abcdef";
  h[16] = kHex[8 + (kHex.find(h[16]) & 3)];
  return fmt::format("urn:uuid:{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4),
                     h.substr(20, 12));
}

// Builds the document's parts from one inventory; the plan says which keys an HSM now holds.
struct Renderer {
  const ReportInput& input;
  const Inventory& inv;
  std::map<std::string, const migrate::PlanItem*> items;       // by identity
  std::map<std::string, std::set<std::string>> certs_by_spki;  // certificate refs

  Renderer(const ReportInput& in, const Inventory& i) : input(in), inv(i) {
    if (input.plan != nullptr)
      for (const auto& item : input.plan->items) items.emplace(item.identity, &item);
    for (const auto& [ref, c] : inv.certificates)
      if (!c.facts.spki_sha256.empty()) certs_by_spki[c.facts.spki_sha256].insert(ref);
  }

  const migrate::PlanItem* item_of(const KeyAsset& a) const {
    const auto it = items.find(a.identity);
    return it == items.end() ? nullptr : it->second;
  }

  // securedBy: "HSM" once the key's migration is done (verified), "Software" for a key in a
  // file; nothing for a public key.
  void secured_by(const KeyAsset& a, ordered_json& rcm, Properties& props) const {
    const migrate::PlanItem* item = item_of(a);
    if (item != nullptr) props.emplace("keyward:migration-state", std::string(migrate::to_string(item->state)));
    if (item != nullptr && item->state == migrate::ItemState::done) {
      rcm["securedBy"] = {{"mechanism", "HSM"}};
      if (!item->target.token.empty()) props.emplace("keyward:hsm-token", item->target.token);
      if (!item->target.profile.empty()) props.emplace("keyward:hsm-profile", item->target.profile);
    } else if (a.material != Material::public_key && !a.places.empty()) {
      rcm["securedBy"] = {{"mechanism", "Software"}};
    }
  }

  ordered_json key_component(const std::string& ref, const KeyAsset& a) const {
    ordered_json rcm{{"type", std::string(to_string(a.material))}, {"id", a.spki.empty() ? a.identity : a.spki}};
    if (a.material != Material::unknown) rcm["state"] = "active";
    if (a.algorithm) rcm["algorithmRef"] = algorithm_ref(*a.algorithm);
    if (a.bits) rcm["size"] = *a.bits;
    std::set<std::string> formats;
    std::size_t keyed = 0, encrypted = 0;
    for (const auto& p : a.places) {
      formats.insert(coarse_format(p.format));
      keyed += p.key ? 1 : 0;
      encrypted += p.key && p.encrypted ? 1 : 0;
    }
    if (!formats.empty()) rcm["format"] = join(formats, ",");
    Properties props = a.store_facts;
    props.emplace("keyward:identity", a.identity);
    secured_by(a, rcm, props);
    if (a.algorithm) props.emplace("keyward:quantum-vulnerable", bool_text(a.algorithm->quantum_vulnerable));
    if (keyed > 0)
      props.emplace("keyward:encrypted", encrypted == keyed ? "true" : encrypted == 0 ? "false" : "partly");
    if (!a.ssh_fingerprint.empty()) props.emplace("keyward:ssh-fingerprint", a.ssh_fingerprint);
    if (!a.pgp_fingerprint.empty()) props.emplace("keyward:pgp-fingerprint", a.pgp_fingerprint);
    place_properties(a.places, props);
    ordered_json j{{"type", "cryptographic-asset"}, {"bom-ref", ref}, {"name", key_name(a)}};
    j["cryptoProperties"] = {{"assetType", "related-crypto-material"}, {"relatedCryptoMaterialProperties", rcm}};
    if (!a.places.empty()) j["evidence"] = evidence(a.places);
    j["properties"] = properties_json(props);
    return j;
  }

  ordered_json certificate_properties(const CertAsset& c) const {
    const scanner::CertFacts& f = c.facts;
    ordered_json cp{{"subjectName", f.subject}, {"issuerName", f.issuer}};
    if (f.not_after != 0) {
      cp["notValidBefore"] = scanner::rfc3339(f.not_before);
      cp["notValidAfter"] = scanner::rfc3339(f.not_after);
    }
    if (auto sig = signature_algorithm(f.signature_algorithm)) cp["signatureAlgorithmRef"] = algorithm_ref(*sig);
    if (!f.spki_sha256.empty())
      cp["subjectPublicKeyRef"] = cbom::key_ref(Material::public_key, "spki:" + f.spki_sha256);
    cp["certificateFormat"] = "X.509";
    if (const std::string ext = certificate_extension(c); !ext.empty()) cp["certificateExtension"] = ext;
    return cp;
  }

  ordered_json certificate_component(const std::string& ref, const CertAsset& c) const {
    const scanner::CertFacts& f = c.facts;
    Properties props;
    if (!f.sha256.empty()) props.emplace("keyward:sha256", f.sha256);
    if (!f.serial.empty()) props.emplace("keyward:serial", f.serial);
    if (!f.signature_algorithm.empty()) props.emplace("keyward:signature-algorithm", f.signature_algorithm);
    props.emplace("keyward:trust-store", bool_text(f.trust_store));
    props.emplace("keyward:self-signed", bool_text(f.self_signed));
    props.emplace("keyward:ca", bool_text(f.is_ca));
    if (f.code_signing()) props.emplace("keyward:code-signing", "true");
    if (f.not_after != 0) props.emplace("keyward:expired", bool_text(f.not_after < input.now));
    auto alg = algorithm_of(f);
    if (!alg) alg = signature_algorithm(f.signature_algorithm);
    if (alg) props.emplace("keyward:quantum-vulnerable", bool_text(alg->quantum_vulnerable));
    place_properties(c.places, props);
    const std::string name = f.subject.empty() ? "certificate " + f.sha256.substr(0, 16) : f.subject;
    ordered_json j{{"type", "cryptographic-asset"}, {"bom-ref", ref}, {"name", name}};
    j["cryptoProperties"] = {{"assetType", "certificate"}, {"certificateProperties", certificate_properties(c)}};
    if (!c.places.empty()) j["evidence"] = evidence(c.places);
    j["properties"] = properties_json(props);
    return j;
  }

  static ordered_json algorithm_component(const std::string& ref, const AlgorithmInfo& a) {
    ordered_json ap{{"primitive", a.primitive}};
    if (!a.parameter_set.empty()) ap["parameterSetIdentifier"] = a.parameter_set;
    if (!a.curve.empty()) ap["curve"] = a.curve;
    if (a.primitive == "signature") ap["cryptoFunctions"] = {"sign", "verify"};
    else if (a.primitive == "kem") ap["cryptoFunctions"] = {"keygen", "encapsulate", "decapsulate"};
    else if (a.primitive == "key-agree") ap["cryptoFunctions"] = {"keygen", "keyderive"};
    else if (a.primitive == "pke") ap["cryptoFunctions"] = {"encrypt", "decrypt"};
    ap["nistQuantumSecurityLevel"] = a.nist_quantum_level;
    ordered_json crypto{{"assetType", "algorithm"}, {"algorithmProperties", ap}};
    if (!a.oid.empty()) crypto["oid"] = a.oid;
    ordered_json j{{"type", "cryptographic-asset"}, {"bom-ref", ref}, {"name", a.name}, {"cryptoProperties", crypto}};
    j["properties"] = properties_json(
        {{"keyward:family", a.family}, {"keyward:quantum-vulnerable", bool_text(a.quantum_vulnerable)}});
    return j;
  }

  ordered_json components() const {
    ordered_json out = ordered_json::array();
    for (const auto& [ref, a] : inv.algorithms) out.push_back(algorithm_component(ref, a));
    for (const auto& [ref, c] : inv.certificates) out.push_back(certificate_component(ref, c));
    for (const auto& [ref, k] : inv.keys) out.push_back(key_component(ref, k));
    return out;
  }

  // key -> its algorithm and certificates (same SPKI, or the store entry's chain leaf);
  // certificate -> signature algorithm, key algorithm, subject public key; the inventory -> every
  // key and certificate. Every ref names a component of this document.
  std::map<std::string, std::set<std::string>> graph() const {
    std::map<std::string, std::set<std::string>> g;
    auto& top = g[kInventoryRef];
    for (const auto& [ref, a] : inv.algorithms) g[ref];
    for (const auto& [ref, k] : inv.keys) {
      auto& d = g[ref];
      top.insert(ref);
      if (k.algorithm) d.insert(algorithm_ref(*k.algorithm));
      if (k.material == Material::public_key) continue;
      d.insert(k.certificates.begin(), k.certificates.end());
      if (const auto it = certs_by_spki.find(k.spki); !k.spki.empty() && it != certs_by_spki.end())
        d.insert(it->second.begin(), it->second.end());
    }
    for (const auto& [ref, c] : inv.certificates) {
      auto& d = g[ref];
      top.insert(ref);
      if (auto sig = signature_algorithm(c.facts.signature_algorithm)) d.insert(algorithm_ref(*sig));
      if (auto alg = algorithm_of(c.facts)) d.insert(algorithm_ref(*alg));
      if (!c.facts.spki_sha256.empty()) d.insert(cbom::key_ref(Material::public_key, "spki:" + c.facts.spki_sha256));
    }
    return g;
  }

  ordered_json dependencies() const {
    ordered_json out = ordered_json::array();
    for (const auto& [ref, on] : graph()) {
      ordered_json d{{"ref", ref}};
      if (!on.empty()) d["dependsOn"] = on;
      out.push_back(std::move(d));
    }
    return out;
  }

  ordered_json metadata() const {
    ordered_json tool{{"type", "application"}, {"name", "keyward"}};
    if (!input.tool_version.empty()) tool["version"] = input.tool_version;
    const std::string title = input.title.empty() ? std::string("keyward inventory") : input.title;
    ordered_json scanned{{"type", "data"}, {"bom-ref", kInventoryRef}, {"name", title}};
    Properties props{{"keyward:findings", std::to_string(input.result.findings.size())},
                     {"keyward:scan-complete", bool_text(input.result.complete)}};
    if (!input.result.host.hostname.empty()) props.emplace("keyward:scanned-by", input.result.host.hostname);
    return {{"timestamp", scanner::rfc3339(input.now)},
            {"lifecycles", ordered_json::array({ordered_json{{"phase", "discovery"}}})},
            {"tools", {{"components", ordered_json::array({tool})}}},
            {"component", scanned},
            {"properties", properties_json(props)}};
  }
};

}  // namespace

std::string render_cbom(const ReportInput& input) {
  const Inventory inv = cbom::collect(input);
  const Renderer r(input, inv);
  ordered_json components = r.components();
  ordered_json dependencies = r.dependencies();
  ordered_json metadata = r.metadata();
  const std::string content = metadata.dump(-1, ' ', false, kReplace) + components.dump(-1, ' ', false, kReplace) +
                              dependencies.dump(-1, ' ', false, kReplace);
  ordered_json bom{{"$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json"},
                   {"bomFormat", "CycloneDX"},
                   {"specVersion", "1.6"},
                   {"serialNumber", uuid_from(content)},
                   {"version", 1},
                   {"metadata", std::move(metadata)},
                   {"components", std::move(components)},
                   {"dependencies", std::move(dependencies)}};
  return bom.dump(2, ' ', false, kReplace) + "\n";
}

}  // namespace keyward::reporters
