// SPDX-License-Identifier: Apache-2.0
// The enums of plans and results round-trip through their JSON names, and an unknown name is
// refused rather than guessed.
#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <doctest/doctest.h>

using namespace keyward::migrate;

TEST_CASE("every state, strategy, step, stage and outcome round-trips through its name") {
  for (auto s : {ItemState::proposed, ItemState::approved, ItemState::running, ItemState::done, ItemState::failed,
                 ItemState::refused})
    CHECK(item_state_from_string(to_string(s)) == s);
  for (auto s : {Strategy::regenerate, Strategy::import}) CHECK(strategy_from_string(to_string(s)) == s);
  for (auto k : {StepKind::migrate, StepKind::verify, StepKind::certificate, StepKind::cleanup})
    CHECK(step_kind_from_string(to_string(k)) == k);
  for (auto s : {Stage::check, Stage::read_key, Stage::create_key, Stage::create_certificate, Stage::make_csr,
                 Stage::verify, Stage::cleanup})
    CHECK(stage_from_string(to_string(s)) == s);
  for (auto o : {Outcome::done, Outcome::skipped, Outcome::failed, Outcome::refused, Outcome::dry_run})
    CHECK(outcome_from_string(to_string(o)) == o);
  CHECK(to_string(ItemState::approved) == "approved");
  CHECK(to_string(Strategy::import) == "import");
}

TEST_CASE("an unknown name is no value") {
  CHECK_FALSE(item_state_from_string("requested").has_value());
  CHECK_FALSE(strategy_from_string("Import").has_value());
  CHECK_FALSE(outcome_from_string("").has_value());
}
