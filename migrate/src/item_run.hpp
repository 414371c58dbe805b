// SPDX-License-Identifier: Apache-2.0
// One item's run inside TokenSession::run (execute.hpp): the stages in order, the objects it
// created (rolled back on any failure), and what it did, in words. Private to the executor.
#pragma once

#include "pkcs11.hpp"
#include "token_keys.hpp"

#include <keyward/migrate/execute.hpp>

#include <optional>
#include <string>

namespace keyward::migrate::exec {

// Overwrites a regular file with zeros, fsyncs it and unlinks it (never following a symlink);
// "" or why not.
std::string overwrite_and_remove(const std::string& path);

// CKA_LABEL of an item's key: the plan's target label, else "keyward-" and 16 hex of its identity.
std::string object_label(const PlanItem& item);

class ItemRun {
 public:
  ItemRun(p11::Session& s, const PlanItem& item, const RunOptions& o, ItemResult& r)
      : s_(s), item_(item), o_(o), r_(r), created(s) {}
  // Runs the stages; throws (the caller rolls back) on any failure, on_stage's included.
  void execute();
  void say(const std::string& line) const {
    if (o_.say) o_.say(line);
  }

  Stage stage = Stage::check;

 private:
  p11::Session& s_;
  const PlanItem& item_;
  const RunOptions& o_;
  ItemResult& r_;

 public:
  p11::CreatedObjects created;

 private:
  void enter(Stage st);
  void act(const std::string& line);
  std::optional<ck_object_handle_t> existing();
  void describe();
  void import_key();
  ck_object_handle_t import_certificate(X509* cert, const std::string& id_raw);
  common::X509Ptr find_certificate(keys::SourceKey& src, const std::vector<std::uint8_t>& spki) const;
  void regenerate_key();
  void verify(ck_object_handle_t priv, ck_object_handle_t pub, keys::Kind kind, EVP_PKEY* reference);
  void remove_sources();
};

}  // namespace keyward::migrate::exec
