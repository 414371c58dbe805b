// SPDX-License-Identifier: Apache-2.0
// SqlStore, inventory queries: hosts, findings (filtered, paged), key identities with their
// places, expiring certificates. Reads only; every value is a bound parameter.
#include "store/sql_store.hpp"

#include "store/sql_queries.hpp"

#include "store/fleet_risk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <variant>

namespace keyward::collector::detail {
namespace {

constexpr const char* kFindingColumns =
    "p.place_id, p.agent_id, a.hostname, p.identity, p.status, p.first_seen, "
    "CASE WHEN p.resolved_at = 0 THEN GREATEST(p.last_seen, a.snapshot_at) ELSE p.last_seen END, p.resolved_at, "
    "p.exception_id, p.finding_json, p.risk, COALESCE(i.key_hosts, 0), COALESCE(i.package_hosts, 0)";
// The joins kFindingColumns reads (the host's name and snapshot time, the identity's counts).
constexpr const char* kFindingJoins =
    "JOIN agents a ON a.id = p.agent_id LEFT JOIN identities i ON i.identity = p.identity";

FindingRow finding_row(const Stmt& st) {
  FindingRow r;
  r.place_id = st.text(0);
  r.agent_id = st.text(1);
  r.hostname = st.text(2);
  r.identity = st.text(3);
  r.status = st.text(4);
  r.first_seen = st.integer(5);
  r.last_seen = st.integer(6);
  r.resolved_at = st.integer(7);
  r.exception_id = st.text(8);
  r.finding = parse_json(st.text(9));
  // The fleet risk is kept apart from the finding (rescoring writes it alone); a place not
  // rescored since schema 3 still has it inside its finding.
  if (const std::string risk = st.text(10); !risk.empty()) r.finding["risk"] = parse_json(risk);
  if (auto risk = r.finding.find("risk"); risk != r.finding.end())
    fill_fleet_counts(*risk, static_cast<std::uint64_t>(st.integer(11)), static_cast<std::uint64_t>(st.integer(12)));
  return r;
}

using Param = QueryParam;

void bind_params(Stmt& st, const std::vector<Param>& params) {
  int i = 0;
  for (const auto& p : params) {
    ++i;
    if (const auto* s = std::get_if<std::string>(&p)) st.bind(i, *s);
    else st.bind(i, std::get<std::int64_t>(p));
  }
}

int kind_rank(std::string_view kind) {
  if (kind == "private_key") return 4;
  if (kind == "keystore") return 3;
  if (kind == "certificate") return 2;
  return 1;
}

std::int64_t sql_limit(std::uint64_t limit) {
  return static_cast<std::int64_t>(std::clamp<std::uint64_t>(limit, 1, 1000));
}

std::int64_t sql_offset(std::uint64_t offset) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(offset, INT64_MAX));
}

// The WHERE clause of a findings query (fixed SQL fragments on the places p only) and its
// parameters.
std::string findings_where(const FindingQuery& q, std::vector<Param>& params) {
  std::string where = "WHERE 1 = 1";
  if (!q.host.empty()) {
    // Agent ids first, so that the places are read through their agent's index.
    where += " AND p.agent_id IN (SELECT id FROM agents WHERE id = ? OR hostname = ?)";
    params.emplace_back(q.host);
    params.emplace_back(q.host);
  }
  if (!q.severity.empty()) {
    // By its rank, written with it: (status, severity_rank) is the head of places_status_rank, so
    // one band's places are counted and paged from the index (the name is not in it).
    const int rank = severity_rank(q.severity);
    where += " AND p.severity_rank = ?";
    params.emplace_back(static_cast<std::int64_t>(rank < 0 ? 99 : rank));
  }
  if (!q.min_severity.empty()) {
    const int rank = severity_rank(q.min_severity);
    where += " AND p.severity_rank >= ?";
    params.emplace_back(static_cast<std::int64_t>(rank < 0 ? 99 : rank));
  }
  if (!q.kind.empty()) {
    where += " AND p.kind = ?";
    params.emplace_back(q.kind);
  }
  if (!q.identity.empty()) {
    where += " AND p.identity = ?";  // index places_identity
    params.emplace_back(q.identity);
  }
  if (q.status != "all") {
    where += " AND p.status = ?";
    params.emplace_back(q.status.empty() ? std::string("open") : q.status);
  }
  return where;
}

