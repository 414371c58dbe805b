// SPDX-License-Identifier: Apache-2.0
#include "cli/report.hpp"

#include "server/config.hpp"
#include "server/json_views.hpp"

#include <keyward/common/terminal.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
#include <vector>

namespace keyward::collector::cli {
namespace {

using json = nlohmann::json;

constexpr std::array<const char*, 5> kSeverities = {"critical", "high", "medium", "low", "info"};

int severity_rank(std::string_view s) {
  for (std::size_t i = 0; i < kSeverities.size(); ++i)
    if (s == kSeverities[i]) return static_cast<int>(kSeverities.size() - i);
  return 0;
}

// ---- building --------------------------------------------------------------------------------

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A key with its unresolved places cut to kReportPlaces: the first place on each host first (a key copied
// to many hosts shows its spread, not 200 copies on one host), then the others, in store order.
json key_json(const KeyRow& k) {
  json j = to_json(k);
  json all = json::array();  // where the key is now: resolved places are history, not listed
  for (auto& p : j["places"])
    if (str(p, "status") != "resolved") all.push_back(std::move(p));
  j["places"] = all;
  j["places_total"] = k.places_total;  // present places (the store lists the first kKeyPlaces)
  if (all.size() > kReportPlaces) {
    std::vector<bool> taken(all.size(), false);
    std::vector<std::string> hosts_seen;
    json places = json::array();
    for (std::size_t i = 0; i < all.size() && places.size() < kReportPlaces; ++i) {
      const std::string host = str(all[i], "agent_id");
      if (std::find(hosts_seen.begin(), hosts_seen.end(), host) != hosts_seen.end()) continue;
      hosts_seen.push_back(host);
      taken[i] = true;
      places.push_back(all[i]);
    }
    for (std::size_t i = 0; i < all.size() && places.size() < kReportPlaces; ++i) {
      if (!taken[i]) places.push_back(all[i]);
    }
    j["places"] = std::move(places);
  }
  j["state"] = k.managed                 ? "managed"
               : k.false_positive        ? "false_positive"
               : !k.exception_id.empty() ? "excepted"
                                         : "open";
  return j;
}

json certificate_json(const FindingRow& f, std::int64_t now) {
  const json& loc = f.finding.contains("location") ? f.finding["location"] : json::object();
  const json& cert = f.finding.contains("certificate") ? f.finding["certificate"] : json::object();
  const std::string not_after = str(cert, "not_after");
  json days = nullptr;
  if (auto t = parse_rfc3339(not_after)) {
    const std::int64_t left = *t - now;
    days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
  }
  json severity = nullptr;
  if (auto it = f.finding.find("risk"); it != f.finding.end() && it->is_object() && it->contains("severity"))
    severity = (*it)["severity"];
  return json{{"agent_id", f.agent_id},
              {"hostname", f.hostname},
              {"path", str(loc, "path")},
              {"member", loc.contains("member") ? loc["member"] : json(nullptr)},
              {"subject", str(cert, "subject")},
              {"not_after", not_after.empty() ? json(nullptr) : json(not_after)},
              {"days_left", days},
              {"identity", f.identity},
              {"status", f.status},
              {"severity", severity}};
}

// The keys part of the report: the riskiest, and those found on several hosts.
struct KeySummary {
  json riskiest = json::array();
  json spread = json::array();
  std::uint64_t spread_total = 0, total = 0;
};

KeySummary summarise_keys(Store& store, std::size_t top) {
  // Two short pages, each read along its index: the riskiest keys, and the most spread ones
  // (the spread count is that page's total).
  KeySummary out;
  KeyQuery q;
  q.limit = top;
  Page<KeyRow> riskiest = store.keys(q);
  out.total = riskiest.total;
  for (const auto& k : riskiest.items) out.riskiest.push_back(key_json(k));
  q.order = KeyQuery::Order::spread;
  q.min_hosts = 2;
  Page<KeyRow> spread = store.keys(q);
  out.spread_total = spread.total;
  for (const auto& k : spread.items) out.spread.push_back(key_json(k));
  return out;
}

}  // namespace

json build_report(Store& store, const ReportOptions& o) {
  const std::size_t top = std::max<std::size_t>(o.top, 1);
  const StoreCounts counts = store.counts();

  std::vector<HostRow> hosts = store.hosts();
  std::stable_sort(hosts.begin(), hosts.end(), [](const HostRow& a, const HostRow& b) {
    const int ra = severity_rank(a.max_severity), rb = severity_rank(b.max_severity);
    if (ra != rb) return ra > rb;
    return a.open_findings > b.open_findings;
  });
  json host_items = json::array();
  for (const auto& h : hosts) host_items.push_back(to_json(h));

  json by_severity = json::object();
  for (const char* s : kSeverities) {
    FindingQuery q;
    q.status = "open";
    q.severity = s;
    q.limit = 1;
    by_severity[s] = store.findings(q).total;
  }

  const KeySummary keys = summarise_keys(store, top);

  const Page<FindingRow> certs = store.expiring_certificates(o.expiring_within, o.now, top, 0);
  json cert_items = json::array();
  for (const auto& f : certs.items) cert_items.push_back(certificate_json(f, o.now));

  const std::uint64_t last_seq = counts.events;
  const std::uint64_t since = last_seq > top ? last_seq - top : 0;
  json event_items = json::array();
  if (last_seq > 0)
    for (const auto& e : store.events(since, top)) event_items.push_back(to_json(e));

  return json{
      {"schema", "keyward.fleet-report/v1"},
      {"generated_at", rfc3339(o.now)},
      {"top", top},
      {"summary",
       {{"hosts", hosts.size()},
        {"hosts_reported", counts.hosts},
        {"agents_approved", counts.agents_approved},
        {"agents_pending", counts.agents_pending},
        {"agents_revoked", counts.agents_revoked},
        {"open_findings", counts.open_findings},
        {"resolved_findings", counts.resolved_findings},
        {"excepted_findings", counts.excepted_findings},
        {"false_positive_findings", counts.false_positive_findings},
        {"keys", keys.total},
        {"reports", counts.reports},
        {"held_reports", counts.held_reports}}},
      {"hosts", host_items},
      {"open_findings_by_severity", by_severity},
      {"keys",
       {{"total", keys.total},
        {"on_several_hosts", {{"total", keys.spread_total}, {"items", keys.spread}}},
        {"riskiest", keys.riskiest}}},
      {"expiring_certificates",
       {{"within_days", o.expiring_within / 86400}, {"total", certs.total}, {"items", cert_items}}},
      {"events", {{"last_seq", last_seq}, {"items", event_items}}},
  };
}

// ---- text ------------------------------------------------------------------------------------
namespace {

// Columns a UTF-8 string takes (code points; good enough for names and paths).
std::size_t width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

// At most n columns: the head and "...".
std::string clip(const std::string& s, std::size_t n) {
  if (width(s) <= n) return s;
  std::string out;
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xc0) != 0x80 && ++cols > n - 3) break;
    out += static_cast<char>(c);
  }
  return out + "...";
}

