// SPDX-License-Identifier: Apache-2.0
#include <keyward/reporters/text.hpp>

#include <keyward/rules/rank.hpp>

#include "describe.hpp"

#include <keyward/scanner/finding_json.hpp>

#include <keyward/common/terminal.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>

namespace keyward::reporters {
namespace {

using scanner::CertFacts;
using scanner::Finding;
using scanner::Kind;

struct Style {
  bool on;
  std::string wrap(std::string_view code, std::string_view s) const {
    if (!on) return std::string(s);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, s);
  }
  std::string red(std::string_view s) const { return wrap("1;31", s); }
  std::string yellow(std::string_view s) const { return wrap("33", s); }
  std::string magenta(std::string_view s) const { return wrap("1;35", s); }
  std::string bold(std::string_view s) const { return wrap("1", s); }
  std::string dim(std::string_view s) const { return wrap("2", s); }
};

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string key_type(const scanner::KeyFacts& k) {
  if (k.algorithm.empty()) return "key (type hidden until decrypted)";
  std::string s = common::terminal_safe(upper(k.algorithm));  // an OpenSSH container names its own
  if (!k.curve.empty()) s += " " + common::terminal_safe(k.curve);
  else if (k.bits && k.algorithm.find("ed") == std::string::npos) s += fmt::format(" {}", *k.bits);
  return s;
}

// Every string that came from the scanned machine (names, subjects, aliases, owners) goes through
// terminal_safe: a file named with escape sequences or a newline must not drive the terminal.
std::string where(const Finding& f) {
  std::string s = common::terminal_safe(f.location.path);
  if (!f.location.host.empty()) s = common::terminal_safe(f.location.host) + ":" + s;  // a remote scan's host
  if (!f.location.member.empty()) s += "!" + common::terminal_safe(f.location.member);
  if (f.location.line != 0) s += fmt::format(":{}", f.location.line);
  return s;
}

std::string date(std::int64_t t) { return scanner::rfc3339(t).substr(0, 10); }

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string cert_line(const CertFacts& c, const Style& st) {
  std::string s = c.subject.empty() ? std::string("(no subject)") : common::terminal_safe(c.subject);
  if (c.self_signed) s += "  self-signed";
  else s += "  issued by " + common::terminal_safe(c.issuer);
  const std::int64_t t = now();
  if (c.not_after < t) s += "  " + st.yellow("expired " + date(c.not_after));
  else if (c.not_after < t + 30 * 86400) s += "  " + st.yellow("expires " + date(c.not_after));
  else s += "  valid until " + date(c.not_after);
  if (c.code_signing()) s += "  " + st.magenta("[code signing]");
  if (c.is_ca) s += "  [CA]";
  return s;
}

std::string severity_tag(const Finding& f, const Style& st) {
  if (!f.risk) return {};
  std::string sev = upper(f.risk->severity);
  std::string tag = fmt::format("[{} {}]", sev, f.risk->score);
  if (f.risk->severity == "critical" || f.risk->severity == "high") tag = st.red(tag);
  else if (f.risk->severity == "medium") tag = st.yellow(tag);
  else tag = st.dim(tag);
  return tag + " ";
}

std::string explanation(const Finding& f, const Style& st) {
  if (!f.risk) return {};
  std::string out;
  for (const auto& x : f.risk->factors) out += fmt::format("      {:+4d}  {}  {}\n", x.points, st.bold(x.id), x.why);
  if (!f.risk->remediation.empty()) out += "      fix: " + f.risk->remediation + "\n";
  return out;
}

std::string store_line(const Finding& f, const Style& st) {
  const scanner::StoreFacts& s = *f.store;
  std::string line = std::string(scanner::to_string(f.format));
  if (s.truststore) line += "  trust store (no private key)";
  if (s.opened) {
    if (!s.password_exposed_in.empty())
      line += "  " + st.red("opened with the password in " + common::terminal_safe(s.password_exposed_in));
    else if (s.weak_password) line += "  " + st.red("opened by a common or empty password");
    else line += "  opened";
  } else {
    line += "  " + st.yellow("locked (password not found)");
  }
  const auto n = f.store_counts();  // chains counted; JCEKS secret keys named as such (issue 13)
  line += "  ";
  if (s.contents_unknown() && n.private_keys == 0 && n.secret_keys == 0)
    line += st.yellow("encrypted contents unknown (may hold a private key)") + ", ";
  if (n.private_keys != 0 || n.secret_keys == 0) line += detail::counted(n.private_keys, "key") + ", ";
  if (n.secret_keys != 0) line += detail::counted(n.secret_keys, "secret key") + ", ";
  line += detail::counted(n.certificates, "certificate");
  if (!s.weaknesses.empty()) {
    std::string w;
    for (const auto& x : s.weaknesses) w += (w.empty() ? "" : ", ") + x;
    line += "  " + st.yellow("weak protection: " + w);
  }
  return line;
}

std::string store_entries(const Finding& f, const Style& st) {
  std::string out;
  for (const auto& e : f.entries) {
    if (e.kind != Kind::private_key) continue;
    out += e.secret_key() ? "    secret key" : "    key";
    if (!e.alias.empty()) out += " \"" + common::terminal_safe(e.alias) + "\"";
    if (e.key && !e.secret_key()) out += "  " + key_type(*e.key);
    if (e.certificate) {
      out += "\n      " + cert_line(*e.certificate, st);
      if (e.certificate->code_signing()) out += "\n      " + st.magenta("CODE-SIGNING KEY");
    }
    out += "\n";
  }
  return out;
}

std::string short_id(const Finding& f, std::size_t n) { return f.id.substr(0, std::min(n, f.id.size())); }

// Whether the text filters (--min-severity, --kind) let a finding be listed.
bool listed(const Finding& f, const TextOptions& o) {
  if (!o.kinds.empty() && std::find(o.kinds.begin(), o.kinds.end(), f.kind) == o.kinds.end()) return false;
  if (!o.min_severity) return true;
  const auto sev = f.risk ? rules::parse_severity(f.risk->severity) : std::nullopt;
  return sev.value_or(rules::Severity::info) >= *o.min_severity;
}

bool exposure(Kind k) { return k == Kind::private_key || k == Kind::keystore; }

// One text report: the summary first, then exposures (private keys and key stores) in one list
// ranked by rules::ranks_before, then inventory (certificates, public keys) ranked the same way,
// then the scan's statistics.
class TextReport {
 public:
  TextReport(const scanner::ScanResult& r, const TextOptions& o)
      : r_(r), o_(o), st_{o.color}, id_len_(short_id_length(r.findings)) {
    for (const auto& f : r.findings) by_id_.emplace(f.id, &f);
  }

