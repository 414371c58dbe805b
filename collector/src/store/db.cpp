// SPDX-License-Identifier: Apache-2.0
// The engine-neutral part of a store connection: the statement cache, transactions and the
// reader pool (db.hpp).
#include "store/db.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace keyward::collector::detail {

Db::~Db() { cache_.clear(); }

CachedStmt::~CachedStmt() {
  st_->reset();
  *leased_ = false;
}

CachedStmt Db::cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end())
    it = cache_.emplace(std::string(sql), Cached{std::make_unique<Stmt>(b_->prepare(sql, true))}).first;
  if (it->second.leased) throw StoreError(fmt::format("statement '{}' is already in use", sql.substr(0, 60)));
  it->second.leased = true;
  return CachedStmt(*it->second.stmt, it->second.leased);
}

std::int64_t Db::scalar(std::string_view sql) {
  Stmt st = prepare(sql);
  if (!st.step()) return 0;
  return st.integer(0);
}

Transaction::Transaction(Db& db) : db_(db) { db_.backend().begin_write(); }

Transaction::~Transaction() {
  if (!done_) db_.backend().end_quietly(false);
}

void Transaction::commit() {
  db_.backend().commit();
  done_ = true;
  db_.committed();
}

ReadTransaction::ReadTransaction(Db& db) : db_(db) { db_.backend().begin_read(); }

ReadTransaction::~ReadTransaction() { db_.backend().end_quietly(true); }

ReaderPool::ReaderPool(std::function<std::unique_ptr<Db>()> open, std::size_t max_connections)
    : open_(std::move(open)), max_(std::max<std::size_t>(1, max_connections)) {}

ReaderPool::Lease::Lease(ReaderPool& pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {
  try {
    tx_.emplace(*db_);
  } catch (...) {
    // A connection whose transaction cannot start (e.g. the server went away) is dropped: the
    // next lease opens a new one.
    db_.reset();
    pool_.give_back(nullptr);
    throw;
  }
}

ReaderPool::Lease::~Lease() {
  tx_.reset();
  pool_.give_back(std::move(db_));
}

ReaderPool::Lease ReaderPool::lease() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || opened_ < max_; });
  if (!idle_.empty()) {
    std::unique_ptr<Db> db = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();  // a lease whose transaction cannot start gives its connection back (give_back locks)
    return Lease(*this, std::move(db));
  }
  ++opened_;
  lock.unlock();
  std::unique_ptr<Db> db;
  try {
    db = open_();
  } catch (...) {
    give_back(nullptr);
    throw;
  }
  return Lease(*this, std::move(db));
}

void ReaderPool::give_back(std::unique_ptr<Db> db) {
  {
    std::lock_guard lock(mu_);
    if (db) idle_.push_back(std::move(db));
    else --opened_;  // a connection that failed to open, or was dropped
  }
  cv_.notify_one();
}

}  // namespace keyward::collector::detail
