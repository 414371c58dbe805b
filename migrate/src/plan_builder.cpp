// SPDX-License-Identifier: Apache-2.0
// The plan builder (docs/migration.md, "Strategies and their reasons"): one item per key
// identity over every place it sits, a strategy with its reasons in words, named blockers, the
// target the policy picks, the steps, an owner; items ordered by risk (rules::ranks_before).
#include <keyward/common/hex.hpp>
#include <keyward/migrate/plan.hpp>
#include <keyward/rules/rank.hpp>
#include <keyward/scanner/finding_json.hpp>

#include "plan_detail.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

namespace keyward::migrate {
namespace {

// The CA/Browser Forum Code Signing Baseline Requirements, 6.2.7.4 (ballots CSC-13, CSC-17).
const Citation kCsbrCitation{
    "cabf-csbr-hardware-keys",
    "CA/Browser Forum Code Signing Baseline Requirements, section 6.2.7.4 (ballots CSC-13 and CSC-17): since "
    "2023-06-01 the key of a publicly-trusted code-signing certificate must be generated, stored and used in a "
    "hardware crypto module of at least FIPS 140-2 Level 2 or Common Criteria EAL 4+.",
    "https://cabforum.org/working-groups/code-signing/requirements/"};

// Formats whose keys the importer reads with OpenSSL (docs/migration.md, "Strategies").
constexpr std::string_view kImportable[] = {
    "pem-pkcs1", "pem-sec1", "pem-pkcs8", "pem-pkcs8-encrypted", "pem-legacy-encrypted",
    "der-pkcs1", "der-sec1", "der-pkcs8", "der-pkcs8-encrypted", "pkcs12"};

bool has_factor(const scanner::Finding& f, std::string_view id) {
  if (!f.risk) return false;
  return std::any_of(f.risk->factors.begin(), f.risk->factors.end(), [&](const auto& x) { return x.id == id; });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string algorithm_of(const std::string& algorithm, std::optional<std::uint32_t> bits, const std::string& curve) {
  const std::string a = lower(algorithm);
  if (a == "rsa" || a == "dsa") return bits ? a + "-" + std::to_string(*bits) : "";
  if (a == "ed25519" || a == "ed448") return a;
  if (a == "ec" || a == "ecdsa") {
    if (curve.empty()) return "";
    std::string c = lower(curve);
    if (c.rfind("p-", 0) == 0) c = "p" + c.substr(2);
    if (c == "prime256v1" || c == "secp256r1") c = "p256";
    if (c == "secp384r1") c = "p384";
    if (c == "secp521r1") c = "p521";
    return "ec-" + c;
  }
  return a;
}

// The private-key facts of a finding: its own, else a store's first private-key entry's.
const scanner::KeyFacts* key_facts(const scanner::Finding& f) {
  if (f.key) return &*f.key;
  for (const auto& e : f.entries)
    if (e.kind == scanner::Kind::private_key && e.key && !e.secret_key()) return &*e.key;
  return nullptr;
}

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  return scanner::rfc3339(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

// What the builder knows about one identity: its places (riskiest first) and certificates.
struct Group {
  std::vector<const PlacedFinding*> places;
  std::vector<const scanner::Finding*> certs;  // certificate findings of the key
  std::vector<const scanner::CertFacts*> store_certs;
};

bool place_weak(const scanner::Finding& f) {
  const auto* k = key_facts(f);
  if (has_factor(f, "common-password") || has_factor(f, "password-nearby")) return true;
  if (k && (k->weak_password || !k->password_exposed_in.empty())) return true;
  return f.store && (f.store->weak_password || !f.store->password_exposed_in.empty());
}

bool place_encrypted(const scanner::Finding& f) {
  if (f.kind == scanner::Kind::keystore) return true;  // a store always has a password (maybe a weak one)
  return f.key && f.key->encrypted;
}

Place make_place(const PlacedFinding& pf) {
  const auto& f = pf.finding;
  Place p{pf.host,
          pf.agent_id,
          pf.place_id,
          f.id,
          f.location.path,
          f.location.member,
          std::string(scanner::to_string(f.format)),
          place_encrypted(f),
          static_cast<std::int64_t>(f.file.size),
          scanner::rfc3339(f.file.mtime)};
  return p;
}

CertSummary summarize(const scanner::CertFacts& c, bool publicly_trusted) {
  return CertSummary{c.subject, c.issuer,         c.serial,         scanner::rfc3339(c.not_after),
                     c.sha256,  c.code_signing(), publicly_trusted, c.self_signed};
}

// What the key signs, for the policy's `match` (docs/migration.md, "Policy").
struct Traits {
  bool code_signing = false, ca = false, x509 = false, ssh = false;
};

Traits traits_of(const Group& g) {
  Traits t;
  for (const auto* c : g.certs) {
    t.x509 = true;
    t.code_signing = t.code_signing || c->certificate->code_signing();
    t.ca = t.ca || (c->certificate->is_ca && !c->certificate->self_signed);
  }
  for (const auto* c : g.store_certs) {
    t.x509 = true;
    t.code_signing = t.code_signing || c->code_signing();
    t.ca = t.ca || (c->is_ca && !c->self_signed);
  }
  for (const auto* p : g.places) {
    const auto& f = p->finding;
    t.code_signing = t.code_signing || has_factor(f, "code-signing-certificate");
    t.ca = t.ca || has_factor(f, "ca-key");
    const auto* k = key_facts(f);
    t.ssh = t.ssh || f.format == scanner::Format::openssh || f.format == scanner::Format::putty_ppk ||
            (k && !k->ssh_fingerprint.empty());
  }
  return t;
}

bool rule_matches(const PolicyRule& r, const Traits& t) {
  if (r.match == "code-signing") return t.code_signing;
  if (r.match == "ca") return t.ca;
  if (r.match == "tls") return t.x509;
  if (r.match == "ssh") return t.ssh;
  return r.match == "any";
}

std::string match_words(const PolicyRule& r, const PlanItem& item) {
  const std::string subject = item.certificates.empty() ? "" : " (" + item.certificates.front().subject + ")";
  if (r.match == "code-signing") return "the key signs code" + subject;
  if (r.match == "ca") return "the key is a CA's" + subject;
  if (r.match == "tls") return "the key has an X.509 certificate" + subject;
  if (r.match == "ssh") return "it is an SSH key";
  return "it matched no earlier rule";
}

detail::Chosen choose_target(PlanItem& item, const Group& g, const Targets& targets) {
  const Traits t = traits_of(g);
  detail::Chosen chosen;
  for (const auto& r : targets.rules) {
    if (!rule_matches(r, t)) continue;
    chosen.rule = &r;
    for (const auto& p : targets.profiles)
      if (p.id == r.profile) chosen.profile = &p;
    break;
  }
  if (!chosen.rule || !chosen.profile) {
    item.blockers.push_back({"no-target", "No policy rule matched this key: add a rule (match: any) to the policy."});
    return chosen;
  }
  const auto hex = item.identity.substr(item.identity.find(':') + 1);
  item.target.profile = chosen.profile->id;
  item.target.token = chosen.rule->token;
  item.target.label = chosen.rule->label_prefix + hex.substr(0, 16);
  item.target.why = "policy rule " + chosen.rule->id + ": " + match_words(*chosen.rule, item) +
                    ", so it goes to token " + chosen.rule->token + " on " + chosen.profile->name + " (" +
                    chosen.profile->fips_level + ")";
  return chosen;
}

}  // namespace

std::string item_id_for(std::string_view identity) {
  std::string seed("keyward-plan-item");
  seed.push_back('\0');
  seed.append(identity);
  return common::sha256_hex(seed).substr(0, 16);
}

std::string algorithm_name(const scanner::Finding& f) {
  if (const auto* k = key_facts(f)) {
    std::string a = algorithm_of(k->algorithm, k->bits, k->curve);
    if (!a.empty()) return a;
  }
  if (f.certificate)
    return algorithm_of(f.certificate->key_algorithm, f.certificate->key_bits, f.certificate->key_curve);
  for (const auto& e : f.entries)
    if (e.certificate && e.kind == scanner::Kind::private_key)
      return algorithm_of(e.certificate->key_algorithm, e.certificate->key_bits, e.certificate->key_curve);
  return "";
}

PlanSummary Plan::summary() const {
  PlanSummary s;
  for (const auto& i : items) {
    ++s.items;
    ++(i.strategy == Strategy::import ? s.import : s.regenerate);
    if (!i.blockers.empty()) ++s.blocked;
    s.cleanups += static_cast<std::uint64_t>(
        std::count_if(i.steps.begin(), i.steps.end(), [](const Step& st) { return st.kind == StepKind::cleanup; }));
  }
  return s;
}

namespace {

// The facts of the item: its risk (the riskiest place), algorithm, protection, places, certificates.
void describe(PlanItem& item, const Group& g) {
  const auto& top = g.places.front()->finding;
  if (top.risk) item.score = top.risk->score, item.raw = top.risk->raw, item.severity = top.risk->severity;
  item.encrypted = true;
  bool public_place = false;
  for (const auto* pf : g.places) {
    const auto& f = pf->finding;
    if (item.algorithm.empty()) item.algorithm = algorithm_name(f);
    item.encrypted = item.encrypted && place_encrypted(f);
    item.weak_password = item.weak_password || place_weak(f);
    public_place = public_place || has_factor(f, "publicly-trusted");
    item.places.push_back(make_place(*pf));
  }
  for (const auto* c : g.certs) {
    if (item.algorithm.empty()) item.algorithm = algorithm_name(*c);
    item.certificates.push_back(summarize(*c->certificate, public_place || has_factor(*c, "publicly-trusted")));
  }
  for (const auto* c : g.store_certs) item.certificates.push_back(summarize(*c, public_place));
  // migrate_on: the riskiest place that is a file of its own (an archive member cannot be read in place).
  item.migrate_on = item.places.front();
  for (const auto& p : item.places)
    if (p.member.empty()) {
      item.migrate_on = p;
      break;
    }
}

std::string join_places(const std::vector<const Place*>& places) {
  std::string out;
  for (const auto* p : places) out += (out.empty() ? "" : ", ") + p->host + ":" + p->path;
  return out;
}

// Why the key must be presumed copied; empty when it was protected and on one host only.
std::vector<std::string> exposure_reasons(const PlanItem& item) {
  std::vector<std::string> reasons;
  std::vector<const Place*> clear;
  std::set<std::string> hosts;
  for (const auto& p : item.places) {
    if (!p.encrypted) clear.push_back(&p);
    hosts.insert(p.host);
  }
  if (!clear.empty())
    reasons.push_back("It was found unencrypted (" + join_places(clear) +
                      "): anyone who could read the file may hold a copy, so it must be presumed copied.");
  if (item.weak_password)
    reasons.push_back(
        "Its password is weak (a common password opened it) or lies in a file next to it: the encryption "
        "protected nothing, so it must be presumed copied.");
  if (hosts.size() > 1)
    reasons.push_back("It was found on " + std::to_string(hosts.size()) +
                      " hosts: a key copied once must be presumed copied elsewhere too, so a new key replaces it.");
  return reasons;
}

bool public_code_signing(const PlanItem& item) {
  return std::any_of(item.certificates.begin(), item.certificates.end(),
                     [](const CertSummary& c) { return c.code_signing && c.publicly_trusted; });
}

// The strategy and its reasons in words (docs/migration.md, "Strategies and their reasons").
void choose_strategy(PlanItem& item, const detail::Chosen& chosen) {
  item.reasons = exposure_reasons(item);
  if (public_code_signing(item)) {
    item.reasons.insert(
        item.reasons.begin(),
        "Its certificate is a code-signing certificate from a public CA: since 2023-06-01 the CA/Browser "
        "Forum Code Signing Baseline Requirements require its key to be generated in a hardware module, "
        "so an import never satisfies the rule; a new key is made in the HSM and a new certificate "
        "requested.");
    item.citations.push_back(kCsbrCitation);
  }
  item.strategy = Strategy::regenerate;
  if (!item.reasons.empty() || !chosen.rule) return;
  if (!chosen.rule->allow_import) {
    item.reasons.push_back("The policy rule " + chosen.rule->id +
                           " does not allow import: the keys it matches are regenerated.");
  } else if (!chosen.profile->can_import) {
    item.reasons.push_back("The target " + chosen.profile->name +
                           " cannot import a key from a file: a new key is made inside it.");
  } else {
    item.strategy = Strategy::import;
    item.reasons.push_back(
        "It was protected by a password no check broke and sits on one host only, so it can be moved in as "
        "non-extractable and keep its identity (and certificate, if any). Import is for a key whose certificate cannot "
        "be re-issued soon; "
        "that is the operator's call: choose regenerate when a new certificate can be issued.");
  }
}

// Blockers (docs/migration.md, "Blockers"); an item with one cannot run until it is resolved.
void decide(PlanItem& item, const Group&, const detail::Chosen& chosen) {
  choose_strategy(item, chosen);
  const bool import = item.strategy == Strategy::import;
  if (item.algorithm.empty()) {
    if (import)
      item.blockers.push_back({"password-unknown",
                               "The key is encrypted and keyward never opened it, so its password is unknown here: "
                               "import needs it (keyward migrate --password-source) to read the key and check its "
                               "algorithm against the target."});
    else
      item.blockers.push_back({"key-not-readable-here",
                               "The key is encrypted and its algorithm is unknown until it is opened: scan it with its "
                               "password (keyward scan --passwords FILE) so the new key can match it."});
  }
  if (!chosen.rule || !chosen.profile || item.algorithm.empty()) return;
  const auto& refused = chosen.rule->refuse_algorithms;
  if (std::find(refused.begin(), refused.end(), item.algorithm) != refused.end())
    item.blockers.push_back(
        {"algorithm-refused-by-policy", item.algorithm + " is refused by the target policy (rule " + chosen.rule->id +
                                            "): replace the key with a stronger one by hand, or change the policy."});
  const auto& algs = chosen.profile->algorithms;
  if (std::find(algs.begin(), algs.end(), item.algorithm) == algs.end())
    item.blockers.push_back({"algorithm-not-supported", item.algorithm + " is not supported by the target module (" +
                                                            chosen.profile->name +
                                                            "): point the policy rule at another profile."});
  if (import &&
      std::find(std::begin(kImportable), std::end(kImportable), item.migrate_on.format) == std::end(kImportable))
    item.blockers.push_back(
        {"format-not-importable", "The importer cannot read " + item.migrate_on.format +
                                      " keys: convert the key to PKCS#8 by hand first, or regenerate."});
}

// Groups the findings: private-key holders by identity; certificates by SPKI and id.
std::map<std::string, Group> group_findings(const std::vector<PlacedFinding>& findings) {
  std::map<std::string, Group> groups;
  std::multimap<std::string, const scanner::Finding*> certs_by_spki;
  for (const auto& pf : findings) {
    const auto& f = pf.finding;
    if (f.kind == scanner::Kind::certificate && f.certificate && !f.certificate->trust_store)
      certs_by_spki.emplace(f.certificate->spki_sha256, &f);
    if ((f.kind == scanner::Kind::private_key || f.kind == scanner::Kind::keystore) && f.holds_asymmetric_private_key())
      groups[pf.identity.empty() ? f.key_identity() : pf.identity].places.push_back(&pf);
  }
  for (auto& [identity, g] : groups) {
    std::sort(g.places.begin(), g.places.end(), [](const PlacedFinding* a, const PlacedFinding* b) {
      return rules::ranks_before(a->finding, b->finding);
    });
    std::set<std::string> seen;
    for (const auto* pf : g.places) {
      const std::string spki = pf->finding.spki();
      for (auto [it, end] = certs_by_spki.equal_range(spki); !spki.empty() && it != end; ++it)
        if (seen.insert(it->second->certificate->sha256).second) g.certs.push_back(it->second);
      for (const auto& e : pf->finding.entries)
        if (e.kind == scanner::Kind::private_key && e.certificate && seen.insert(e.certificate->sha256).second)
          g.store_certs.push_back(&*e.certificate);
    }
  }
  return groups;
}

}  // namespace

Plan build_plan(const std::vector<PlacedFinding>& findings, const Targets& targets, const PlanOptions& options) {
  Plan plan;
  plan.generated_at = options.now.empty() ? rfc3339_now() : options.now;
  plan.scope = options.scope.empty() ? "fleet" : options.scope;
  std::set<std::string> hosts;
  for (const auto& pf : findings) hosts.insert(pf.host);
  plan.hosts.assign(hosts.begin(), hosts.end());
  for (const auto& s : targets.sources) {
    const std::string name = s.rfind("builtin:", 0) == 0 ? "builtin" : s;
    if (std::find(plan.policy.begin(), plan.policy.end(), name) == plan.policy.end()) plan.policy.push_back(name);
  }
  std::vector<std::pair<const scanner::Finding*, PlanItem>> items;
  for (const auto& [identity, g] : group_findings(findings)) {
    PlanItem item;
    item.identity = identity;
    item.id = item_id_for(identity);
    describe(item, g);
    const detail::Chosen chosen = choose_target(item, g, targets);
    decide(item, g, chosen);
    item.owner = g.places.front()->finding.file.owner;
    if (item.owner.empty()) item.owner = targets.default_owner;
    std::vector<std::string> cert_paths;
    for (const auto* c : g.certs)
      if (c->location.member.empty()) cert_paths.push_back(c->location.path);
    detail::add_steps(item, cert_paths);
    items.emplace_back(&g.places.front()->finding, std::move(item));
  }
  // By risk: the riskiest place of each item, as every list of findings is ordered.
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return rules::ranks_before(*a.first, *b.first); });
  for (auto& [f, item] : items) {
    item.rank = static_cast<int>(plan.items.size()) + 1;
    plan.items.push_back(std::move(item));
  }
  return plan;
}

}  // namespace keyward::migrate
