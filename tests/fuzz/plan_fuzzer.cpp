// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for what `keyward migrate` and the agent read from a plan file or from the
// collector (docs/migration.md): migrate::plan_from_json (keyward.plan/v1), item_from_json and
// result_from_json (keyward.migration-result/v1). Malformed input must throw
// std::invalid_argument (or nlohmann's parse error) and nothing else; what parses must survive
// its own round trip unchanged, since the collector stores and serves it again.
// Seeds: the plan of a real scan by `keyward plan`, and results (tests/fuzz/make_seeds.py).
#include <keyward/migrate/execute.hpp>
#include <keyward/migrate/plan.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace mg = keyward::migrate;

namespace {

template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {  // a malformed document, named by its field
  } catch (const nlohmann::json::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  expect_clean([&] {
    const mg::Plan plan = mg::plan_from_json(text);
    const std::string once = mg::to_json(plan);
    if (mg::to_json(mg::plan_from_json(once)) != once) __builtin_trap();
    (void)mg::to_markdown(plan);
    (void)mg::to_text(plan, true);
  });
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  expect_clean([&] {
    const auto item = mg::item_from_json(j);
    const auto once = mg::item_to_json(item);
    if (mg::item_to_json(mg::item_from_json(once)) != once) __builtin_trap();
  });
  expect_clean([&] {
    const auto r = mg::result_from_json(j);
    const auto once = mg::result_to_json(r);
    if (mg::result_to_json(mg::result_from_json(once)) != once) __builtin_trap();
  });
  return 0;
}
