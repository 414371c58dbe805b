// SPDX-License-Identifier: Apache-2.0
// The store's database copied while a collector serves (docs/deployment.md, "Backup and
// restore"): SQLite's online backup API copies it page by page into a new file, restarting on
// its own when a writer changes a page already copied, so the copy is one committed state.
// Used by: `keyward-collector backup` and `restore` (collector/src/cli/backup.cpp).
// Never copies anything but the database (no key file: those are the operator's to back up).
#include "store/db.hpp"

#include <keyward/collector/store.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

namespace keyward::collector {
namespace {

// Pages copied per step: the source's lock is held only while a step runs.
constexpr int kPagesPerStep = 256;

AuditHead head_of(detail::Db& db) {
  detail::Stmt st = db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!st.step()) return {};
  return {static_cast<std::uint64_t>(st.integer(0)), st.text(1)};
}

}  // namespace

AuditHead backup_sqlite_store(const std::string& db_path, const std::string& to) {
  // A new file only, 0600 before SQLite writes into it: a backup is the whole inventory.
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw StoreError(fmt::format("cannot create {} (it must not exist yet)", to));
  ::close(fd);
  auto source = detail::Db::open_sqlite(db_path, detail::DbAccess::read_only);
  source->exec("PRAGMA busy_timeout = 5000");
  auto target = detail::Db::open_sqlite(to);
  sqlite3_backup* b = sqlite3_backup_init(target->sqlite_handle(), "main", source->sqlite_handle(), "main");
  if (b == nullptr) detail::fail(target->sqlite_handle(), "cannot start the backup");
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    rc = sqlite3_backup_step(b, kPagesPerStep);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) detail::fail(target->sqlite_handle(), "the backup failed");
  // A file that stands alone: no -wal beside it to lose when it is copied elsewhere.
  target->exec("PRAGMA journal_mode = DELETE");
  return head_of(*target);
}

std::string check_sqlite_backup(const std::string& path) {
  auto db = detail::Db::open_sqlite(path, detail::DbAccess::read_only);
  detail::Stmt st = db->prepare("PRAGMA integrity_check");
  if (!st.step()) return "the integrity check returned nothing";
  std::string verdict = st.text(0);
  if (verdict == "ok") return {};
  verdict = verdict.substr(0, 200);
  for (char& ch : verdict)
    if (ch == '\n' || ch == '\r') ch = ' ';  // one line for the operator's terminal and log
  return "the integrity check failed: " + verdict;
}

}  // namespace keyward::collector
