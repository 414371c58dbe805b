// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/engine.hpp>
#include <keyward/scanner/slices.hpp>

#include <keyward/rules/package_index.hpp>
#include <keyward/rules/rule_error.hpp>

#include "glob.hpp"
#include "policy_match.hpp"
#include "trust_chain.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

namespace keyward::rules {

namespace f = factor_ids;
using scanner::CertFacts;
using scanner::Finding;
using scanner::KeyFacts;
using scanner::Kind;

const std::vector<std::string_view>& engine_factor_ids() {
  static const std::vector<std::string_view> ids{f::kPrivateKey,
                                                 f::kSecretKey,
                                                 f::kStoreContentsUnknown,
                                                 f::kUnencrypted,
                                                 f::kCommonPassword,
                                                 f::kPasswordNearby,
                                                 f::kCodeSigning,
                                                 f::kCodeSigningValid,
                                                 f::kCodeSigningCaIssued,
                                                 f::kCodeSigningBaseline,
                                                 f::kCaKey,
                                                 f::kWorldReadable,
                                                 f::kGroupReadable,
                                                 f::kForeignOwner,
                                                 f::kSharedLocation,
                                                 f::kWeakAlgorithm,
                                                 f::kDuplicated,
                                                 f::kKnownKey,
                                                 f::kWeakStore,
                                                 f::kWeakKeyProtection,
                                                 f::kTestPath,
                                                 f::kExpired,
                                                 f::kExpiring,
                                                 f::kCertificate,
                                                 f::kTrustStore,
                                                 f::kPublicKey,
                                                 f::kHardwareBacked,
                                                 f::kPackageOwned,
                                                 f::kVendored,
                                                 f::kKnownPublicKey,
                                                 f::kValidNow,
                                                 f::kPubliclyTrusted,
                                                 f::kInGitRepository,
                                                 f::kRecentlyModified};
  return ids;
}

namespace {

// 2023-06-01T00:00:00Z: from this date the CA/Browser Forum Code Signing Baseline Requirements
// (ballots CSC-13 and CSC-17) require code-signing keys in FIPS 140-2 Level 2 / CC EAL 4+ hardware.
constexpr std::int64_t kCodeSigningHsmDate = 1685577600;
// The key usage that lets a certificate's key sign certificates (RFC 5280, 4.2.1.3), as the
// scanner spells it in CertFacts::key_usage.
constexpr std::string_view kKeyCertSign = "keyCertSign";
constexpr std::int64_t kSecondsPerDay = 86400;

using Vars = std::map<std::string, std::string>;

// A cipher that protects a key file poorly whatever the passphrase: ECB mode (equal blocks stay
// equal, no IV), single DES (56-bit key), RC2, RC4 and 40-bit export ciphers. Names as the
// scanner writes Protection::cipher (lower case OpenSSL names: "aes-128-ecb", "des-cbc", "rc2-40-cbc").
bool weak_key_cipher(std::string_view c) {
  const bool ecb = c.size() >= 4 && c.substr(c.size() - 4) == "-ecb";
  const bool des = c == "des" || c.rfind("des-cbc", 0) == 0 || c.rfind("des-cfb", 0) == 0 ||
                   c.rfind("des-ofb", 0) == 0 || c == "desx-cbc";
  return ecb || des || c.rfind("rc2", 0) == 0 || c.rfind("rc4", 0) == 0 || c.find("-40") != std::string_view::npos;
}

std::string octal_mode(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    out.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The user whose home holds `abs` (the path component the last glob component matched), or "".
std::string home_user(const std::vector<std::string>& globs, const std::string& abs) {
  const auto path = split_path(abs);
  for (const auto& g : globs) {
    const auto parts = split_path(g);
    if (parts.size() >= path.size()) continue;  // the file must sit inside the home
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) ok = ::fnmatch(parts[i].c_str(), path[i].c_str(), 0) == 0;
    if (ok) return path[parts.size() - 1];
  }
  return {};
}

bool weak_signature(const std::string& sig) {
  const std::string s = detail::lower(sig);
  return s.find("sha1") != std::string::npos || s.find("md5") != std::string::npos ||
         s.find("md2") != std::string::npos;
}

// "RSA 1024 bits", "DSA", "EC 192 bits"; empty when the key is not weak.
std::string weak_key(std::string_view algorithm, std::optional<std::uint32_t> bits) {
  const std::string a = detail::lower(algorithm);
  if (a == "dsa") return "DSA" + (bits ? " " + std::to_string(*bits) + " bits" : std::string());
  if (a == "rsa" && bits && *bits < 2048) return "RSA " + std::to_string(*bits) + " bits";
  if (a == "ec" && bits && *bits < 224) return "EC " + std::to_string(*bits) + " bits";
  return {};
}

class Scorer {
 public:
  Scorer(const scanner::ScanResult& result, const RuleSet& rules, const ScoreContext& ctx)
      : result_(result), rules_(rules), ctx_(ctx) {
    for (auto id : engine_factor_ids())
      if (rules_.factor(id) == nullptr)
        throw RuleError("factors", 0, "unknown-factor",
                        "the factor table has no '" + std::string(id) + "', which the engine assigns: add it back");
    std::error_code ec;
    cwd_ = ctx_.base_dir.empty() ? std::filesystem::current_path(ec).string() : ctx_.base_dir;
    if (cwd_.empty()) cwd_ = "/";
    for (const auto& fd : result_.findings) by_id_[fd.id] = &fd;
    // Where each private key sits (fleet-free duplicate count, within this result).
    for (const auto& fd : result_.findings) {
      if (!fd.holds_private_key()) continue;
      const std::string place = fd.location.path + (fd.location.member.empty() ? "" : "!" + fd.location.member);
      for (const auto& s : key_spkis(fd)) places_[s].insert(place);
    }
    for (const auto& k : ctx_.known_keys) extra_known_.insert(detail::lower(k));
    // Package ownership: dpkg's lists read once, only when there is something to look up, and
    // only for real paths (a virtual root stands for "/" but is not this machine's "/").
    if (!result_.findings.empty() && !ctx_.package_db_dir.empty() && !ctx_.virtual_root) {
      std::vector<std::string> paths;  // only the findings' own paths are looked up
      for (const auto& fd : result_.findings)
        if (on_this_machine(fd)) paths.push_back(absolute_path(fd));
      packages_ = PackageIndex::load(ctx_.package_db_dir, &paths);
    }
    // Who issued the certificates of this scan (a CA key is one whose certificate issued others).
    for (const auto& fd : result_.findings) {
      if (fd.certificate) note_issuer(*fd.certificate);
      for (const auto& e : fd.entries)
        if (e.certificate) note_issuer(*e.certificate);
    }
    find_tracked();
    find_publicly_trusted();
  }