  std::string render() {
    classify();
    std::string out = summary() + "\n";
    out += section("Exposures: private keys and key stores, riskiest first", exposures_, true);
    out += section("Certificates", inventory_[Kind::certificate], false);
    out += section("Public keys and requests", inventory_[Kind::public_key], false);
    if (truststores_ != 0)
      out +=
          fmt::format("Trust stores without private keys: {} (inventory, not listed; --list-trust-store shows them)\n",
                      truststores_);
    if (trust_listed_out_ != 0)
      out += fmt::format("Trust-store certificates: {} (inventory, not listed; --list-trust-store shows them)\n\n",
                         trust_listed_out_);
    out += scan_statistics();
    return out;
  }

 private:
  // Counts every finding (severities, kinds, suppressed, unlisted trust), then keeps those the
  // filters let through, ranked.
  void classify() {
    for (const auto& f : r_.findings) {
      if (f.suppressed) {
        ++suppressed_;
        if (!o_.show_suppressed) continue;
      } else if (f.risk) {
        ++by_severity_[f.risk->severity];
      }
      if (f.certificate && f.certificate->trust_store && !o_.list_trust_store) {
        ++trust_listed_out_;
        continue;
      }
      if (f.store && f.store->truststore && !o_.list_trust_store) {
        ++truststores_;
        continue;
      }
      count(f);
      if (!listed(f, o_)) ++hidden_;
      else if (exposure(f.kind)) exposures_.push_back(&f);
      else inventory_[f.kind].push_back(&f);
    }
    const auto rank = [](const Finding* a, const Finding* b) { return rules::ranks_before(*a, *b); };
    std::sort(exposures_.begin(), exposures_.end(), rank);
    for (auto& [kind, list] : inventory_) std::sort(list.begin(), list.end(), rank);
  }