std::string text(const json& j, const char* key, const char* none = "-") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return none;
  if (it->is_string()) return it->get<std::string>().empty() ? none : common::terminal_safe(it->get<std::string>());
  return it->dump();
}

std::uint64_t number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// "spki:0a1b2c3d4e5f6a7b": an identity's kind and its first 16 hex digits (the JSON has all).
std::string short_identity(const std::string& id) {
  const auto colon = id.find(':');
  if (colon == std::string::npos) return common::terminal_safe(id.substr(0, 21));
  return common::terminal_safe(id.substr(0, colon + 1 + 16));
}

// Rows of cells, printed with two spaces before and between columns; the last column is not
// padded (it holds the long things: paths, place lists).
class Table {
 public:
  Table(std::vector<std::string> header, std::vector<bool> right) : right_(std::move(right)) {
    rows_.push_back(std::move(header));
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::string& out) const {
    std::vector<std::size_t> w(rows_[0].size(), 0);
    for (const auto& r : rows_)
      for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    for (const auto& r : rows_) {
      std::string line = "  ";
      for (std::size_t i = 0; i < r.size(); ++i) {
        const std::size_t pad = w[i] - width(r[i]);
        const bool last = i + 1 == r.size();
        if (right_[i]) line += std::string(pad, ' ') + r[i];
        else line += last ? r[i] : r[i] + std::string(pad, ' ');
        if (!last) line += "  ";
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// "1 host", "3 hosts".
std::string counted(std::uint64_t n, const char* noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

std::string heading(const std::string& title, std::uint64_t shown, std::uint64_t total) {
  if (shown >= total) return fmt::format("\n{} ({})\n", title, total);
  return fmt::format("\n{} (top {} of {})\n", title, shown, total);
}

std::string places_text(const json& key) {
  std::string out;
  const json& places = key.contains("places") ? key["places"] : json::array();
  std::size_t shown = 0;  // places covered by what is printed (two places in one file print once)
  std::vector<std::string> printed;
  for (const auto& p : places) {
    std::string place = text(p, "hostname") + ":" + text(p, "path");
    if (p.contains("member") && p["member"].is_string()) place += "!" + text(p, "member");
    if (std::find(printed.begin(), printed.end(), place) == printed.end()) {
      if (printed.size() == 2) break;
      out += (out.empty() ? "" : ", ") + place;
      printed.push_back(std::move(place));
    }
    ++shown;
  }
  const std::uint64_t total = number(key, "places_total");
  if (total > shown) out += fmt::format(" (+{} more)", total - shown);
  return out.empty() ? "-" : out;
}

void key_table(std::string& out, const json& items) {
  Table t({"HOSTS", "SEVERITY", "SCORE", "RAW", "KIND", "ALGORITHM", "STATE", "IDENTITY", "PLACES"},
          {true, false, true, true, false, false, false, false, false});
  for (const auto& k : items) {
    std::string alg = text(k, "algorithm");
    if (k.contains("bits") && k["bits"].is_number()) alg += " " + k["bits"].dump();
    t.add({std::to_string(number(k, "hosts")), text(k, "max_severity"), k.value("max_score", json(0)).dump(),
           k.value("raw", json(0)).dump(), text(k, "kind"), alg, text(k, "state"),
           short_identity(k.value("identity", std::string())), places_text(k)});
  }
  t.print(out);
}

std::string event_what(const json& e) {
  const json& d = e.contains("detail") && e["detail"].is_object() ? e["detail"] : json::object();
  const std::string type = e.value("type", std::string());
  std::string what;
  if (d.contains("path")) {
    what = text(d, "path");
    if (d.contains("member")) what += "!" + text(d, "member");
    if (d.contains("severity")) what += " (" + text(d, "severity") + ")";
  } else if (type.rfind("exception_", 0) == 0) {
    what = short_identity(e.value("identity", std::string()));
    if (d.contains("reason")) what += ": " + clip(text(d, "reason"), 60);
    if (d.contains("approved_by")) what += " by " + text(d, "approved_by");
  } else if (d.contains("os")) {
    what = text(d, "os");
  }
  return what.empty() ? "-" : what;
}

void hosts_section(std::string& out, const json& hosts) {
  out += heading("Hosts", hosts.size(), hosts.size());
  if (hosts.empty()) {
    out += "  none yet: enroll an agent (docs/fleet.md)\n";
    return;
  }
  Table t({"HOSTNAME", "AGENT", "STATUS", "TAGS", "OPEN", "WORST", "LAST REPORT"},
          {false, false, false, false, true, false, false});
  for (const auto& h : hosts) {
    std::string tags;
    for (const auto& tag : h.value("tags", json::array()))
      if (tag.is_string()) tags += (tags.empty() ? "" : ",") + common::terminal_safe(tag.get<std::string>());
    t.add({clip(text(h, "hostname"), 40), text(h, "agent_id"), text(h, "agent_status"), tags.empty() ? "-" : tags,
           std::to_string(number(h, "open_findings")), text(h, "max_severity"), text(h, "last_report_at", "never")});
  }
  t.print(out);
}

void certificates_section(std::string& out, const json& certs) {
  out += heading(fmt::format("Certificates expiring within {} days", certs.value("within_days", 30)),
                 certs.at("items").size(), number(certs, "total"));
  if (certs.at("items").empty()) {
    out += "  none\n";
    return;
  }
  Table t({"NOT AFTER", "DAYS", "HOSTNAME", "SUBJECT", "PATH"}, {false, true, false, false, false});
  for (const auto& c : certs.at("items")) {
    std::string days = "-";
    if (c.contains("days_left") && c["days_left"].is_number_integer()) {
      const auto d = c["days_left"].get<std::int64_t>();
      days = d < 0 ? "expired" : std::to_string(d);
    }
    std::string path = text(c, "path");
    if (c.contains("member") && c["member"].is_string()) path += "!" + text(c, "member");
    t.add({text(c, "not_after"), days, clip(text(c, "hostname"), 30), clip(text(c, "subject"), 48), path});
  }
  t.print(out);
}

}  // namespace

std::string render_report_text(const json& r) {
  std::string out;
  const json& s = r.at("summary");
  out += fmt::format("keyward fleet report, {}\n", text(r, "generated_at"));
  out += fmt::format("{} ({} approved, {} pending, {} revoked), {}, {}, {} stored", counted(number(s, "hosts"), "host"),
                     number(s, "agents_approved"), number(s, "agents_pending"), number(s, "agents_revoked"),
                     counted(number(s, "open_findings"), "open finding"), counted(number(s, "keys"), "key"),
                     counted(number(s, "reports"), "report"));
  if (number(s, "held_reports") > 0)
    out += fmt::format(", {} held until approval", counted(number(s, "held_reports"), "report"));
  if (number(s, "excepted_findings") + number(s, "false_positive_findings") > 0)
    out += fmt::format("; not open: {} excepted, {} false positive", number(s, "excepted_findings"),
                       number(s, "false_positive_findings"));
  out += "\n";

  out += "\nOpen findings by severity\n";
  {
    Table t({"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}, {true, true, true, true, true});
    const json& b = r.at("open_findings_by_severity");
    t.add({std::to_string(number(b, "critical")), std::to_string(number(b, "high")),
           std::to_string(number(b, "medium")), std::to_string(number(b, "low")), std::to_string(number(b, "info"))});
    t.print(out);
  }

  hosts_section(out, r.at("hosts"));

  const json& keys = r.at("keys");
  const json& spread = keys.at("on_several_hosts");
  out += heading("Keys on several hosts", spread.at("items").size(), number(spread, "total"));
  if (spread.at("items").empty()) out += "  none: no key is open on more than one host\n";
  else key_table(out, spread.at("items"));

  out += heading("Riskiest keys", keys.at("riskiest").size(), number(keys, "total"));
  if (keys.at("riskiest").empty()) out += "  none\n";
  else key_table(out, keys.at("riskiest"));

  certificates_section(out, r.at("expiring_certificates"));

  const json& events = r.at("events");
  out += heading("Last events", events.at("items").size(), number(events, "last_seq"));
  if (events.at("items").empty()) {
    out += "  none\n";
  } else {
    Table t({"SEQ", "TIME", "TYPE", "HOSTNAME", "WHAT"}, {true, false, false, false, false});
    for (const auto& e : events.at("items"))
      t.add({std::to_string(number(e, "seq")), text(e, "time"), text(e, "type"), clip(text(e, "hostname"), 30),
             event_what(e)});
    t.print(out);
  }
  return out;
}

}  // namespace keyward::collector::cli