  scanner::RiskFacts score(const Finding& fd) const {
    scanner::RiskFacts risk;
    auto& out = risk.factors;
    const std::string abs = absolute_path(fd);
    switch (fd.kind) {
      case Kind::private_key:
      case Kind::keystore:
        if (fd.kind == Kind::keystore && fd.store && fd.store->truststore) inventory_store(fd, out);
        else key_holder(fd, abs, out);
        break;
      case Kind::certificate:
        certificate(fd, out);
        break;
      case Kind::public_key:
        add(out, f::kPublicKey, {});
        break;
    }
    if (const std::string* g = member_glob(ctx_.test_globs, fd, abs)) add(out, f::kTestPath, {{"glob", *g}});
    provenance(fd, abs, out);

    // Policy rules, in load order, over the engine's factors.
    std::vector<std::string> engine_ids;
    for (const auto& x : out) engine_ids.push_back(x.id);
    std::vector<const PolicyRule*> matched;
    detail::PolicyFacts facts = detail::policy_facts(fd, related_certs(fd), engine_ids);
    for (const auto& p : rules_.policies())
      if (p.enabled && !(ctx_.show_vendor && p.id == policy_ids::kProvenanceCap) &&
          detail::policy_matches(p.match, facts))
        matched.push_back(&p);
    for (const PolicyRule* p : matched) {
      std::string why = "policy " + p->id + ": " + p->title;
      if (p->severity_at_least) why += " (severity at least " + std::string(to_string(*p->severity_at_least)) + ")";
      if (p->severity_at_most) why += " (severity at most " + std::string(to_string(*p->severity_at_most)) + ")";
      out.push_back({p->id, 0, why});
      for (const auto& id : p->add_factors) add(out, id, vars_for(fd, abs));
    }

    int sum = 0;
    for (const auto& x : out) sum += x.points;
    risk.raw = sum;
    risk.score = std::clamp(sum, 0, 100);
    Severity sev = severity_for_score(risk.score);
    for (const PolicyRule* p : matched) {
      if (p->severity_at_least && sev < *p->severity_at_least) sev = *p->severity_at_least;
      if (p->severity_at_most && sev > *p->severity_at_most) sev = *p->severity_at_most;
    }
    // A cap lowers the score into its band, so score and severity agree; raw keeps the sum.
    if (sev < severity_for_score(risk.score)) risk.score = std::min(risk.score, highest_score_in(sev));
    risk.severity = std::string(to_string(sev));

    if (const DetectionRule* r = rules_.rule(fd.rule)) risk.remediation = r->remediation;
    for (const PolicyRule* p : matched) {
      if (p->remediation.empty()) continue;
      if (!risk.remediation.empty()) risk.remediation += "\n";
      risk.remediation += p->remediation;
    }
    return risk;
  }