  // The summary's counts of one finding, whether the filters list it or not.
  void count(const Finding& f) {
    ++kinds_[f.kind];
    if (f.kind == Kind::private_key && f.key && !f.key->encrypted) ++unencrypted_;
    if (f.kind == Kind::certificate && f.certificate && f.certificate->code_signing()) ++code_signing_certs_;
    if (f.kind == Kind::private_key && paired_code_signing(f)) ++code_signing_keys_;
    if (f.kind == Kind::keystore)
      for (const auto& e : f.entries)
        if (e.kind == Kind::private_key && e.certificate && e.certificate->code_signing()) ++code_signing_keys_;
  }

  bool paired_code_signing(const Finding& f) const {
    for (const auto& id : f.paired_with) {
      auto it = by_id_.find(id);
      if (it != by_id_.end() && it->second->certificate && it->second->certificate->code_signing()) return true;
    }
    return false;
  }

  // A titled list. Copies of one certificate (the same SHA-256) are one entry with a count.
  std::string section(std::string_view title, const std::vector<const Finding*>& list, bool with_kind) {
    if (list.empty()) return {};
    std::string body;
    std::map<std::string, std::size_t> copies;  // certificate SHA-256 -> copies beyond the first
    std::vector<const Finding*> shown;
    for (const Finding* f : list) {
      if (f->certificate && !f->certificate->sha256.empty() && copies.count(f->certificate->sha256) != 0) {
        ++copies[f->certificate->sha256];
        continue;
      }
      if (f->certificate && !f->certificate->sha256.empty()) copies[f->certificate->sha256] = 0;
      shown.push_back(f);
    }
    for (const Finding* f : shown) {
      body += finding(*f, with_kind);
      if (f->certificate && !f->certificate->sha256.empty() && copies[f->certificate->sha256] != 0)
        body +=
            st_.dim(fmt::format("    + {} more cop{} of this certificate (same SHA-256) elsewhere in this scan",
                                copies[f->certificate->sha256], copies[f->certificate->sha256] == 1 ? "y" : "ies")) +
            "\n";
    }
    return st_.bold(fmt::format("{} ({})", title, list.size())) + "\n" + body + "\n";
  }

  // The lines of one finding: rank, short id, where, what, its file's mode and owner, then what
  // goes with it.
  std::string finding(const Finding& f, bool with_kind) {
    const Kind kind = f.kind;
    std::string line = "  " + severity_tag(f, st_) + st_.bold(short_id(f, id_len_)) + "  ";
    if (with_kind) line += std::string(kind == Kind::keystore ? "key store" : "private key") + "  ";
    line += where(f);
    if (f.suppressed)
      line += "  " + st_.dim("(suppressed: " + f.suppressed->kind + ", " +
                             common::terminal_safe(f.suppressed->justification) + ")");
    if (f.git) line += st_.dim("  (commit " + f.git->commit.substr(0, 12) + ", " + date(f.git->author_date) + ")");
    line += "\n    " + facts(kind, f);
    // A raw DER key inside a binary file (docs/findings.md "encoding"): say where in the file.
    if (f.encoding == "embedded") line += fmt::format("  (DER embedded at byte {})", f.location.offset);
    else if (!f.encoding.empty()) line += "  (" + f.encoding + " in text)";
    line +=
        st_.dim(fmt::format("  mode {:04o} {}", f.file.mode,
                            f.file.owner.empty() ? std::to_string(f.file.uid) : common::terminal_safe(f.file.owner)));
    line += "\n";
    if (o_.explain) line += explanation(f, st_);
    if (kind == Kind::keystore) line += store_entries(f, st_);
    if (kind == Kind::private_key) line += pairings(f);
    else if (kind == Kind::certificate && !f.paired_with.empty())
      line += fmt::format("    paired with {} private key(s) in this scan\n", f.paired_with.size());
    return line;
  }

