// SPDX-License-Identifier: Apache-2.0
// Schema migrations of the store, numbered in code: version N is applied once, in its own
// write transaction, and recorded (SQLite's PRAGMA user_version, PostgreSQL's keyward_schema).
// PostgreSQL databases start at version 8. A database newer than this code is refused.
// Used by: sql_store.cpp at open.
#pragma once

#include "store/db.hpp"

namespace keyward::collector::detail {

// The schema version this code writes.
int latest_schema_version();

// Applies every migration above the database's version; returns the version after.
// Throws StoreError when the database is newer than this code.
int migrate(Db& db);

}  // namespace keyward::collector::detail