// The first kKeyPlaces places of a key identity (present ones first) and how many are present;
// the most telling present one listed sets its kind.
void load_key_places(Db& db, KeyRow& k) {
  Stmt st = db.prepare(
      "SELECT p.agent_id, a.hostname, p.path, p.member, p.finding_id, p.status, p.kind, p.algorithm, p.bits, "
      "p.resolved_at FROM places p JOIN agents a ON a.id = p.agent_id WHERE p.identity = ? "
      "ORDER BY p.resolved_at != 0, a.hostname, p.path, p.member, p.place_id LIMIT ?");
  st.bind_all(k.identity, static_cast<std::int64_t>(kKeyPlaces));
  int best = 0;
  while (st.step()) {
    k.places.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5)});
    const int rank = kind_rank(st.text(6));
    if (st.integer(9) == 0 && rank > best) {
      best = rank;
      k.kind = st.text(6);
      k.algorithm = st.text(7);
      k.bits = st.is_null(8) ? std::nullopt : std::optional<std::uint32_t>(static_cast<std::uint32_t>(st.integer(8)));
    }
  }
  Stmt count = db.prepare("SELECT COUNT(*) FROM places WHERE identity = ? AND resolved_at = 0");
  count.bind(1, k.identity);
  if (count.step()) k.places_total = static_cast<std::uint64_t>(count.integer(0));
  if (k.places_total <= k.places.size()) return;
  // More present places than listed: the most telling of them all sets the kind.
  Stmt kind = db.prepare(
      "SELECT p.kind, p.algorithm, p.bits FROM places p JOIN agents a ON a.id = p.agent_id "
      "WHERE p.identity = ? AND p.resolved_at = 0 ORDER BY CASE p.kind WHEN 'private_key' THEN 4 "
      "WHEN 'keystore' THEN 3 WHEN 'certificate' THEN 2 ELSE 1 END DESC, a.hostname, p.path, p.member, p.place_id "
      "LIMIT 1");
  kind.bind(1, k.identity);
  if (kind.step()) {
    k.kind = kind.text(0);
    k.algorithm = kind.text(1);
    k.bits = kind.is_null(2) ? std::nullopt : std::optional<std::uint32_t>(static_cast<std::uint32_t>(kind.integer(2)));
  }
}

}  // namespace

const char* const kRiskOrder =
    "p.severity_rank DESC, p.raw DESC, p.positive_factors DESC, p.last_seen DESC, p.place_id";

// Each agent's open places are counted in the index places_agent_status (schema 3) alone.
const char* const kHostsQuery =
    "SELECT a.id, a.hostname, a.os, a.status, a.last_report_at, "
    "(SELECT COUNT(*) FROM places p WHERE p.agent_id = a.id AND p.status = 'open'), "
    "(SELECT MAX(p.severity_rank) FROM places p WHERE p.agent_id = a.id AND p.status = 'open'), "
    "a.source, a.remote_status, a.remote_message, a.remote_scanned_at "
    "FROM agents a ORDER BY a.hostname, a.id";

std::vector<HostRow> SqlStore::hosts() {
  auto db = readers_->lease();
  std::vector<HostRow> out;
  Stmt st = db->prepare(kHostsQuery);
  while (st.step()) {
    HostRow h;
    h.agent_id = st.text(0);
    h.hostname = st.text(1);
    h.os = st.text(2);
    h.agent_status = st.text(3);
    h.last_report_at = st.integer(4);
    h.open_findings = static_cast<std::uint64_t>(st.integer(5));
    h.max_severity = st.is_null(6) ? std::string() : severity_name(st.integer(6));
    h.source = st.text(7) == "remote" ? HostSource::remote : HostSource::agent;
    h.remote = {st.text(8), st.text(9), st.integer(10)};
    out.push_back(std::move(h));
  }
  for (auto& h : out) h.tags = load_tags(*db, h.agent_id);
  return out;
}

std::string findings_count_query(const FindingQuery& q, std::vector<Param>& params) {
  // The filter names places' columns only: counting needs no join (it read an agent per place).
  return "SELECT COUNT(*) FROM places p " + findings_where(q, params);
}

std::string findings_page_query(const FindingQuery& q, std::vector<Param>& params, Dialect dialect) {
  // The page's places are chosen on their sort keys alone, then read whole: sorting every
  // matching place with its finding JSON would copy them all.
  // The total order (docs/fleet.md, "Fleet risk"): no tie at a clipped score, the place id last.
  // One host's places are found through its index and sorted (a few hundred): read in the total
  // order instead, SQLite would walk every open place of the fleet to find the host's (4.9 s at
  // a million places on 10,000 hosts). PostgreSQL's planner weighs the two by its statistics.
  const bool sqlite = dialect == Dialect::sqlite;
  const char* index = q.host.empty() || !sqlite ? "" : "INDEXED BY places_agent_status ";
  const char* row = sqlite ? "rowid" : "place_id";
  const std::string where = findings_where(q, params);
  return fmt::format(
      "SELECT {0} FROM places p {3} WHERE p.{5} IN ("
      "SELECT p.{5} FROM places p {4}{1} ORDER BY {2} LIMIT ? OFFSET ?) ORDER BY {2}",
      kFindingColumns, where, kRiskOrder, kFindingJoins, index, row);
}

