// SPDX-License-Identifier: Apache-2.0
// The JSON names of the plan's and the executor's enums, each list in one place
// (docs/migration.md names them).
#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <array>
#include <utility>

namespace keyward::migrate {
namespace {

template <class E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Strategy, 2> kStrategies{{{Strategy::regenerate, "regenerate"}, {Strategy::import, "import"}}};
constexpr NameTable<ItemState, 6> kStates{{{ItemState::proposed, "proposed"},
                                           {ItemState::approved, "approved"},
                                           {ItemState::running, "running"},
                                           {ItemState::done, "done"},
                                           {ItemState::failed, "failed"},
                                           {ItemState::refused, "refused"}}};
constexpr NameTable<StepKind, 4> kSteps{{{StepKind::migrate, "migrate"},
                                         {StepKind::verify, "verify"},
                                         {StepKind::certificate, "certificate"},
                                         {StepKind::cleanup, "cleanup"}}};
constexpr NameTable<Stage, 7> kStages{{{Stage::check, "check"},
                                       {Stage::read_key, "read_key"},
                                       {Stage::create_key, "create_key"},
                                       {Stage::create_certificate, "create_certificate"},
                                       {Stage::make_csr, "make_csr"},
                                       {Stage::verify, "verify"},
                                       {Stage::cleanup, "cleanup"}}};
constexpr NameTable<Outcome, 5> kOutcomes{{{Outcome::done, "done"},
                                           {Outcome::skipped, "skipped"},
                                           {Outcome::failed, "failed"},
                                           {Outcome::refused, "refused"},
                                           {Outcome::dry_run, "dry_run"}}};

template <class E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) noexcept {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_of(const NameTable<E, N>& table, std::string_view name) noexcept {
  for (const auto& [e, n] : table)
    if (n == name) return e;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Strategy s) noexcept { return name_of(kStrategies, s); }
std::optional<Strategy> strategy_from_string(std::string_view s) noexcept { return value_of(kStrategies, s); }
std::string_view to_string(ItemState s) noexcept { return name_of(kStates, s); }
std::optional<ItemState> item_state_from_string(std::string_view s) noexcept { return value_of(kStates, s); }
std::string_view to_string(StepKind k) noexcept { return name_of(kSteps, k); }
std::optional<StepKind> step_kind_from_string(std::string_view s) noexcept { return value_of(kSteps, s); }
std::string_view to_string(Stage s) noexcept { return name_of(kStages, s); }
std::optional<Stage> stage_from_string(std::string_view s) noexcept { return value_of(kStages, s); }
std::string_view to_string(Outcome o) noexcept { return name_of(kOutcomes, o); }
std::optional<Outcome> outcome_from_string(std::string_view s) noexcept { return value_of(kOutcomes, s); }

}  // namespace keyward::migrate