 private:
  void add(std::vector<scanner::RiskFactor>& out, std::string_view id, const Vars& vars) const {
    const FactorDef* def = rules_.factor(id);
    if (def == nullptr) return;  // checked in the constructor for engine ids, at load for policies
    for (const auto& x : out)
      if (x.id == id) return;  // each factor counts once
    out.push_back({def->id, def->points, fill_why(def->why, vars)});
  }

  void note_issuer(const CertFacts& c) {
    if (!c.issuer.empty() && c.issuer != c.subject) issuers_.insert(c.issuer);
  }

  // Asks the context, once per file, whether each file holding a private key is tracked by git
  // (sequentially: the hook need not be thread-safe, and scoring runs in parallel after this).
  void find_tracked() {
    if (!ctx_.git_tracked) return;
    std::set<std::string> asked;
    for (const auto& fd : result_.findings) {
      if (fd.git || !fd.holds_private_key() || !on_this_machine(fd)) continue;
      const std::string abs = absolute_path(fd);
      if (!asked.insert(abs).second) continue;
      if (ctx_.git_tracked(abs)) tracked_.insert(abs);
    }
  }

  // Which CA-issued certificates of the keys chain to a root of the trust store (docs/rules.md,
  // "publicly-trusted"): the store is read once per run, and only when there is one to check;
  // every certificate of the scan is offered as an untrusted intermediate.
  void find_publicly_trusted() {
    std::map<std::string, const std::string*> leaves;  // sha256 -> DER
    for (const auto& fd : result_.findings)
      if (fd.holds_private_key())
        for (const CertFacts* c : key_certs(fd))
          if (!c->self_signed && !c->der.empty()) leaves.emplace(c->sha256, &c->der);
    if (leaves.empty()) return;
    std::vector<const std::string*> leaf_ders, all;
    for (const auto& [sha, der] : leaves) leaf_ders.push_back(der);
    // Only a CA certificate can be an intermediate, and each once: the vendored CA bundles of a
    // real machine repeat the same few hundred (1,322 certificates, 271 distinct, on the bench
    // tree), and each offered one is decoded and searched at every step of every chain.
    std::set<std::string_view> offered;
    const auto offer = [&](const CertFacts& c) {
      if (c.is_ca && !c.der.empty() && offered.insert(c.sha256.empty() ? std::string_view(c.der) : c.sha256).second)
        all.push_back(&c.der);
    };
    for (const auto& fd : result_.findings) {
      if (fd.certificate) offer(*fd.certificate);
      for (const auto& e : fd.entries)
        if (e.certificate) offer(*e.certificate);
    }
    const auto trusted = detail::chains_to_trusted_root(leaf_ders, all, ctx_.trust_store_file);
    std::size_t i = 0;
    for (const auto& [sha, der] : leaves)
      if (trusted[i++]) publicly_trusted_.insert(sha);
  }

  // A finding of a remote scan (location.host set) is a file of another machine: this machine's
  // dpkg database and git indexes say nothing about it (docs/remote.md).
  static bool on_this_machine(const Finding& fd) noexcept { return fd.location.host.empty(); }

  std::string absolute_path(const Finding& fd) const {
    namespace fs = std::filesystem;
    if (ctx_.virtual_root) {
      std::string rel = fd.relative_path.empty() ? fd.location.path : fd.relative_path;
      while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
      while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
      return "/" + rel;
    }
    const std::string& p = fd.location.path;
    if (!p.empty() && p.front() == '/') return fs::path(p).lexically_normal().string();
    return (fs::path(cwd_) / p).lexically_normal().string();
  }

