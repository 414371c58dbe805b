// SPDX-License-Identifier: Apache-2.0
// The store's connection layer (collector/src/store/db.hpp) on the engine the run uses (SQLite,
// or PostgreSQL under the pg fixture): `?` numbering, and a write that fails inside a
// transaction. On PostgreSQL such a write is pipelined, so its error arrives later: it must
// still fail the transaction and leave nothing behind.
#include "store/db.hpp"

#include "store_fixture.hpp"

using namespace keyward;
using collector::detail::Db;
using collector::detail::Transaction;

namespace {

std::unique_ptr<Db> connect(test::StoreFixture& fx) {
  if (fx.postgres()) return Db::open_postgres({fx.pg->conninfo(), nullptr});
  return Db::open_sqlite(fx.db_path);
}

}  // namespace

TEST_CASE("? parameters are numbered for PostgreSQL, and a ? inside quotes is left alone") {
  CHECK(collector::detail::numbered_parameters("SELECT '?', ? FROM t WHERE a = ? AND \"b?\" = 'it''s ?' OR c = ?") ==
        "SELECT '?', $1 FROM t WHERE a = $2 AND \"b?\" = 'it''s ?' OR c = $3");
  CHECK(collector::detail::numbered_parameters("SELECT 1") == "SELECT 1");
}

TEST_CASE("a write that fails inside a transaction fails it, and none of its writes stay") {
  test::StoreFixture fx;
  auto db = connect(fx);
  db->exec("CREATE TABLE engine_test(id TEXT PRIMARY KEY, n BIGINT NOT NULL)");
  auto insert = [&](const char* id) { db->prepare("INSERT INTO engine_test(id, n) VALUES (?, 1)").bind(1, id).run(); };
  CHECK_THROWS_AS(
      [&] {
        Transaction tx(*db);
        insert("a");
        insert("b");
        insert("a");  // the primary key again
        insert("c");
        tx.commit();
      }(),
      collector::StoreError);
  CHECK(db->scalar("SELECT COUNT(*) FROM engine_test") == 0);
  // The connection is usable afterwards, and a change count waits for the writes before it.
  Transaction tx(*db);
  for (const char* id : {"x", "y", "z"}) insert(id);
  db->prepare("UPDATE engine_test SET n = n + 1 WHERE n = 1").run();
  CHECK(db->changes() == 3);
  tx.commit();
  CHECK(db->scalar("SELECT SUM(n) FROM engine_test") == 6);
}