Page<FindingRow> SqlStore::findings(const FindingQuery& q) {
  auto db = readers_->lease();
  Page<FindingRow> page;
  {
    std::vector<Param> params;
    Stmt st = db->prepare(findings_count_query(q, params));
    bind_params(st, params);
    if (st.step()) page.total = static_cast<std::uint64_t>(st.integer(0));
  }
  std::vector<Param> params;
  Stmt st = db->prepare(findings_page_query(q, params, db->dialect()));
  params.emplace_back(sql_limit(q.limit));
  params.emplace_back(sql_offset(q.offset));
  bind_params(st, params);
  while (st.step()) page.items.push_back(finding_row(st));
  return page;
}

void SqlStore::visit_places(const std::string& status, const std::function<void(const FindingRow&)>& visit) {
  auto db = readers_->lease();
  // In the total order, read along the index places_status_rank: one pass, no sort.
  Stmt st = db->prepare(fmt::format("SELECT {} FROM places p {} WHERE p.status = ? ORDER BY {}", kFindingColumns,
                                    kFindingJoins, kRiskOrder));
  st.bind(1, status);
  while (st.step()) visit(finding_row(st));
}

// Each identity by its riskiest present place in the total order (kept on the identity by
// rank_identity), read along the index identities_rank (the unary + keeps SQLite from choosing
// identities_spread for the hosts bound and sorting).
const char* const kKeysQuery =
    "SELECT identity, hosts, max_score, rank_severity, rank_raw, managed, exception_id, false_positive "
    "FROM identities WHERE present = 1 AND +hosts >= ? ORDER BY rank_severity DESC, rank_raw DESC, rank_positive DESC, "
    "rank_last_seen DESC, identity LIMIT ? OFFSET ?";
// Most spread first, along the index identities_spread.
const char* const kSpreadKeysQuery =
    "SELECT identity, hosts, max_score, rank_severity, rank_raw, managed, exception_id, false_positive "
    "FROM identities WHERE present = 1 AND hosts >= ? ORDER BY hosts DESC, max_score DESC, rank_raw DESC, identity "
    "LIMIT ? OFFSET ?";

Page<KeyRow> SqlStore::keys(const KeyQuery& q) {
  auto db = readers_->lease();
  Page<KeyRow> page;
  const auto min_hosts = static_cast<std::int64_t>(std::min<std::uint64_t>(q.min_hosts, INT64_MAX));
  {
    Stmt st = db->prepare("SELECT COUNT(*) FROM identities WHERE present = 1 AND hosts >= ?");
    st.bind(1, min_hosts);
    if (st.step()) page.total = static_cast<std::uint64_t>(st.integer(0));
  }
  {
    Stmt st = db->prepare(q.order == KeyQuery::Order::spread ? kSpreadKeysQuery : kKeysQuery);
    st.bind_all(min_hosts, sql_limit(q.limit), sql_offset(q.offset));
    while (st.step()) {
      KeyRow k;
      k.identity = st.text(0);
      k.hosts = static_cast<std::uint64_t>(st.integer(1));
      k.max_score = static_cast<int>(st.integer(2));
      k.max_severity = severity_name(st.integer(3));
      k.raw = static_cast<int>(st.integer(4));
      k.managed = st.integer(5) != 0;
      // As the places were last scored (the store has no clock of its own for reads).
      k.exception_id = st.text(6);
      k.false_positive = st.integer(7) != 0;
      page.items.push_back(std::move(k));
    }
  }
  for (auto& k : page.items) load_key_places(*db, k);
  return page;
}

Page<FindingRow> SqlStore::expiring_certificates(std::int64_t within_seconds, std::int64_t now, std::uint64_t limit,
                                                 std::uint64_t offset) {
  auto db = readers_->lease();
  const std::string from = std::string("FROM places p ") + kFindingJoins +
                           " WHERE p.resolved_at = 0 AND p.not_after != 0 AND p.not_after < ?";
  const std::int64_t before = now + within_seconds;
  Page<FindingRow> page;
  {
    Stmt st = db->prepare("SELECT COUNT(*) " + from);
    st.bind(1, before);
    if (st.step()) page.total = static_cast<std::uint64_t>(st.integer(0));
  }
  Stmt st =
      db->prepare(fmt::format("SELECT {} {} ORDER BY p.not_after, p.place_id LIMIT ? OFFSET ?", kFindingColumns, from));
  st.bind_all(before, sql_limit(limit), sql_offset(offset));
  while (st.step()) page.items.push_back(finding_row(st));
  return page;
}

}  // namespace keyward::collector::detail
