// SPDX-License-Identifier: Apache-2.0
// Folds findings into the CBOM's assets (cbom_inventory.hpp, docs/formats/cbom.md).
#include "cbom_inventory.hpp"

#include <string>

namespace keyward::reporters::cbom {

using scanner::Finding;
using scanner::Kind;

std::string_view to_string(Material m) noexcept {
  switch (m) {
    case Material::private_key:
      return "private-key";
    case Material::public_key:
      return "public-key";
    case Material::secret_key:
      return "secret-key";
    case Material::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string key_ref(Material m, std::string_view identity) {
  switch (m) {
    case Material::public_key:
      return "public-key:" + std::string(identity);
    case Material::secret_key:
      return "secret-key:" + std::string(identity);
    case Material::private_key:
    case Material::unknown:
      break;
  }
  return "key:" + std::string(identity);
}

std::string cert_ref(const scanner::CertFacts& c, std::string_view finding_id) {
  return c.sha256.empty() ? "cert:finding:" + std::string(finding_id) : "cert:" + c.sha256;
}

std::string algorithm_ref(const AlgorithmInfo& a) { return "algorithm:" + a.name; }

namespace {

struct Collector {
  const ReportInput& input;
  Inventory inv;

  Place place_of(const Finding& f) const {
    Place p;
    p.host = f.location.host.empty() ? input.result.host.hostname : f.location.host;
    p.location = f.location.member.empty() ? f.location.path : f.location.path + "!" + f.location.member;
    p.line = f.location.line;
    p.offset = f.location.offset;
    p.format = std::string(scanner::to_string(f.format));
    p.suppressed = f.suppressed ? f.suppressed->kind : std::string();
    if (f.risk) {
      p.score = f.risk->score;
      p.severity = f.risk->severity;
    }
    return p;
  }

  KeyAsset& key(Material m, const std::string& identity, const scanner::KeyFacts* facts) {
    KeyAsset& a = inv.keys[key_ref(m, identity)];
    a.identity = identity;
    if (a.material == Material::unknown) a.material = m;  // a private key's ref is never downgraded
    if (facts == nullptr) return a;
    if (!a.algorithm) a.algorithm = algorithm_of(*facts);
    if (!a.bits) a.bits = facts->bits;
    if (a.spki.empty()) a.spki = facts->spki_sha256;
    if (a.ssh_fingerprint.empty()) a.ssh_fingerprint = facts->ssh_fingerprint;
    if (a.pgp_fingerprint.empty()) a.pgp_fingerprint = facts->pgp_fingerprint;
    return a;
  }

  // The certificate's asset, and the public key it certifies (its subjectPublicKeyRef).
  std::string certificate(const scanner::CertFacts& c, const std::string& finding_id, const Place* place) {
    const std::string ref = cert_ref(c, finding_id);
    auto [it, fresh] = inv.certificates.try_emplace(ref);
    if (fresh) {
      it->second.facts = c;
      it->second.facts.der.clear();
    }
    if (place != nullptr) it->second.places.insert(*place);
    if (!c.spki_sha256.empty()) {
      KeyAsset& pub = key(Material::public_key, "spki:" + c.spki_sha256, nullptr);
      pub.spki = c.spki_sha256;
      if (!pub.algorithm) pub.algorithm = algorithm_of(c);
      if (!pub.bits) pub.bits = c.key_bits;
    }
    return ref;
  }

  void loose_key(const Finding& f, Material m, Place p) {
    if (f.key && m != Material::public_key) {
      p.key = true;
      p.encrypted = f.key->encrypted;
    }
    key(m, f.key_identity(), f.key ? &*f.key : nullptr).places.insert(std::move(p));
  }

  static Properties store_facts(const Finding& f) {
    Properties out{{"keyward:store-format", std::string(scanner::to_string(f.format))}};
    if (!f.store) return out;
    out.emplace("keyward:store-opened", f.store->opened ? "true" : "false");
    if (f.store->weak_password) out.emplace("keyward:store-weak-password", "true");
    if (!f.store->password_exposed_in.empty()) out.emplace("keyward:store-password-exposed", "true");
    if (!f.store->mac.empty()) out.emplace("keyward:store-mac", f.store->mac);
    for (const auto& w : f.store->weaknesses) out.emplace("keyward:store-weakness", w);
    return out;
  }

  // A store entry's key: its identity is the entry's SPKI (from the key or its chain's leaf).
  static std::string entry_identity(const Finding& f, const scanner::StoreEntry& e, std::size_t index) {
    if (e.key && !e.key->spki_sha256.empty()) return "spki:" + e.key->spki_sha256;
    if (e.certificate && !e.certificate->spki_sha256.empty()) return "spki:" + e.certificate->spki_sha256;
    return "finding:" + f.id + "#" + std::to_string(index);
  }

  void store_entry(const Finding& f, const scanner::StoreEntry& e, std::size_t index, const Place& store_place) {
    Place p = store_place;
    p.entry = e.alias;
    std::string cert;
    if (e.certificate) cert = certificate(*e.certificate, f.id + "#" + std::to_string(index), &p);
    if (e.kind != Kind::private_key) return;
    p.key = true;
    p.encrypted = e.key && e.key->encrypted;
    const Material m = e.secret_key() ? Material::secret_key : Material::private_key;
    KeyAsset& a = key(m, entry_identity(f, e, index), e.key ? &*e.key : nullptr);
    if (a.spki.empty() && e.certificate) a.spki = e.certificate->spki_sha256;
    if (!a.algorithm && e.certificate) a.algorithm = algorithm_of(*e.certificate);
    if (!cert.empty()) a.certificates.insert(cert);
    const Properties facts = store_facts(f);
    a.store_facts.insert(facts.begin(), facts.end());
    a.places.insert(std::move(p));
  }

  // A key store: one asset per entry key and certificate; a store whose entries stay unread
  // is still inventory (its key, if the detector named one, else material of unknown type).
  void store(const Finding& f, const Place& p) {
    for (std::size_t i = 0; i < f.entries.size(); ++i) store_entry(f, f.entries[i], i, p);
    if (!f.entries.empty()) return;
    if (f.certificate) certificate(*f.certificate, f.id, &p);
    if (f.certificate && !f.key) return;
    const Material m = f.key ? Material::private_key : Material::unknown;
    KeyAsset& a = key(m, f.key_identity(), f.key ? &*f.key : nullptr);
    const Properties facts = store_facts(f);
    a.store_facts.insert(facts.begin(), facts.end());
    a.places.insert(p);
  }

  void add(const Finding& f) {
    Place p = place_of(f);
    switch (f.kind) {
      case Kind::certificate:
        if (f.certificate) certificate(*f.certificate, f.id, &p);
        return;
      case Kind::keystore:
        store(f, p);
        return;
      case Kind::public_key:
        loose_key(f, Material::public_key, std::move(p));
        return;
      case Kind::private_key:
        loose_key(f, f.key && f.key->secret_key() ? Material::secret_key : Material::private_key, std::move(p));
        if (f.certificate) certificate(*f.certificate, f.id, nullptr);
        return;
    }
  }

  // A key the plan says is in an HSM now (item done) whose files are all gone: still inventory,
  // secured by the HSM, with no occurrence.
  void migrated_keys() {
    if (input.plan == nullptr) return;
    for (const auto& item : input.plan->items) {
      if (item.state != migrate::ItemState::done || inv.keys.count(key_ref(Material::private_key, item.identity)) != 0)
        continue;
      KeyAsset& a = key(Material::private_key, item.identity, nullptr);
      a.algorithm = plan_algorithm(item.algorithm);
      if (item.identity.starts_with("spki:")) a.spki = item.identity.substr(5);
      for (const auto& c : item.certificates)
        if (inv.certificates.count("cert:" + c.sha256) != 0) a.certificates.insert("cert:" + c.sha256);
    }
  }

  void algorithms() {
    for (const auto& [ref, k] : inv.keys)
      if (k.algorithm) inv.algorithms.emplace(algorithm_ref(*k.algorithm), *k.algorithm);
    for (const auto& [ref, c] : inv.certificates) {
      if (auto a = signature_algorithm(c.facts.signature_algorithm)) inv.algorithms.emplace(algorithm_ref(*a), *a);
      if (auto a = algorithm_of(c.facts)) inv.algorithms.emplace(algorithm_ref(*a), *a);
    }
  }
};

}  // namespace

Inventory collect(const ReportInput& input) {
  Collector c{input, {}};
  for (const auto& f : input.result.findings) c.add(f);
  c.migrated_keys();
  c.algorithms();
  return std::move(c.inv);
}

}  // namespace keyward::reporters::cbom