  // The first of `globs` matching the absolute path, or the path and its member chain as
  // "path/member/inner" (test fixtures and vendored artifacts inside archives).
  static const std::string* member_glob(const std::vector<std::string>& globs, const Finding& fd,
                                        const std::string& abs) {
    if (const std::string* g = detail::first_match(globs, abs)) return g;
    if (!fd.location.member.empty()) {
      std::string member = fd.location.member;
      std::replace(member.begin(), member.end(), '!', '/');
      if (const std::string* g = detail::first_match(globs, abs + "/" + member)) return g;
    }
    return nullptr;
  }

  // Someone else published it: an installed package's file, a vendored dependency.
  void provenance(const Finding& fd, const std::string& abs, std::vector<scanner::RiskFactor>& out) const {
    if (const std::string_view pkg = on_this_machine(fd) ? packages_.owner(abs) : std::string_view(); !pkg.empty())
      add(out, f::kPackageOwned, {{"package", std::string(pkg)}});
    if (const std::string* g = member_glob(rules_.vendored_paths(), fd, abs)) add(out, f::kVendored, {{"glob", *g}});
  }

  // SPKIs of the private keys a finding holds.
  static std::set<std::string> key_spkis(const Finding& fd) {
    std::set<std::string> out;
    if (fd.kind == Kind::private_key && fd.key && !fd.key->spki_sha256.empty()) out.insert(fd.key->spki_sha256);
    for (const auto& e : fd.entries) {
      if (e.kind != Kind::private_key) continue;
      if (e.key && !e.key->spki_sha256.empty()) out.insert(e.key->spki_sha256);
      else if (e.certificate && !e.certificate->spki_sha256.empty()) out.insert(e.certificate->spki_sha256);
    }
    return out;
  }

  // Certificates for the keys a finding holds: its store's key-entry certificates and the
  // certificates paired with it (other files, or another store's entries for the same SPKI).
  std::vector<const CertFacts*> key_certs(const Finding& fd) const {
    std::vector<const CertFacts*> out;
    const auto spkis = key_spkis(fd);
    for (const auto& e : fd.entries)
      if (e.kind == Kind::private_key && e.certificate) out.push_back(&*e.certificate);
    for (const auto& id : fd.paired_with) {
      auto it = by_id_.find(id);
      if (it == by_id_.end()) continue;
      const Finding& g = *it->second;
      if (g.certificate && spkis.count(g.certificate->spki_sha256) != 0) out.push_back(&*g.certificate);
      for (const auto& e : g.entries)
        if (e.certificate && spkis.count(e.certificate->spki_sha256) != 0) out.push_back(&*e.certificate);
    }
    return out;
  }

  // Every certificate a policy's eku/issuer conditions look at.
  std::vector<const CertFacts*> related_certs(const Finding& fd) const {
    std::vector<const CertFacts*> out;
    if (fd.certificate) out.push_back(&*fd.certificate);
    for (const auto& e : fd.entries)
      if (e.certificate) out.push_back(&*e.certificate);
    for (const auto* c : key_certs(fd))
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    return out;
  }

  Vars vars_for(const Finding& fd, const std::string& abs) const {
    Vars v{{"mode", octal_mode(fd.file.mode)},
           {"owner", fd.file.owner},
           {"path", abs},
           {"format", std::string(scanner::to_string(fd.format))}};
    return v;
  }

  bool valid_now(const CertFacts& c) const { return c.not_before <= ctx_.now && ctx_.now <= c.not_after; }

  void key_holder(const Finding& fd, const std::string& abs, std::vector<scanner::RiskFactor>& out) const {
    const bool has_key = fd.holds_private_key();
    const Vars base = vars_for(fd, abs);
    // A store whose contents stay encrypted (UBER, BCFKS) may hold keys: weighed, and exposed, as
    // a store that does.
    const bool may_hold_key = !has_key && fd.kind == Kind::keystore && fd.store && fd.store->contents_unknown();
    // A store of JCEKS secret (symmetric) keys only: the same weight, named for what it holds.
    if (has_key) add(out, fd.holds_asymmetric_private_key() ? f::kPrivateKey : f::kSecretKey, base);
    else if (may_hold_key) add(out, f::kStoreContentsUnknown, base);
    protection(fd, base, out);
    if (!has_key && !may_hold_key) return;
    const auto certs = key_certs(fd);
    code_signing_and_ca(certs, out);
    valid_certificate(certs, out);
    exposure(fd, abs, base, out);
    in_git_and_recent(fd, abs, out);
    weak_algorithm(fd, certs, out);
    elsewhere(fd, out);
  }

