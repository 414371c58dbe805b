// Schema migrations of the SQLite store, numbered in code: version N is applied once, in its own
// transaction, and recorded in PRAGMA user_version. A database newer than this code is refused.
// Used by: sqlite_store.cpp at open.
#pragma once

#include "store/sqlite_db.hpp"

namespace keyward::collector::detail {

// The schema version this code writes.
int latest_schema_version();

// Applies every migration above the database's user_version; returns the version after.
// Throws StoreError when the database is newer than this code.
int migrate(Db& db);

}  // namespace keyward::collector::detail