  // Type and format, and for a private key how it is protected.
  std::string facts(Kind kind, const Finding& f) {
    std::string line;
    if (f.key) {
      line += key_type(*f.key) + "  " + std::string(scanner::to_string(f.format));
      if (kind == Kind::private_key) {
        if (f.key->encrypted) {
          line += "  " + st_.yellow("encrypted");
          if (f.key->protection && !f.key->protection->cipher.empty()) line += " (" + f.key->protection->cipher + ")";
        } else {
          line += "  " + st_.red("NOT ENCRYPTED");
        }
        if (f.key->weak_password) line += "  " + st_.red("weak password");
        if (!f.key->password_exposed_in.empty())
          line += "  " + st_.red("password in " + common::terminal_safe(f.key->password_exposed_in));
      }
    } else if (f.store) {
      line += store_line(f, st_);
    } else if (f.certificate) {
      line += std::string(scanner::to_string(f.format)) + "  " + cert_line(*f.certificate, st_);
    } else {
      line += std::string(scanner::to_string(f.format));
    }
    return line;
  }

  // A private key's code-signing mark and the certificates paired with it: copies of one
  // certificate (the same SHA-256) are one line with a count.
  std::string pairings(const Finding& f) const {
    std::string line;
    if (paired_code_signing(f)) line += "    " + st_.magenta("CODE-SIGNING KEY") + "\n";
    std::vector<std::pair<const Finding*, std::size_t>> certs;  // first copy, number of copies
    for (const auto& id : f.paired_with) {
      auto p = by_id_.find(id);
      if (p == by_id_.end() || !p->second->certificate) continue;
      const std::string& sha = p->second->certificate->sha256;
      auto same = std::find_if(certs.begin(), certs.end(),
                               [&](const auto& c) { return !sha.empty() && c.first->certificate->sha256 == sha; });
      if (same != certs.end()) ++same->second;
      else certs.emplace_back(p->second, 1);
    }
    for (const auto& [cert, n] : certs) {
      line += "    paired with certificate " + where(*cert);
      if (n > 1) line += fmt::format(" and {} more cop{} of it", n - 1, n == 2 ? "y" : "ies");
      line += "\n      " + cert_line(*cert->certificate, st_) + "\n";
    }
    return line;
  }

  std::size_t count(Kind k) const {
    auto it = kinds_.find(k);
    return it == kinds_.end() ? std::size_t{0} : it->second;
  }

  // "Summary: ...", every severity band, what the filters hide and the suppressed count.
  std::string summary() const {
    std::string summary = fmt::format("{} private key{} ({} not encrypted)", count(Kind::private_key),
                                      count(Kind::private_key) == 1 ? "" : "s", unencrypted_);
    summary += fmt::format(", {} certificate{}", count(Kind::certificate) + trust_listed_out_,
                           count(Kind::certificate) + trust_listed_out_ == 1 ? "" : "s");
    if (code_signing_certs_ != 0) summary += fmt::format(" ({} code-signing)", code_signing_certs_);
    if (count(Kind::keystore) != 0) summary += fmt::format(", {} key stores", count(Kind::keystore));
    summary += fmt::format(", {} public keys", count(Kind::public_key));
    // Counted over key files and store entries alike: each is a signing key outside hardware.
    if (code_signing_keys_ != 0)
      summary += fmt::format("; {} code-signing key{} in files or stores", code_signing_keys_,
                             code_signing_keys_ == 1 ? "" : "s");
    std::string out = st_.bold("Summary: ") + summary + "\n";
    if (!by_severity_.empty()) {
      std::string sev = "By severity:";
      for (const char* name : {"critical", "high", "medium", "low", "info"}) {
        auto it = by_severity_.find(name);
        sev += fmt::format(" {} {},", name, it == by_severity_.end() ? 0 : it->second);
      }
      sev.pop_back();
      out += sev + "\n";
    }
    if (hidden_ != 0)
      out += st_.yellow(fmt::format("Hidden by --min-severity/--kind: {} (counted above, not listed below)", hidden_)) +
             "\n";
    if (suppressed_ != 0)
      out += fmt::format("Suppressed (allowed, baselined or ignored; still listed): {}\n", suppressed_);
    return out;
  }

