// SPDX-License-Identifier: Apache-2.0
// Text in plan and result documents (docs/plan.schema.json, "text"): paths, and the steps,
// reasons and results that name them, come from scanned machines and may not be UTF-8. A valid
// UTF-8 string is written as itself, any other as {"b64": base64 of its bytes}, so that nothing
// is lost and every document stays valid JSON. Used by plan_json.cpp and result_json.cpp.
#pragma once

#include <keyward/common/base64.hpp>
#include <keyward/common/utf8.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace keyward::migrate::text {

inline nlohmann::json to_json(const std::string& s) {
  if (common::valid_utf8(s)) return s;
  return nlohmann::json{{"b64", common::base64_encode(std::string_view(s))}};
}

// The string, or nullopt when j is neither a string nor a well-formed {"b64": ...}.
inline std::optional<std::string> from_json(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object() || j.size() != 1 || !j.contains("b64") || !j["b64"].is_string()) return std::nullopt;
  const auto bytes = common::base64_decode(j["b64"].get<std::string>());
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace keyward::migrate::text