  // Protection: one of hardware-backed / unencrypted / password beside it / common password,
  // then a store's own weaknesses.
  void protection(const Finding& fd, const Vars& base, std::vector<scanner::RiskFactor>& out) const {
    bool unencrypted = false, weak = false;
    std::string exposed;
    if (fd.kind == Kind::private_key && fd.key) {
      unencrypted = !fd.key->encrypted;
      weak = fd.key->weak_password;
      exposed = fd.key->password_exposed_in;
    }
    for (const auto& e : fd.entries) {
      if (e.kind != Kind::private_key || !e.key) continue;
      unencrypted = unencrypted || !e.key->encrypted;
      weak = weak || e.key->weak_password;
      if (exposed.empty()) exposed = e.key->password_exposed_in;
    }
    if (fd.store) {
      weak = weak || fd.store->weak_password;
      if (exposed.empty()) exposed = fd.store->password_exposed_in;
    }
    // A FIDO security-key handle (OpenSSH sk-*): the secret stays in the token.
    const bool hardware = fd.kind == Kind::private_key && fd.key && fd.key->algorithm.rfind("sk-", 0) == 0;
    if (hardware) add(out, f::kHardwareBacked, {{"algorithm", fd.key->algorithm}});
    else if (unencrypted) add(out, f::kUnencrypted, base);
    else if (!exposed.empty()) add(out, f::kPasswordNearby, {{"file", exposed}});
    else if (weak) add(out, f::kCommonPassword, base);

    if (fd.kind == Kind::private_key && fd.key && fd.key->encrypted && fd.key->protection &&
        weak_key_cipher(fd.key->protection->cipher))
      add(out, f::kWeakKeyProtection, {{"cipher", fd.key->protection->cipher}});
    if (fd.store && !fd.store->weaknesses.empty()) {
      std::string list;
      for (const auto& w : fd.store->weaknesses) list += (list.empty() ? "" : ", ") + w;
      add(out, f::kWeakStore, {{"weaknesses", list}});
    }
  }

  // Code signing and CA keys, from the certificates of this key.
  void code_signing_and_ca(const std::vector<const CertFacts*>& certs, std::vector<scanner::RiskFactor>& out) const {
    const CertFacts* best = nullptr;
    bool any_valid = false, any_ca_issued = false;
    const CertFacts* baseline = nullptr;
    const CertFacts* ca = nullptr;
    for (const CertFacts* c : certs) {
      if (ca == nullptr && ca_certificate(*c)) ca = c;
      if (!c->code_signing()) continue;
      const bool valid = valid_now(*c), issued = !c->self_signed;
      any_valid = any_valid || valid;
      any_ca_issued = any_ca_issued || issued;
      if (issued && c->not_before >= kCodeSigningHsmDate && baseline == nullptr) baseline = c;
      auto rank = [&](const CertFacts* x) { return (valid_now(*x) ? 2 : 0) + (x->self_signed ? 0 : 1); };
      if (best == nullptr || rank(c) > rank(best)) best = c;
    }
    if (best != nullptr) {
      const Vars cv{{"subject", best->subject},
                    {"issuer", best->issuer},
                    {"not_before", detail::format_date(best->not_before)},
                    {"not_after", detail::format_date(best->not_after)}};
      add(out, f::kCodeSigning, cv);
      if (any_valid) add(out, f::kCodeSigningValid, cv);
      if (any_ca_issued) add(out, f::kCodeSigningCaIssued, cv);
      if (baseline != nullptr)
        add(out, f::kCodeSigningBaseline,
            {{"subject", baseline->subject},
             {"issuer", baseline->issuer},
             {"not_before", detail::format_date(baseline->not_before)}});
    }
    if (ca != nullptr) add(out, f::kCaKey, {{"subject", ca->subject}});
  }

