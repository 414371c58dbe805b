// SqliteStore: the Store on one SQLite connection (WAL, foreign keys, busy_timeout), guarded by
// one mutex: every public call holds it for its whole duration, so the server's threads share
// the store safely and each multi-statement change is one BEGIN IMMEDIATE transaction that also
// appends its audit entry. Events go to the events file after the commit.
#include "store/audit_chain.hpp"
#include "store/event_file.hpp"
#include "store/fleet_risk.hpp"
#include "store/migrations.hpp"
#include "store/secrets.hpp"
#include "store/sqlite_db.hpp"

#include <keyward/collector/store.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/rules/severity.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <variant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace keyward::collector {
namespace {

using detail::Db;
using detail::Stmt;
using detail::Transaction;
using nlohmann::json;

std::int64_t wall_clock() { return static_cast<std::int64_t>(std::time(nullptr)); }

Refusal refuse(std::string code, std::string message) { return Refusal{std::move(code), std::move(message)}; }

json parse_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

// A place's path and member for an event detail, copied from its finding JSON, which writes a
// name that is not UTF-8 (e.g. Latin-1 on an agent's host) losslessly as path + path_b64: the
// raw bytes would make json::dump throw and fail the agent's every report with a 500.
void put_location(json& detail, const json& finding) {
  auto loc = finding.find("location");
  if (loc == finding.end() || !loc->is_object()) return;
  for (const char* k : {"path", "path_b64", "member", "member_b64"})
    if (auto it = loc->find(k); it != loc->end()) detail[k] = *it;
}

int kind_rank(std::string_view kind) {
  if (kind == "private_key") return 4;
  if (kind == "keystore") return 3;
  if (kind == "certificate") return 2;
  return 1;
}

std::string severity_name(std::int64_t rank) {
  if (rank < 0 || rank > 4) return {};
  return std::string(rules::to_string(static_cast<rules::Severity>(rank)));
}

bool valid_tag(const std::string& t) {
  if (t.empty() || t.size() > 64) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

// Facts of a finding the places table keeps in columns (for queries).
struct PlaceColumns {
  std::string algorithm;
  std::optional<std::uint32_t> bits;
  std::int64_t not_after = 0;
};

PlaceColumns place_columns(const scanner::Finding& f) {
  PlaceColumns c;
  if (f.key) {
    c.algorithm = f.key->algorithm;
    c.bits = f.key->bits;
  } else if (f.certificate) {
    c.algorithm = f.certificate->key_algorithm;
    c.bits = f.certificate->key_bits;
  } else {
    for (const auto& e : f.entries) {
      if (e.kind == scanner::Kind::private_key && e.key) {
        c.algorithm = e.key->algorithm;
        c.bits = e.key->bits;
        break;
      }
    }
    if (c.algorithm.empty())
      for (const auto& e : f.entries)
        if (e.certificate) {
          c.algorithm = e.certificate->key_algorithm;
          c.bits = e.certificate->key_bits;
          break;
        }
  }
  if (f.certificate && f.certificate->not_after != 0) {
    c.not_after = f.certificate->not_after;
  } else {
    for (const auto& e : f.entries)
      if (e.certificate && e.certificate->not_after != 0 &&
          (c.not_after == 0 || e.certificate->not_after < c.not_after))
        c.not_after = e.certificate->not_after;
  }
  return c;
}

constexpr const char* kAgentColumns =
    "id, hostname, os, status, cert_sha256, cert_serial, spki_sha256, enrolled_at, approved_at, revoked_at, "
    "last_seen_at, last_report_at";

constexpr const char* kFindingColumns =
    "p.place_id, p.agent_id, a.hostname, p.identity, p.status, p.first_seen, p.last_seen, p.resolved_at, "
    "p.exception_id, p.finding_json";

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
  return r;
}

using Param = std::variant<std::string, std::int64_t>;

void bind_params(Stmt& st, const std::vector<Param>& params) {
  int i = 0;
  for (const auto& p : params) {
    ++i;
    if (const auto* s = std::get_if<std::string>(&p)) st.bind(i, *s);
    else st.bind(i, std::get<std::int64_t>(p));
  }
}

void chmod_if_exists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) != 0600 && ::chmod(path.c_str(), 0600) != 0)
    throw StoreError(fmt::format("cannot chmod 0600 {}", path));
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const std::string& events_file, const FleetOptions& fleet) : path_(path) {
    // Create the file 0600 before SQLite does (SQLite would honour the umask); SQLite gives its
    // -wal and -shm files the database file's mode.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw StoreError(fmt::format("cannot create the database {}", path));
    ::close(fd);
    chmod_files();
    db_ = std::make_unique<Db>(path);
    {
      Stmt st = db_->prepare("PRAGMA journal_mode = WAL");
      if (!st.step() || st.text(0) != "wal")
        throw StoreError(fmt::format("cannot put the database {} in WAL mode", path));
    }
    db_->exec("PRAGMA busy_timeout = 5000");
    db_->exec("PRAGMA foreign_keys = ON");
    // FULL: a report answered 202 survives a power cut (the agent has dropped it by then).
    db_->exec("PRAGMA synchronous = FULL");
    detail::migrate(*db_);
    chmod_files();

    rules_ = rules::RuleSet::builtin();
    for (const auto& dir : fleet.rules_dirs) rules_.load_dir(dir);

    if (!events_file.empty()) {
      events_ = std::make_unique<detail::EventFile>(events_file);
      flush_events();  // catch up with what a crash left out
    }
  }

  int schema_version() override {
    std::lock_guard lock(mu_);
    return static_cast<int>(db_->scalar("PRAGMA user_version"));
  }

  // ---- tokens --------------------------------------------------------------------------

  NewToken create_token(Role role, const std::string& name, std::int64_t expires_at, const Actor& by) override {
    std::lock_guard lock(mu_);
    NewToken t;
    t.secret = detail::new_secret("kwt_");
    t.info.id = detail::random_hex(8);
    t.info.role = role;
    t.info.name = name;
    t.info.created_at = wall_clock();
    t.info.expires_at = expires_at;
    Transaction tx(*db_);
    db_->prepare("INSERT INTO tokens(id, hash, role, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(t.info.id, detail::sha256_hex(t.secret), std::string(to_string(role)), name, t.info.created_at,
                  expires_at)
        .run();
    append_audit(by, "token.create", t.info.id,
                 {{"role", to_string(role)}, {"name", name}, {"expires_at", expires_at}}, t.info.created_at);
    tx.commit();
    return t;
  }

  std::optional<TokenInfo> find_token(std::string_view secret, std::int64_t now) override {
    std::lock_guard lock(mu_);
    Stmt st = db_->prepare(token_select("WHERE hash = ?"));
    st.bind(1, detail::sha256_hex(secret));
    if (!st.step()) return std::nullopt;
    TokenInfo t = token_row(st);
    if (t.revoked || (t.expires_at != 0 && t.expires_at <= now)) return std::nullopt;
    return t;
  }

  std::vector<TokenInfo> list_tokens() override {
    std::lock_guard lock(mu_);
    std::vector<TokenInfo> out;
    Stmt st = db_->prepare(token_select("ORDER BY created_at, id"));
    while (st.step()) out.push_back(token_row(st));
    return out;
  }

  Outcome<TokenInfo> revoke_token(const std::string& id, const Actor& by) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    Stmt st = db_->prepare(token_select("WHERE id = ?"));
    st.bind(1, id);
    if (!st.step()) return refuse("not_found", fmt::format("no token {}", id));
    TokenInfo t = token_row(st);
    if (t.revoked) return refuse("conflict", fmt::format("token {} is already revoked", id));
    const std::int64_t now = wall_clock();
    db_->prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?").bind_all(now, id).run();
    append_audit(by, "token.revoke", id, {{"name", t.name}, {"role", to_string(t.role)}}, now);
    tx.commit();
    t.revoked = true;
    return t;
  }

  // ---- enrollment ----------------------------------------------------------------------

  NewEnrollmentToken create_enrollment_token(std::int64_t expires_at, const Actor& by) override {
    std::lock_guard lock(mu_);
    NewEnrollmentToken t;
    t.secret = detail::new_secret("kwe_");
    t.id = detail::random_hex(8);
    t.expires_at = expires_at;
    const std::int64_t now = wall_clock();
    Transaction tx(*db_);
    db_->prepare("INSERT INTO enrollment_tokens(id, hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)")
        .bind_all(t.id, detail::sha256_hex(t.secret), now, by.id, expires_at)
        .run();
    append_audit(by, "enrollment_token.create", t.id, {{"expires_at", expires_at}}, now);
    tx.commit();
    return t;
  }

  Outcome<std::string> check_enrollment_token(std::string_view secret, std::int64_t now) override {
    std::lock_guard lock(mu_);
    return check_enrollment(secret, now);
  }

  Outcome<AgentInfo> enroll_agent(std::string_view enrollment_secret, const Enrollment& e, std::int64_t now) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    auto token = check_enrollment(enrollment_secret, now);
    if (!token) return token.error();
    if (load_agent(e.agent_id)) return refuse("conflict", fmt::format("agent {} already exists", e.agent_id));
    if (load_agent_by_cert(e.cert_sha256))
      return refuse("conflict", "an agent with this certificate already exists");
    // Consumed only if still unused: the WHERE makes a concurrent second use change nothing.
    Stmt use = db_->prepare("UPDATE enrollment_tokens SET used_at = ?, agent_id = ? WHERE id = ? AND used_at = 0");
    use.bind_all(now, e.agent_id, *token).run();
    if (db_->changes() != 1) return refuse("forbidden", "the enrollment token was already used");
    db_->prepare("INSERT INTO agents(id, hostname, os, status, cert_sha256, cert_serial, spki_sha256, enrolled_at, "
                 "last_seen_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)")
        .bind_all(e.agent_id, e.hostname, e.os, e.cert_sha256, e.cert_serial, e.spki_sha256, now, now)
        .run();
    if (!e.spki_sha256.empty())
      set_managed(e.spki_sha256, fmt::format("keyward-agent key of {} ({})", e.hostname, e.agent_id), now);
    add_event(now, "agent_enrolled", e.agent_id, {}, {}, {{"hostname", e.hostname}, {"os", e.os}});
    append_audit(Actor{"agent:" + e.agent_id, std::nullopt}, "agent.enroll", e.agent_id,
                 {{"hostname", e.hostname},
                  {"os", e.os},
                  {"cert_sha256", e.cert_sha256},
                  {"cert_serial", e.cert_serial},
                  {"spki_sha256", e.spki_sha256},
                  {"enrollment_token", *token}},
                 now);
    tx.commit();
    flush_events();
    return *load_agent(e.agent_id);
  }

  // ---- agents --------------------------------------------------------------------------

  std::optional<AgentInfo> agent(const std::string& id) override {
    std::lock_guard lock(mu_);
    return load_agent(id);
  }

  std::optional<AgentInfo> agent_by_cert(const std::string& cert_sha256) override {
    std::lock_guard lock(mu_);
    return load_agent_by_cert(cert_sha256);
  }

  std::vector<AgentInfo> list_agents() override {
    std::lock_guard lock(mu_);
    std::vector<AgentInfo> out;
    Stmt st = db_->prepare(fmt::format("SELECT {} FROM agents ORDER BY hostname, id", kAgentColumns));
    while (st.step()) out.push_back(agent_row(st));
    for (auto& a : out) a.tags = load_tags(a.id);
    return out;
  }

  Outcome<AgentInfo> approve_agent(const std::string& id, const Actor& by, std::int64_t now) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    auto a = load_agent(id);
    if (!a) return refuse("not_found", fmt::format("no agent {}", id));
    if (a->status == AgentStatus::revoked)
      return refuse("conflict", fmt::format("agent {} is revoked; a revoked agent stays revoked", id));
    if (a->status == AgentStatus::approved) return refuse("conflict", fmt::format("agent {} is already approved", id));
    db_->prepare("UPDATE agents SET status = 'approved', approved_at = ? WHERE id = ?").bind_all(now, id).run();
    add_event(now, "agent_approved", id, {}, {}, {{"hostname", a->hostname}});
    append_audit(by, "agent.approve", id, {{"hostname", a->hostname}}, now);

    // The reports held while it was pending, oldest first.
    std::vector<std::pair<std::int64_t, std::string>> held;
    {
      Stmt st = db_->prepare("SELECT id, body FROM held_reports WHERE agent_id = ? ORDER BY id");
      st.bind(1, id);
      while (st.step()) held.emplace_back(st.integer(0), st.text(1));
    }
    for (const auto& [row, body] : held) {
      auto report = protocol::parse_report(body);
      if (!report) throw StoreError(fmt::format("held report {} of agent {} is unreadable: {}", row, id,
                                                report.error().message));
      ingest_in_tx(id, *report, now, /*from_held=*/true);
      db_->prepare("DELETE FROM held_reports WHERE id = ?").bind_all(row).run();
    }
    tx.commit();
    flush_events();
    return *load_agent(id);
  }

  Outcome<AgentInfo> revoke_agent(const std::string& id, const Actor& by, std::int64_t now) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    auto a = load_agent(id);
    if (!a) return refuse("not_found", fmt::format("no agent {}", id));
    if (a->status == AgentStatus::revoked) return refuse("conflict", fmt::format("agent {} is already revoked", id));
    db_->prepare("UPDATE agents SET status = 'revoked', revoked_at = ? WHERE id = ?").bind_all(now, id).run();
    add_event(now, "agent_revoked", id, {}, {}, {{"hostname", a->hostname}});
    append_audit(by, "agent.revoke", id, {{"hostname", a->hostname}, {"was", to_string(a->status)}}, now);
    tx.commit();
    flush_events();
    return *load_agent(id);
  }

  Outcome<AgentInfo> set_agent_tags(const std::string& id, const std::vector<std::string>& tags,
                                    const Actor& by) override {
    std::lock_guard lock(mu_);
    std::set<std::string> unique;
    for (const auto& t : tags) {
      if (!valid_tag(t))
        return refuse("invalid", "a tag is 1 to 64 characters of letters, digits, '-', '_', '.' or ':'");
      unique.insert(t);
    }
    if (unique.size() > 32) return refuse("invalid", "an agent has at most 32 tags");
    const std::int64_t now = wall_clock();
    Transaction tx(*db_);
    auto a = load_agent(id);
    if (!a) return refuse("not_found", fmt::format("no agent {}", id));
    db_->prepare("DELETE FROM agent_tags WHERE agent_id = ?").bind_all(id).run();
    Stmt ins = db_->prepare("INSERT INTO agent_tags(agent_id, tag) VALUES (?, ?)");
    for (const auto& t : unique) {
      ins.reset();
      ins.bind_all(id, t).run();
    }
    // build-host depends on the tags: rescore every identity present on this host.
    for (const auto& identity : agent_identities(id)) recompute_identity(identity, now);
    append_audit(by, "agent.tag", id, {{"tags", unique}, {"was", a->tags}}, now);
    tx.commit();
    return *load_agent(id);
  }

  void touch_agent(const std::string& id, std::int64_t now) override {
    // Not audited: it is bookkeeping on every request, not a decision.
    std::lock_guard lock(mu_);
    db_->prepare("UPDATE agents SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?").bind_all(now, id).run();
  }

  void add_managed_identity(const std::string& spki_sha256, const std::string& what) override {
    std::lock_guard lock(mu_);
    const std::int64_t now = wall_clock();
    Transaction tx(*db_);
    if (set_managed(spki_sha256, what, now)) {
      append_audit(Actor{"collector", std::nullopt}, "identity.managed", identity_of_spki(spki_sha256),
                   {{"what", what}}, now);
      tx.commit();
    }
  }

  // ---- ingest --------------------------------------------------------------------------

  IngestOutcome ingest(const AgentInfo& agent, const protocol::Report& report, std::int64_t now) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    IngestOutcome out = ingest_in_tx(agent.id, report, now, /*from_held=*/false);
    if (out.status == IngestOutcome::Status::duplicate) return out;  // rolled back: nothing changed
    tx.commit();
    flush_events();
    return out;
  }

  // ---- queries -------------------------------------------------------------------------

  std::vector<HostRow> hosts() override {
    std::lock_guard lock(mu_);
    std::vector<HostRow> out;
    Stmt st = db_->prepare(
        "SELECT a.id, a.hostname, a.os, a.status, a.last_report_at, "
        "(SELECT COUNT(*) FROM places p WHERE p.agent_id = a.id AND p.status = 'open'), "
        "(SELECT MAX(severity_rank) FROM places p WHERE p.agent_id = a.id AND p.status = 'open') "
        "FROM agents a ORDER BY a.hostname, a.id");
    while (st.step()) {
      HostRow h;
      h.agent_id = st.text(0);
      h.hostname = st.text(1);
      h.os = st.text(2);
      h.agent_status = st.text(3);
      h.last_report_at = st.integer(4);
      h.open_findings = static_cast<std::uint64_t>(st.integer(5));
      h.max_severity = st.is_null(6) ? std::string() : severity_name(st.integer(6));
      out.push_back(std::move(h));
    }
    for (auto& h : out) h.tags = load_tags(h.agent_id);
    return out;
  }

  Page<FindingRow> findings(const FindingQuery& q) override {
    std::lock_guard lock(mu_);
    // Fixed SQL fragments; every value is a bound parameter.
    std::string where = "WHERE 1 = 1";
    std::vector<Param> params;
    if (!q.host.empty()) {
      where += " AND (p.agent_id = ? OR a.hostname = ?)";
      params.emplace_back(q.host);
      params.emplace_back(q.host);
    }
    if (!q.severity.empty()) {
      where += " AND p.severity = ?";
      params.emplace_back(q.severity);
    }
    if (!q.min_severity.empty()) {
      const int rank = detail::severity_rank(q.min_severity);
      where += " AND p.severity_rank >= ?";
      params.emplace_back(static_cast<std::int64_t>(rank < 0 ? 99 : rank));
    }
    if (!q.kind.empty()) {
      where += " AND p.kind = ?";
      params.emplace_back(q.kind);
    }
    if (q.status != "all") {
      where += " AND p.status = ?";
      params.emplace_back(q.status.empty() ? std::string("open") : q.status);
    }
    const std::string from = "FROM places p JOIN agents a ON a.id = p.agent_id " + where;
    Page<FindingRow> page;
    {
      Stmt st = db_->prepare("SELECT COUNT(*) " + from);
      bind_params(st, params);
      if (st.step()) page.total = static_cast<std::uint64_t>(st.integer(0));
    }
    Stmt st = db_->prepare(fmt::format(
        "SELECT {} {} ORDER BY p.severity_rank DESC, p.score DESC, a.hostname, p.path, p.place_id LIMIT ? OFFSET ?",
        kFindingColumns, from));
    params.emplace_back(static_cast<std::int64_t>(std::clamp<std::uint64_t>(q.limit, 1, 1000)));
    params.emplace_back(static_cast<std::int64_t>(std::min<std::uint64_t>(q.offset, INT64_MAX)));
    bind_params(st, params);
    while (st.step()) page.items.push_back(finding_row(st));
    return page;
  }

  Page<KeyRow> keys(std::uint64_t limit, std::uint64_t offset) override {
    std::lock_guard lock(mu_);
    Page<KeyRow> page;
    page.total = static_cast<std::uint64_t>(
        db_->scalar("SELECT COUNT(DISTINCT identity) FROM places WHERE resolved_at = 0"));
    std::vector<KeyRow> rows;
    {
      Stmt st = db_->prepare(
          "SELECT p.identity, COUNT(DISTINCT p.agent_id), MAX(p.score), MAX(p.severity_rank), "
          "COALESCE(i.managed, 0), MAX(p.exception_id) FROM places p LEFT JOIN identities i ON i.identity = p.identity "
          "WHERE p.resolved_at = 0 GROUP BY p.identity ORDER BY MAX(p.score) DESC, p.identity LIMIT ? OFFSET ?");
      st.bind_all(static_cast<std::int64_t>(std::clamp<std::uint64_t>(limit, 1, 1000)),
                  static_cast<std::int64_t>(std::min<std::uint64_t>(offset, INT64_MAX)));
      while (st.step()) {
        KeyRow k;
        k.identity = st.text(0);
        k.hosts = static_cast<std::uint64_t>(st.integer(1));
        k.max_score = static_cast<int>(st.integer(2));
        k.max_severity = severity_name(st.integer(3));
        k.managed = st.integer(4) != 0;
        // As the places were last scored (the store has no clock of its own for reads).
        k.exception_id = st.text(5);
        rows.push_back(std::move(k));
      }
    }
    for (auto& k : rows) {
      Stmt st = db_->prepare(
          "SELECT p.agent_id, a.hostname, p.path, p.member, p.finding_id, p.status, p.kind, p.algorithm, p.bits, "
          "p.resolved_at FROM places p JOIN agents a ON a.id = p.agent_id WHERE p.identity = ? "
          "ORDER BY p.resolved_at != 0, a.hostname, p.path, p.member, p.place_id");
      st.bind(1, k.identity);
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
    }
    page.items = std::move(rows);
    return page;
  }

  Page<FindingRow> expiring_certificates(std::int64_t within_seconds, std::int64_t now, std::uint64_t limit,
                                         std::uint64_t offset) override {
    std::lock_guard lock(mu_);
    const std::string from =
        "FROM places p JOIN agents a ON a.id = p.agent_id "
        "WHERE p.resolved_at = 0 AND p.not_after != 0 AND p.not_after < ?";
    const std::int64_t before = now + within_seconds;
    Page<FindingRow> page;
    {
      Stmt st = db_->prepare("SELECT COUNT(*) " + from);
      st.bind(1, before);
      if (st.step()) page.total = static_cast<std::uint64_t>(st.integer(0));
    }
    Stmt st = db_->prepare(
        fmt::format("SELECT {} {} ORDER BY p.not_after, p.place_id LIMIT ? OFFSET ?", kFindingColumns, from));
    st.bind_all(before, static_cast<std::int64_t>(std::clamp<std::uint64_t>(limit, 1, 1000)),
                static_cast<std::int64_t>(std::min<std::uint64_t>(offset, INT64_MAX)));
    while (st.step()) page.items.push_back(finding_row(st));
    return page;
  }

  std::vector<Event> events(std::uint64_t since, std::uint64_t limit) override {
    std::lock_guard lock(mu_);
    return load_events(since, std::clamp<std::uint64_t>(limit, 1, 10000));
  }

  // ---- exceptions ----------------------------------------------------------------------

  Outcome<ExceptionInfo> request_exception(const std::string& identity, const std::string& reason,
                                           std::int64_t expires_at, const Actor& by, std::int64_t now) override {
    std::lock_guard lock(mu_);
    if (reason.find_first_not_of(" \t\r\n") == std::string::npos)
      return refuse("invalid", "an exception needs a reason");
    if (expires_at <= now) return refuse("invalid", "an exception must expire in the future");
    Transaction tx(*db_);
    {
      Stmt st = db_->prepare("SELECT 1 FROM identities WHERE identity = ?");
      st.bind(1, identity);
      if (!st.step()) return refuse("not_found", fmt::format("no key identity {}", identity));
    }
    ExceptionInfo x;
    x.id = detail::random_hex(8);
    x.identity = identity;
    x.reason = reason;
    x.expires_at = expires_at;
    x.requested_by = by.id;
    x.requested_at = now;
    x.status = "pending";
    db_->prepare("INSERT INTO exceptions(id, identity, reason, expires_at, requested_by, requested_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(x.id, identity, reason, expires_at, by.id, now)
        .run();
    add_event(now, "exception_requested", {}, identity, {},
              {{"exception_id", x.id}, {"reason", reason}, {"expires_at", expires_at}, {"requested_by", by.id}});
    append_audit(by, "exception.request", x.id,
                 {{"identity", identity}, {"reason", reason}, {"expires_at", expires_at}}, now);
    tx.commit();
    flush_events();
    return x;
  }

  Outcome<ExceptionInfo> approve_exception(const std::string& id, const Actor& by, std::int64_t now) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    auto x = load_exception(id, now);
    if (!x) return refuse("not_found", fmt::format("no exception {}", id));
    // Separation of duties: whoever asked for it cannot also allow it.
    if (x->requested_by == by.id) return refuse("forbidden", "an exception cannot be approved by its requester");
    if (!x->approved_by.empty()) return refuse("conflict", fmt::format("exception {} is already approved", id));
    if (x->expires_at <= now) return refuse("expired", fmt::format("exception {} has expired", id));
    db_->prepare("UPDATE exceptions SET approved_by = ?, approved_at = ? WHERE id = ?").bind_all(by.id, now, id).run();
    recompute_identity(x->identity, now);
    add_event(now, "exception_approved", {}, x->identity, {},
              {{"exception_id", id}, {"approved_by", by.id}, {"expires_at", x->expires_at}});
    append_audit(by, "exception.approve", id,
                 {{"identity", x->identity}, {"requested_by", x->requested_by}, {"expires_at", x->expires_at}}, now);
    tx.commit();
    flush_events();
    return *load_exception(id, now);
  }

  std::vector<ExceptionInfo> list_exceptions(std::int64_t now) override {
    std::lock_guard lock(mu_);
    std::vector<ExceptionInfo> out;
    Stmt st = db_->prepare(exception_select("ORDER BY requested_at, id"));
    while (st.step()) out.push_back(exception_row(st, now));
    return out;
  }

  // ---- audit ---------------------------------------------------------------------------

  std::vector<AuditEntry> audit_entries(std::uint64_t since, std::uint64_t limit) override {
    std::lock_guard lock(mu_);
    return load_audit(since, std::clamp<std::uint64_t>(limit, 1, 100000));
  }

  AuditHead audit_head() override {
    std::lock_guard lock(mu_);
    Stmt st = db_->prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (!st.step()) return {};
    return {static_cast<std::uint64_t>(st.integer(0)), st.text(1)};
  }

  AuditVerdict verify_audit(const std::optional<AuditHead>& head) override {
    std::lock_guard lock(mu_);
    return detail::verify_chain(load_audit(0, static_cast<std::uint64_t>(INT64_MAX)), head);
  }

  void audit(const Actor& by, const std::string& action, const std::string& subject, const json& detail) override {
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    append_audit(by, action, subject, detail, wall_clock());
    tx.commit();
  }

  StoreCounts counts() override {
    std::lock_guard lock(mu_);
    StoreCounts c;
    auto n = [this](const char* sql) { return static_cast<std::uint64_t>(db_->scalar(sql)); };
    c.agents_pending = n("SELECT COUNT(*) FROM agents WHERE status = 'pending'");
    c.agents_approved = n("SELECT COUNT(*) FROM agents WHERE status = 'approved'");
    c.agents_revoked = n("SELECT COUNT(*) FROM agents WHERE status = 'revoked'");
    c.hosts = n("SELECT COUNT(*) FROM agents WHERE last_report_at != 0");
    c.open_findings = n("SELECT COUNT(*) FROM places WHERE status = 'open'");
    c.resolved_findings = n("SELECT COUNT(*) FROM places WHERE status = 'resolved'");
    c.keys = n("SELECT COUNT(DISTINCT identity) FROM places WHERE resolved_at = 0");
    c.reports = n("SELECT COUNT(*) FROM reports WHERE status = 'stored'");
    c.held_reports = n("SELECT COUNT(*) FROM held_reports");
    c.events = n("SELECT COALESCE(MAX(seq), 0) FROM events");
    c.audit_entries = n("SELECT COUNT(*) FROM audit");
    return c;
  }

 private:
  // ---- helpers (mu_ held) ----------------------------------------------------------------

  void chmod_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) chmod_if_exists(path_ + suffix);
  }

  static std::string identity_of_spki(const std::string& spki) {
    return spki.rfind("spki:", 0) == 0 ? spki : "spki:" + spki;
  }

  // Marks an identity as keyward's own and rescores its places; false when nothing changed.
  bool set_managed(const std::string& spki, const std::string& what, std::int64_t now) {
    const std::string identity = identity_of_spki(spki);
    {
      Stmt st = db_->prepare("SELECT managed, managed_what FROM identities WHERE identity = ?");
      st.bind(1, identity);
      if (st.step() && st.integer(0) != 0 && st.text(1) == what) return false;
    }
    db_->prepare("INSERT INTO identities(identity, managed, managed_what) VALUES (?, 1, ?) "
                 "ON CONFLICT(identity) DO UPDATE SET managed = 1, managed_what = excluded.managed_what")
        .bind_all(identity, what)
        .run();
    recompute_identity(identity, now);
    return true;
  }

  static std::string token_select(const char* tail) {
    return fmt::format("SELECT id, role, name, created_at, expires_at, revoked_at FROM tokens {}", tail);
  }

  static TokenInfo token_row(const Stmt& st) {
    TokenInfo t;
    t.id = st.text(0);
    t.role = role_from_string(st.text(1)).value_or(Role::viewer);
    t.name = st.text(2);
    t.created_at = st.integer(3);
    t.expires_at = st.integer(4);
    t.revoked = st.integer(5) != 0;
    return t;
  }

  Outcome<std::string> check_enrollment(std::string_view secret, std::int64_t now) {
    Stmt st = db_->prepare("SELECT id, expires_at, used_at FROM enrollment_tokens WHERE hash = ?");
    st.bind(1, detail::sha256_hex(secret));
    if (!st.step()) return refuse("forbidden", "unknown enrollment token");
    if (st.integer(2) != 0) return refuse("forbidden", "the enrollment token was already used");
    if (st.integer(1) != 0 && st.integer(1) <= now) return refuse("expired", "the enrollment token has expired");
    // in_place: Refusal is an aggregate, so a bare string would be ambiguous (C++20 paren-init).
    return Outcome<std::string>(boost::system::in_place_value, st.text(0));
  }

  static AgentInfo agent_row(const Stmt& st) {
    AgentInfo a;
    a.id = st.text(0);
    a.hostname = st.text(1);
    a.os = st.text(2);
    const std::string s = st.text(3);
    a.status = s == "approved" ? AgentStatus::approved : s == "revoked" ? AgentStatus::revoked : AgentStatus::pending;
    a.cert_sha256 = st.text(4);
    a.cert_serial = st.text(5);
    a.spki_sha256 = st.text(6);
    a.enrolled_at = st.integer(7);
    a.approved_at = st.integer(8);
    a.revoked_at = st.integer(9);
    a.last_seen_at = st.integer(10);
    a.last_report_at = st.integer(11);
    return a;
  }

  std::vector<std::string> load_tags(const std::string& id) {
    std::vector<std::string> out;
    Stmt st = db_->prepare("SELECT tag FROM agent_tags WHERE agent_id = ? ORDER BY tag");
    st.bind(1, id);
    while (st.step()) out.push_back(st.text(0));
    return out;
  }

  std::optional<AgentInfo> load_agent_where(const char* column, const std::string& value) {
    Stmt st = db_->prepare(fmt::format("SELECT {} FROM agents WHERE {} = ?", kAgentColumns, column));
    st.bind(1, value);
    if (!st.step()) return std::nullopt;
    AgentInfo a = agent_row(st);
    a.tags = load_tags(a.id);
    return a;
  }
  std::optional<AgentInfo> load_agent(const std::string& id) { return load_agent_where("id", id); }
  std::optional<AgentInfo> load_agent_by_cert(const std::string& sha) { return load_agent_where("cert_sha256", sha); }

  std::vector<std::string> agent_identities(const std::string& agent_id) {
    std::vector<std::string> out;
    Stmt st = db_->prepare("SELECT DISTINCT identity FROM places WHERE agent_id = ? AND resolved_at = 0");
    st.bind(1, agent_id);
    while (st.step()) out.push_back(st.text(0));
    return out;
  }

  static std::string exception_select(const char* tail) {
    return fmt::format(
        "SELECT id, identity, reason, expires_at, requested_by, approved_by, requested_at, approved_at "
        "FROM exceptions {}",
        tail);
  }

  static ExceptionInfo exception_row(const Stmt& st, std::int64_t now) {
    ExceptionInfo x;
    x.id = st.text(0);
    x.identity = st.text(1);
    x.reason = st.text(2);
    x.expires_at = st.integer(3);
    x.requested_by = st.text(4);
    x.approved_by = st.text(5);
    x.requested_at = st.integer(6);
    x.approved_at = st.integer(7);
    x.status = x.expires_at <= now ? "expired" : x.approved_by.empty() ? "pending" : "approved";
    return x;
  }

  std::optional<ExceptionInfo> load_exception(const std::string& id, std::int64_t now) {
    Stmt st = db_->prepare(exception_select("WHERE id = ?"));
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return exception_row(st, now);
  }

  // The approved, unexpired exception covering an identity; "" if none.
  std::string live_exception(const std::string& identity, std::int64_t now) {
    Stmt st = db_->prepare(
        "SELECT id FROM exceptions WHERE identity = ? AND approved_at != 0 AND expires_at > ? "
        "ORDER BY approved_at DESC, id LIMIT 1");
    st.bind_all(identity, now);
    return st.step() ? st.text(0) : std::string();
  }

  // Appends one audit entry, chained to the last one (inside the caller's transaction).
  void append_audit(const Actor& by, const std::string& action, const std::string& subject, const json& detail,
                    std::int64_t now) {
    AuditEntry e;
    e.prev_hash = detail::kZeroHash;
    {
      Stmt st = db_->prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
      if (st.step()) {
        e.seq = static_cast<std::uint64_t>(st.integer(0));
        e.prev_hash = st.text(1);
      }
    }
    ++e.seq;
    e.time = now;
    e.actor = by.id;
    e.action = action;
    e.subject = subject;
    e.detail = detail.is_null() ? json::object() : detail;
    e.hash = detail::audit_hash(e);
    db_->prepare("INSERT INTO audit(seq, time, actor, action, subject, detail, prev_hash, hash) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(e.seq, e.time, e.actor, e.action, e.subject, e.detail.dump(), e.prev_hash, e.hash)
        .run();
  }

  std::vector<AuditEntry> load_audit(std::uint64_t since, std::uint64_t limit) {
    std::vector<AuditEntry> out;
    Stmt st = db_->prepare(
        "SELECT seq, time, actor, action, subject, detail, prev_hash, hash FROM audit WHERE seq > ? "
        "ORDER BY seq LIMIT ?");
    st.bind_all(static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX)),
                static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX)));
    while (st.step()) {
      AuditEntry e;
      e.seq = static_cast<std::uint64_t>(st.integer(0));
      e.time = st.integer(1);
      e.actor = st.text(2);
      e.action = st.text(3);
      e.subject = st.text(4);
      // A detail that no longer parses was changed: keep its text so the hash differs.
      json d = json::parse(st.text(5), nullptr, false);
      e.detail = d.is_discarded() ? json(st.text(5)) : d;
      e.prev_hash = st.text(6);
      e.hash = st.text(7);
      out.push_back(std::move(e));
    }
    return out;
  }

  // Adds one event (inside the caller's transaction); seq = max + 1, so gap-free.
  void add_event(std::int64_t now, const std::string& type, const std::string& agent_id, const std::string& identity,
                 const std::string& finding_id, const json& detail) {
    const std::int64_t seq = db_->scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM events");
    db_->prepare("INSERT INTO events(seq, time, type, agent_id, identity, finding_id, detail) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind_all(seq, now, type, agent_id, identity, finding_id, detail.is_null() ? "{}" : detail.dump())
        .run();
  }

  std::vector<Event> load_events(std::uint64_t since, std::uint64_t limit) {
    std::vector<Event> out;
    Stmt st = db_->prepare(
        "SELECT e.seq, e.time, e.type, e.agent_id, COALESCE(a.hostname, ''), e.identity, e.finding_id, e.detail "
        "FROM events e LEFT JOIN agents a ON a.id = e.agent_id WHERE e.seq > ? ORDER BY e.seq LIMIT ?");
    st.bind_all(static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX)),
                static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX)));
    while (st.step()) {
      Event e;
      e.seq = static_cast<std::uint64_t>(st.integer(0));
      e.time = st.integer(1);
      e.type = st.text(2);
      e.agent_id = st.text(3);
      e.hostname = st.text(4);
      e.identity = st.text(5);
      e.finding_id = st.text(6);
      e.detail = parse_json(st.text(7));
      out.push_back(std::move(e));
    }
    return out;
  }

  // Writes the committed events the events file lacks (after each commit, and at open).
  void flush_events() {
    if (!events_) return;
    for (;;) {
      auto batch = load_events(events_->last_seq(), 1000);
      if (batch.empty()) return;
      events_->append(batch);
      if (batch.size() < 1000) return;
    }
  }

  // Rescores every present place of an identity with the fleet factors and sets its status
  // (managed > excepted > open).
  void recompute_identity(const std::string& identity, std::int64_t now) {
    bool managed = false;
    std::string managed_what;
    {
      Stmt st = db_->prepare("SELECT managed, managed_what FROM identities WHERE identity = ?");
      st.bind(1, identity);
      if (st.step()) {
        managed = st.integer(0) != 0;
        managed_what = st.text(1);
      }
    }
    const std::string exception_id = managed ? std::string() : live_exception(identity, now);

    struct Row {
      std::string place_id, agent_id, base_risk, finding_json;
      bool holds_key = false;
    };
    std::vector<Row> rows;
    {
      Stmt st = db_->prepare(
          "SELECT place_id, agent_id, holds_key, base_risk, finding_json FROM places "
          "WHERE identity = ? AND resolved_at = 0");
      st.bind(1, identity);
      while (st.step()) rows.push_back({st.text(0), st.text(1), st.text(3), st.text(4), st.integer(2) != 0});
    }
    std::set<std::string> key_hosts;
    for (const auto& r : rows)
      if (r.holds_key) key_hosts.insert(r.agent_id);
    std::map<std::string, bool> build;
    Stmt tag = db_->prepare("SELECT 1 FROM agent_tags WHERE agent_id = ? AND tag = 'build'");
    Stmt upd = db_->prepare(
        "UPDATE places SET score = ?, severity = ?, severity_rank = ?, status = ?, exception_id = ?, "
        "finding_json = ? WHERE place_id = ?");
    for (const auto& r : rows) {
      if (!build.count(r.agent_id)) {
        tag.reset();
        tag.bind(1, r.agent_id);
        build[r.agent_id] = tag.step();
      }
      detail::FleetFacts facts;
      facts.holds_key = r.holds_key;
      facts.key_hosts = key_hosts.size();
      facts.build_host = build[r.agent_id];
      facts.managed = managed;
      facts.managed_what = managed_what;
      const scanner::RiskFacts risk = detail::fleet_risk(detail::risk_from_json(parse_json(r.base_risk)), facts, rules_);
      json finding = parse_json(r.finding_json);
      finding["risk"] = detail::risk_to_json(risk);
      const char* status = managed ? "managed" : !exception_id.empty() ? "excepted" : "open";
      upd.reset();
      upd.bind_all(risk.score, risk.severity, detail::severity_rank(risk.severity), status, exception_id,
                   finding.dump(), r.place_id)
          .run();
    }
  }

  // The ingest itself, inside the caller's transaction. from_held: the report was held while
  // the agent was pending and is ingested now (its reports row exists already).
  IngestOutcome ingest_in_tx(const std::string& agent_id, const protocol::Report& report, std::int64_t now,
                             bool from_held) {
    IngestOutcome out;
    out.findings = report.result.findings.size();
    const auto agent = load_agent(agent_id);
    if (!agent) throw StoreError(fmt::format("ingest: no agent {}", agent_id));
    const Actor actor{"agent:" + agent_id, std::nullopt};
    if (!from_held) {
      Stmt st = db_->prepare("SELECT 1 FROM reports WHERE agent_id = ? AND report_id = ?");
      st.bind_all(agent_id, report.report_id);
      if (st.step()) {
        out.status = IngestOutcome::Status::duplicate;
        return out;
      }
    }
    if (!from_held && agent->status != AgentStatus::approved) {
      // Pending (or revoked: kept, never ingested) until an admin approves.
      db_->prepare("INSERT INTO held_reports(agent_id, report_id, received_at, body) VALUES (?, ?, ?, ?)")
          .bind_all(agent_id, report.report_id, now, protocol::report_to_json(report.result, report.report_id).dump())
          .run();
      db_->prepare("INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
                   "VALUES (?, ?, ?, ?, ?, 'held')")
          .bind_all(agent_id, report.report_id, now, report.result.complete, out.findings)
          .run();
      db_->prepare("UPDATE agents SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?").bind_all(now, agent_id).run();
      append_audit(actor, "report.hold", agent_id,
                   {{"report_id", report.report_id}, {"findings", out.findings}, {"agent_status", to_string(agent->status)}},
                   now);
      out.status = IngestOutcome::Status::held;
      return out;
    }

    // The rules engine's risk; paths are absolute on the agent's host, so the default context.
    scanner::ScanResult scored = report.result;
    rules::ScoreContext ctx;
    ctx.now = now;
    rules::score(scored, rules_, ctx);

    std::set<std::string> touched;
    std::set<std::string> seen;
    struct NewPlace {
      std::string place_id, identity, finding_id;
      json detail;
    };
    std::vector<NewPlace> fresh;

    Stmt find = db_->prepare("SELECT resolved_at, identity FROM places WHERE place_id = ?");
    Stmt add_identity = db_->prepare("INSERT INTO identities(identity) VALUES (?) ON CONFLICT(identity) DO NOTHING");
    Stmt insert = db_->prepare(
        "INSERT INTO places(place_id, agent_id, finding_id, identity, kind, rule, path, member, algorithm, bits, "
        "holds_key, not_after, base_risk, score, severity, severity_rank, status, first_seen, last_seen, "
        "finding_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)");
    Stmt update = db_->prepare(
        "UPDATE places SET identity = ?, kind = ?, rule = ?, path = ?, member = ?, algorithm = ?, bits = ?, "
        "holds_key = ?, not_after = ?, base_risk = ?, score = ?, severity = ?, severity_rank = ?, "
        "status = CASE WHEN resolved_at != 0 THEN 'open' ELSE status END, resolved_at = 0, last_seen = ?, "
        "finding_json = ? WHERE place_id = ?");

    for (const auto& f : scored.findings) {
      const std::string identity = detail::identity_of(f);
      const std::string place_id = detail::sha256_hex(agent_id + std::string(1, '\0') + f.id);
      if (!seen.insert(place_id).second) continue;  // the same finding id twice: first wins
      touched.insert(identity);
      add_identity.reset();
      add_identity.bind(1, identity).run();

      const scanner::RiskFacts base = f.risk.value_or(scanner::RiskFacts{});
      const PlaceColumns cols = place_columns(f);
      const std::string kind(scanner::to_string(f.kind));
      const json finding_doc = scanner::to_json(f);
      const std::string finding_json = finding_doc.dump();
      const std::string base_json = detail::risk_to_json(base).dump();

      find.reset();
      find.bind(1, place_id);
      const bool exists = find.step();
      const bool reopened = exists && find.integer(0) != 0;
      if (exists) touched.insert(find.text(1));  // its identity may have changed: rescore the old one too
      if (!exists) {
        insert.reset();
        insert.bind_all(place_id, agent_id, f.id, identity, kind, f.rule, f.location.path, f.location.member,
                        cols.algorithm);
        if (cols.bits) insert.bind(10, static_cast<std::int64_t>(*cols.bits));
        else insert.bind_null(10);
        insert.bind(11, f.holds_private_key())
            .bind(12, cols.not_after)
            .bind(13, base_json)
            .bind(14, base.score)
            .bind(15, base.severity)
            .bind(16, detail::severity_rank(base.severity))
            .bind(17, now)
            .bind(18, now)
            .bind(19, finding_json)
            .run();
      } else {
        update.reset();
        update.bind_all(identity, kind, f.rule, f.location.path, f.location.member, cols.algorithm);
        if (cols.bits) update.bind(7, static_cast<std::int64_t>(*cols.bits));
        else update.bind_null(7);
        update.bind(8, f.holds_private_key())
            .bind(9, cols.not_after)
            .bind(10, base_json)
            .bind(11, base.score)
            .bind(12, base.severity)
            .bind(13, detail::severity_rank(base.severity))
            .bind(14, now)
            .bind(15, finding_json)
            .bind(16, place_id)
            .run();
      }
      if (!exists || reopened) {
        ++out.new_places;
        json d = {{"rule", f.rule}, {"kind", kind}};
        put_location(d, finding_doc);
        if (reopened) d["reopened"] = true;
        fresh.push_back({place_id, identity, f.id, std::move(d)});
      }
    }

    if (report.result.complete) {
      // A snapshot: what this host no longer has is resolved.
      struct Gone {
        std::string place_id, finding_id, identity, finding_json, rule;
      };
      std::vector<Gone> gone;
      Stmt st = db_->prepare(
          "SELECT place_id, finding_id, identity, finding_json, rule FROM places WHERE agent_id = ? AND resolved_at = 0");
      st.bind(1, agent_id);
      while (st.step())
        if (!seen.count(st.text(0))) gone.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4)});
      Stmt resolve = db_->prepare("UPDATE places SET status = 'resolved', resolved_at = ? WHERE place_id = ?");
      for (const auto& g : gone) {
        resolve.reset();
        resolve.bind_all(now, g.place_id).run();
        touched.insert(g.identity);
        json d = {{"rule", g.rule}};
        put_location(d, parse_json(g.finding_json));
        add_event(now, "resolved", agent_id, g.identity, g.finding_id, d);
        ++out.resolved;
      }
    }

    // Exceptions that expired since: their places are open again.
    {
      Stmt st = db_->prepare(
          "SELECT DISTINCT p.identity FROM places p JOIN exceptions x ON x.id = p.exception_id "
          "WHERE p.status = 'excepted' AND x.expires_at <= ?");
      st.bind(1, now);
      while (st.step()) touched.insert(st.text(0));
    }
    for (const auto& identity : touched) recompute_identity(identity, now);

    // "new" events carry the fleet severity, known only now.
    Stmt sev = db_->prepare("SELECT severity, score FROM places WHERE place_id = ?");
    for (auto& n : fresh) {
      sev.reset();
      sev.bind(1, n.place_id);
      if (sev.step()) {
        n.detail["severity"] = sev.text(0);
        n.detail["score"] = sev.integer(1);
      }
      add_event(now, "new", agent_id, n.identity, n.finding_id, n.detail);
    }

    db_->prepare("INSERT INTO reports(agent_id, report_id, received_at, complete, findings, status) "
                 "VALUES (?, ?, ?, ?, ?, 'stored') ON CONFLICT(agent_id, report_id) DO UPDATE SET status = 'stored'")
        .bind_all(agent_id, report.report_id, now, report.result.complete, out.findings)
        .run();
    db_->prepare("UPDATE agents SET last_report_at = ?, last_seen_at = MAX(last_seen_at, ?) WHERE id = ?")
        .bind_all(now, now, agent_id)
        .run();
    append_audit(actor, "report.ingest", agent_id,
                 {{"report_id", report.report_id},
                  {"complete", report.result.complete},
                  {"findings", out.findings},
                  {"new", out.new_places},
                  {"resolved", out.resolved},
                  {"held", from_held}},
                 now);
    out.status = IngestOutcome::Status::stored;
    return out;
  }

  std::mutex mu_;
  std::string path_;
  std::unique_ptr<Db> db_;
  rules::RuleSet rules_;
  std::unique_ptr<detail::EventFile> events_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const std::string& events_file,
                                         const FleetOptions& fleet) {
  return std::make_unique<SqliteStore>(path, events_file, fleet);
}

}  // namespace keyward::collector