  // What was scanned, skipped, rejected and could not be read.
  std::string scan_statistics() const {
    std::string out;
    std::string scanned = fmt::format("Scanned {} of {} files, {}, {} directories", r_.stats.files_scanned,
                                      r_.stats.files_seen, human_bytes(r_.stats.bytes_scanned), r_.stats.dirs_seen);
    if (r_.stats.files_cached != 0 || r_.stats.dirs_cached != 0)
      scanned += fmt::format(" ({} files and {} directories unchanged, from the cache)", r_.stats.files_cached,
                             r_.stats.dirs_cached);
    if (o_.seconds > 0) scanned += fmt::format(" in {:.2f} s", o_.seconds);
    if (!r_.complete) scanned += "  " + st_.yellow("(INCOMPLETE: scan was interrupted)");
    out += scanned + "\n";
    if (!r_.stats.skipped.empty()) {
      std::string s = "Skipped:";
      for (const auto& [reason, n] : r_.stats.skipped) s += fmt::format(" {} {},", reason, n);
      s.pop_back();
      out += s + "\n";
    }
    if (!r_.stats.rejected.empty()) {
      std::string s = "Not keys (look-alike blocks that did not validate):";
      for (const auto& [family, n] : r_.stats.rejected) s += fmt::format(" {} {},", family, n);
      s.pop_back();
      out += s + "\n";
    }
    if (r_.stats.errors != 0) {
      out +=
          st_.yellow(fmt::format("Errors: {} (files or directories that could not be read)", r_.stats.errors)) + "\n";
      std::size_t shown = 0;
      for (const auto& e : r_.errors) {
        if (++shown > 5) {
          out += fmt::format("  ... and {} more (see --format json)\n", r_.errors.size() - 5);
          break;
        }
        out += "  " + common::terminal_safe(e.path) + ": " + common::terminal_safe(e.what) + "\n";
      }
    }
    return out;
  }

  const scanner::ScanResult& r_;
  const TextOptions& o_;
  const Style st_;
  std::unordered_map<std::string, const Finding*> by_id_;
  const std::size_t id_len_;
  std::vector<const Finding*> exposures_;
  std::map<Kind, std::vector<const Finding*>> inventory_;
  std::map<Kind, std::size_t> kinds_;
  std::map<std::string, std::size_t> by_severity_;
  std::size_t trust_listed_out_ = 0, truststores_ = 0, suppressed_ = 0, hidden_ = 0;
  std::size_t unencrypted_ = 0, code_signing_keys_ = 0, code_signing_certs_ = 0;
};

}  // namespace

std::size_t short_id_length(const std::vector<scanner::Finding>& findings) {
  std::vector<std::string_view> ids;
  ids.reserve(findings.size());
  std::size_t longest = 0;
  for (const auto& f : findings) {
    ids.push_back(f.id);
    longest = std::max(longest, f.id.size());
  }
  std::sort(ids.begin(), ids.end());
  std::size_t n = 8;  // one more than the longest prefix two neighbours share
  for (std::size_t i = 1; i < ids.size(); ++i) {
    const auto diff = std::mismatch(ids[i - 1].begin(), ids[i - 1].end(), ids[i].begin(), ids[i].end());
    n = std::max(n, static_cast<std::size_t>(diff.first - ids[i - 1].begin()) + 1);
  }
  return std::min(n, std::max<std::size_t>(longest, 1));
}

std::string render_text(const scanner::ScanResult& r, const TextOptions& o) { return TextReport(r, o).render(); }

}  // namespace keyward::reporters