  // A CA key (docs/rules.md, "ca-key"): a CA certificate that issued a certificate seen in this
  // scan, or whose key usage says it signs certificates (keyCertSign, a deliberate choice). A
  // self-signed certificate that merely carries CA:TRUE (openssl req -x509's default, no key
  // usage) and issued nothing seen is a leaf, not a CA.
  bool ca_certificate(const CertFacts& c) const {
    if (!c.is_ca) return false;
    if (issuers_.count(c.subject) != 0) return true;
    return std::find(c.key_usage.begin(), c.key_usage.end(), kKeyCertSign) != c.key_usage.end();
  }

  static bool has(const std::vector<scanner::RiskFactor>& out, std::string_view id) {
    return std::any_of(out.begin(), out.end(), [&](const auto& x) { return x.id == id; });
  }

  // A certificate for the key chains to a trusted root: a production identity. One valid now: the
  // key is in use (a code-signing certificate counts its validity once, as code-signing-valid;
  // docs/rules.md, "valid-now").
  void valid_certificate(const std::vector<const CertFacts*>& certs, std::vector<scanner::RiskFactor>& out) const {
    for (const CertFacts* c : certs) {
      if (publicly_trusted_.count(c->sha256) == 0) continue;
      add(out, f::kPubliclyTrusted, {{"subject", c->subject}, {"issuer", c->issuer}});
      break;
    }
    if (has(out, f::kCodeSigningValid)) return;
    for (const CertFacts* c : certs) {
      if (!valid_now(*c)) continue;
      add(out, f::kValidNow, {{"subject", c->subject}, {"not_after", detail::format_date(c->not_after)}});
      return;
    }
  }

  // In git (tracked in its repository's index, or a blob from history), and changed lately.
  void in_git_and_recent(const Finding& fd, const std::string& abs, std::vector<scanner::RiskFactor>& out) const {
    if (fd.git) add(out, f::kInGitRepository, {{"git", "in its history, commit " + fd.git->commit.substr(0, 12)}});
    else if (on_this_machine(fd) && tracked_.count(abs) != 0)
      add(out, f::kInGitRepository, {{"git", "tracked in its repository"}});
    const std::int64_t age = ctx_.now - fd.file.mtime;
    if (fd.file.mtime > 0 && age <= static_cast<std::int64_t>(ctx_.recent_days) * kSecondsPerDay)
      add(out, f::kRecentlyModified,
          {{"days", std::to_string(std::max<std::int64_t>(age, 0) / kSecondsPerDay)},
           {"date", detail::format_date(fd.file.mtime)}});
  }

  // Who can read it, whose it is, where it sits.
  void exposure(const Finding& fd, const std::string& abs, const Vars& base,
                std::vector<scanner::RiskFactor>& out) const {
    if (fd.file.mode & 0004) add(out, f::kWorldReadable, base);
    else if (fd.file.mode & 0040) add(out, f::kGroupReadable, base);
    const std::string user = home_user(ctx_.home_globs, abs);
    if (!user.empty() && !fd.file.owner.empty() && fd.file.owner != user)
      add(out, f::kForeignOwner, {{"owner", fd.file.owner}, {"home_user", user}});
    if (const std::string* g = detail::first_match(ctx_.shared_globs, abs))
      add(out, f::kSharedLocation, {{"glob", *g}});
  }

  // Algorithm strength: the key, then its certificates' signatures.
  void weak_algorithm(const Finding& fd, const std::vector<const CertFacts*>& certs,
                      std::vector<scanner::RiskFactor>& out) const {
    std::string weak_what;
    if (fd.key) weak_what = weak_key(fd.key->algorithm, fd.key->bits);
    for (const auto& e : fd.entries)
      if (weak_what.empty() && e.kind == Kind::private_key && e.key)
        weak_what = weak_key(e.key->algorithm, e.key->bits);
    for (const CertFacts* c : certs)
      if (weak_what.empty() && weak_signature(c->signature_algorithm))
        weak_what = c->signature_algorithm + " signature on its certificate";
    if (!weak_what.empty()) add(out, f::kWeakAlgorithm, {{"algorithm", weak_what}});
  }

