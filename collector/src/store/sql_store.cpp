// SPDX-License-Identifier: Apache-2.0
// SqlStore, opening: on SQLite the database file (mode 0600 before SQLite creates it) and its
// pragmas, on PostgreSQL the connections; migrations, the rules, the events file's catch-up; the
// schema version and /metrics counts;
// the helpers every unit of the store shares (sql_store.hpp lists the units).
#include "store/sql_store.hpp"

#include "store/migrations.hpp"

#include <keyward/common/terminal.hpp>
#include <keyward/common/utf8.hpp>
#include <keyward/rules/severity.hpp>

#include <fmt/format.h>

#include <ctime>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace keyward::collector {
namespace detail {
namespace {

void chmod_if_exists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) != 0600 && ::chmod(path.c_str(), 0600) != 0)
    throw StoreError(fmt::format("cannot chmod 0600 {}", path));
}

}  // namespace

std::int64_t wall_clock() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Reader connections: one per work-pool thread of the server (4), and more for the command
// line and tests that read beside it.
constexpr std::size_t kReaders = 8;

// SQLite's own page cache is 2 MiB by default: an inventory of a fleet is hundreds of MiB, and
// rescoring a shared key reads its places from all over the file. A larger cache per connection,
// and the file mapped (reads without a pread each), keep those reads in memory.
constexpr const char* kCachePragmas = "PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824";

Refusal refuse(std::string code, std::string message) { return Refusal{std::move(code), std::move(message)}; }

std::optional<Refusal> check_text(std::string_view what, std::string_view text, std::size_t max) {
  if (text.find_first_not_of(" \t") == std::string_view::npos)
    return refuse("invalid", fmt::format("{} must not be empty", what));
  if (text.size() > max) return refuse("invalid", fmt::format("{} must be at most {} bytes", what, max));
  if (!common::valid_utf8(text)) return refuse("invalid", fmt::format("{} must be UTF-8", what));
  if (common::has_control_characters(text))
    return refuse("invalid", fmt::format("{} must not hold control characters (newlines, tabs, escapes)", what));
  return std::nullopt;
}

nlohmann::json parse_json(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

std::string severity_name(std::int64_t rank) {
  if (rank < 0 || rank > 4) return {};
  return std::string(rules::to_string(static_cast<rules::Severity>(rank)));
}

SqlStore::SqlStore(std::unique_ptr<Db> writer, std::function<std::unique_ptr<Db>()> open_reader,
                   const std::string& events_file, const FleetOptions& fleet)
    : db_(std::move(writer)) {
  migrate(*db_);
  rules_ = rules::RuleSet::builtin();
  for (const auto& dir : fleet.rules_dirs) rules_.load_dir(dir);
  targets_ = migrate::load_targets(fleet.hsm_dirs);
  rescore_stale_managed();

  if (!events_file.empty()) {
    events_ = std::make_unique<EventFile>(events_file);
    flush_events();  // catch up with what a crash left out
  }
  // After every commit: the head signed, and the events file brought up to the database's
  // events, this commit's and (on PostgreSQL) those other replicas committed meanwhile.
  db_->on_commit([this] {
    write_checkpoint();
    flush_events();
  });
  readers_ = std::make_unique<ReaderPool>(std::move(open_reader), kReaders);
}

// The database file and the -wal and -shm files SQLite makes beside it: 0600.
void chmod_sqlite_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) chmod_if_exists(path + suffix);
}

std::unique_ptr<Db> open_sqlite_writer(const std::string& path) {
  // Create the file 0600 before SQLite does (SQLite would honour the umask); SQLite gives its
  // -wal and -shm files the database file's mode.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw StoreError(fmt::format("cannot create the database {}", path));
  ::close(fd);
  chmod_sqlite_files(path);
  auto db = Db::open_sqlite(path);
  {
    Stmt st = db->prepare("PRAGMA journal_mode = WAL");
    if (!st.step() || st.text(0) != "wal")
      throw StoreError(fmt::format("cannot put the database {} in WAL mode", path));
  }
  db->exec("PRAGMA busy_timeout = 5000");
  db->exec("PRAGMA foreign_keys = ON");
  // FULL: a report answered 202 survives a power cut (the agent has dropped it by then).
  db->exec("PRAGMA synchronous = FULL");
  db->exec(kCachePragmas);
  return db;
}

int SqlStore::schema_version() {
  auto db = readers_->lease();
  return static_cast<int>(db->backend().schema_version());
}

std::string SqlStore::readiness_problem() {
  try {
    auto db = readers_->lease();
    const auto version = db->backend().schema_version();
    if (version != latest_schema_version())
      return fmt::format("the database has schema version {}, this collector needs {}", version,
                         latest_schema_version());
    db->scalar("SELECT COUNT(*) FROM agents WHERE id = ''");
    return {};
  } catch (const StoreError&) {
    return "the database cannot be read";
  }
}

StoreCounts SqlStore::counts() {
  auto db = readers_->lease();
  StoreCounts c;
  auto n = [&db](const char* sql) { return static_cast<std::uint64_t>(db->scalar(sql)); };
  c.agents_pending = n("SELECT COUNT(*) FROM agents WHERE status = 'pending'");
  c.agents_approved = n("SELECT COUNT(*) FROM agents WHERE status = 'approved'");
  c.agents_revoked = n("SELECT COUNT(*) FROM agents WHERE status = 'revoked'");
  c.hosts = n("SELECT COUNT(*) FROM agents WHERE last_report_at != 0");
  c.open_findings = n("SELECT COUNT(*) FROM places WHERE status = 'open'");
  c.resolved_findings = n("SELECT COUNT(*) FROM places WHERE status = 'resolved'");
  c.excepted_findings = n("SELECT COUNT(*) FROM places WHERE status = 'excepted'");
  c.false_positive_findings = n("SELECT COUNT(*) FROM places WHERE status = 'false_positive'");
  c.keys = n("SELECT COUNT(DISTINCT identity) FROM places WHERE resolved_at = 0");
  c.reports = n("SELECT COUNT(*) FROM reports WHERE status = 'stored'");
  c.held_reports = n("SELECT COUNT(*) FROM held_reports");
  c.events = n("SELECT COALESCE(MAX(seq), 0) FROM events");
  c.audit_entries = n("SELECT COUNT(*) FROM audit");
  return c;
}

}  // namespace detail

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const std::string& events_file,
                                         const FleetOptions& fleet) {
  auto writer = detail::open_sqlite_writer(path);
  auto open_reader = [path] {
    auto db = detail::Db::open_sqlite(path, detail::DbAccess::read_only);
    db->exec("PRAGMA busy_timeout = 5000");
    db->exec(detail::kCachePragmas);
    return db;
  };
  auto store = std::make_unique<detail::SqlStore>(std::move(writer), std::move(open_reader), events_file, fleet);
  detail::chmod_sqlite_files(path);  // the -wal and -shm files the migrations made
  return store;
}

std::unique_ptr<Store> open_postgres_store(const PostgresTarget& target, const std::string& events_file,
                                           const FleetOptions& fleet) {
  if (const auto problem = postgres_conninfo_problem(target.conninfo); !problem.empty())
    throw StoreError("the database setting is wrong: " + problem);
  auto writer = detail::Db::open_postgres(target);
  auto open_reader = [target] { return detail::Db::open_postgres(target, detail::DbAccess::read_only); };
  return std::make_unique<detail::SqlStore>(std::move(writer), std::move(open_reader), events_file, fleet);
}

}  // namespace keyward::collector
