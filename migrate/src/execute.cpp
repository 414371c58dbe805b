// SPDX-License-Identifier: Apache-2.0
// TokenSession::run (execute.hpp): one approved item into the token, all or nothing, verified in
// the token, then the source removed if asked (docs/migration.md, "What runs where").
#include "item_run.hpp"
#include "pkcs11.hpp"
#include "token_keys.hpp"

#include <keyward/migrate/execute.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace keyward::migrate {

struct TokenSession::Impl {
  p11::Module module;
  p11::Session session;
  Impl(const TokenConfig& c, const common::SecretBytes& pin) : module(c.module), session(module, c.token, pin) {}
};

TokenSession::TokenSession(const TokenConfig& config, const common::SecretBytes& pin)
    : impl_(std::make_unique<Impl>(config, pin)) {}
TokenSession::~TokenSession() = default;

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return scanner::rfc3339(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

ItemResult result_for(const PlanItem& item, std::string host) {
  ItemResult r;
  r.item_id = item.id, r.identity = item.identity, r.host = std::move(host), r.strategy = item.strategy;
  r.started_at = now_rfc3339();
  return r;
}

namespace {

// Why this item is not run here ("" when it may be).
std::string refusal(const PlanItem& item, const RunOptions& o) {
  if (item.state != ItemState::approved)
    return fmt::format("item is {}, not approved: only approved items are migrated", to_string(item.state));
  if (std::find(o.allowed.begin(), o.allowed.end(), item.strategy) == o.allowed.end())
    return fmt::format("strategy {} is not allowed here", to_string(item.strategy));
  if (!item.blockers.empty()) return fmt::format("item is blocked: {}", item.blockers.front().message);
  if (item.migrate_on.host != o.host)
    return fmt::format("item migrates on host {}, not on {}", item.migrate_on.host, o.host);
  return {};
}

}  // namespace

ItemResult TokenSession::run(const PlanItem& item, const RunOptions& options) {
  ItemResult r = result_for(item, options.host);
  r.label = exec::object_label(item);
  if (std::string why = refusal(item, options); !why.empty()) {
    r.outcome = Outcome::refused, r.message = std::move(why);
    r.finished_at = now_rfc3339();
    return r;
  }
  exec::ItemRun run(impl_->session, item, options, r);
  try {
    run.execute();
  } catch (const std::exception& e) {
    run.created.rollback();
    r.outcome = Outcome::failed, r.failed_at = run.stage;
    r.message = fmt::format("failed at {}: {}; the token is as before", to_string(run.stage), e.what());
    r.cleanups.clear();
    run.say(r.message);
  } catch (...) {
    run.created.rollback();
    r.outcome = Outcome::failed, r.failed_at = run.stage;
    r.message = fmt::format("failed at {}; the token is as before", to_string(run.stage));
    r.cleanups.clear();
  }
  r.finished_at = now_rfc3339();
  return r;
}

}  // namespace keyward::migrate