  // The same key elsewhere in this result, publicly known keys and published test keys.
  void elsewhere(const Finding& fd, std::vector<scanner::RiskFactor>& out) const {
    std::size_t count = 0;
    std::string known, published;
    for (const auto& s : key_spkis(fd)) {
      if (auto it = places_.find(s); it != places_.end()) count = std::max(count, it->second.size());
      if (auto it = rules_.known_keys().find(s); it != rules_.known_keys().end()) known = it->second;
      else if (extra_known_.count(s) != 0 && known.empty()) known = "listed as publicly known";
      if (auto it = rules_.known_public_keys().find(s); it != rules_.known_public_keys().end() && published.empty())
        published = it->second;
    }
    if (count >= 2) add(out, f::kDuplicated, {{"count", std::to_string(count)}});
    if (!known.empty()) add(out, f::kKnownKey, {{"name", known}});
    if (!published.empty()) add(out, f::kKnownPublicKey, {{"name", published}});
  }

  void expiry(const std::vector<const CertFacts*>& certs, std::vector<scanner::RiskFactor>& out) const {
    std::vector<const CertFacts*> expired, expiring;
    const std::int64_t window = static_cast<std::int64_t>(ctx_.expiring_days) * 86400;
    for (const CertFacts* c : certs) {
      if (c->not_after == 0) continue;
      if (c->not_after < ctx_.now) expired.push_back(c);
      else if (c->not_after - ctx_.now <= window) expiring.push_back(c);
    }
    auto describe = [](const std::vector<const CertFacts*>& v) {
      std::string s = v.front()->subject;
      if (v.size() > 1) s += " and " + std::to_string(v.size() - 1) + " more";
      return s;
    };
    if (!expired.empty())
      add(out, f::kExpired,
          {{"subject", describe(expired)}, {"not_after", detail::format_date(expired.front()->not_after)}});
    if (!expiring.empty()) {
      const auto days = (expiring.front()->not_after - ctx_.now) / 86400;
      add(out, f::kExpiring,
          {{"subject", describe(expiring)},
           {"not_after", detail::format_date(expiring.front()->not_after)},
           {"days", std::to_string(days)}});
    }
  }

  void certificate(const Finding& fd, std::vector<scanner::RiskFactor>& out) const {
    add(out, f::kCertificate, {});
    if (!fd.certificate) return;
    const CertFacts& c = *fd.certificate;
    if (c.trust_store) add(out, f::kTrustStore, {});
    expiry({&c}, out);
    std::string weak_what = weak_key(c.key_algorithm, c.key_bits);
    if (weak_what.empty() && weak_signature(c.signature_algorithm)) weak_what = c.signature_algorithm + " signature";
    if (!weak_what.empty()) add(out, f::kWeakAlgorithm, {{"algorithm", weak_what}});
  }

  // A store without private keys: certificates as inventory.
  void inventory_store(const Finding& fd, std::vector<scanner::RiskFactor>& out) const {
    add(out, f::kCertificate, {});
    add(out, f::kTrustStore, {});
    std::vector<const CertFacts*> certs;
    for (const auto& e : fd.entries)
      if (e.certificate) certs.push_back(&*e.certificate);
    expiry(certs, out);
  }

  const scanner::ScanResult& result_;
  const RuleSet& rules_;
  const ScoreContext& ctx_;
  std::string cwd_;
  std::unordered_map<std::string, const Finding*> by_id_;
  std::unordered_map<std::string, std::set<std::string>> places_;
  std::set<std::string> extra_known_;
  PackageIndex packages_;
  std::set<std::string> issuers_;           // issuer names of the certificates seen that are not self-issued
  std::set<std::string> tracked_;           // absolute paths of key files tracked by git
  std::set<std::string> publicly_trusted_;  // sha256 of key certificates that chain to a trusted root
};

}  // namespace

void score(scanner::ScanResult& result, const RuleSet& rules, const ScoreContext& ctx) {
  const Scorer scorer(result, rules, ctx);
  // Scoring reads the whole result (Scorer is const): findings are scored in slices on every
  // core, and the risks set once all are done.
  std::vector<scanner::RiskFacts> risks(result.findings.size());
  scanner::for_slices(result.findings.size(), 256, [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) risks[i] = scorer.score(result.findings[i]);
  });
  for (std::size_t i = 0; i < risks.size(); ++i) result.findings[i].risk = std::move(risks[i]);
}

std::string fill_why(std::string_view tmpl, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(tmpl.size() + 32);
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      const auto close = tmpl.find('}', i + 1);
      if (close != std::string_view::npos) {
        auto it = vars.find(std::string(tmpl.substr(i + 1, close - i - 1)));
        if (it != vars.end()) {
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out += tmpl[i];
  }
  return out;
}

}  // namespace keyward::rules
