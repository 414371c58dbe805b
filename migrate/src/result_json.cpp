// SPDX-License-Identifier: Apache-2.0
// result_to_json / result_from_json (execute.hpp, schema keyward.migration-result/v1): one field
// walk for both directions, so that a field added to ItemResult is added once.
#include "json_text.hpp"

#include <keyward/migrate/execute.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace keyward::migrate {
namespace {

using nlohmann::json;

// Writes each field into a JSON object.
struct Encoder {
  json& j;
  template <class T>
  void operator()(const char* key, const T& v) {
    j[key] = encode(v);
  }
  template <class T>
  static json encode(const T& v) {
    if constexpr (std::is_same_v<T, Strategy> || std::is_same_v<T, Outcome> || std::is_same_v<T, Stage>) {
      return std::string(to_string(v));
    } else if constexpr (std::is_same_v<T, std::string>) {
      return text::to_json(v);  // paths may not be UTF-8 (json_text.hpp)
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      json a = json::array();
      for (const auto& s : v) a.push_back(text::to_json(s));
      return a;
    } else {
      return v;
    }
  }
};

// Reads each field from a JSON object (absent fields keep their defaults); throws
// std::invalid_argument naming a field of the wrong type or with an unknown name.
struct Decoder {
  const json& j;
  template <class T>
  void operator()(const char* key, T& v) {
    const auto it = j.find(key);
    if (it == j.end()) return;
    try {
      decode(*it, v, key);
    } catch (const json::exception&) {
      throw std::invalid_argument(std::string("migration result: bad field ") + key);
    }
  }
  template <class T>
  static void decode(const json& x, T& v, const char* key) {
    std::optional<T> parsed;
    if constexpr (std::is_same_v<T, Strategy>) parsed = strategy_from_string(x.get<std::string>());
    else if constexpr (std::is_same_v<T, Outcome>) parsed = outcome_from_string(x.get<std::string>());
    else if constexpr (std::is_same_v<T, Stage>) parsed = stage_from_string(x.get<std::string>());
    else if constexpr (std::is_same_v<T, std::string>) parsed = text::from_json(x);
    else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (!x.is_array()) throw std::invalid_argument(std::string("migration result: bad field ") + key);
      parsed.emplace();
      for (const auto& e : x) {
        auto t = text::from_json(e);
        if (!t) throw std::invalid_argument(std::string("migration result: bad field ") + key);
        parsed->push_back(std::move(*t));
      }
    } else parsed = x.get<T>();
    if (!parsed) throw std::invalid_argument(std::string("migration result: unknown value of ") + key);
    v = *parsed;
  }
};

template <class IO, class V>
void walk_verification(IO& io, V& v) {
  io("signature_ok", v.signature_ok), io("public_key_matches", v.public_key_matches), io("sensitive", v.sensitive),
      io("extractable", v.extractable), io("private_value_refused", v.private_value_refused),
      io("mechanism", v.mechanism);
}

template <class IO, class C>
void walk_cleanup(IO& io, C& c) {
  io("path", c.path), io("removed", c.removed), io("error", c.error);
}

template <class IO, class R>
void walk(IO& io, R& r) {
  io("item_id", r.item_id), io("identity", r.identity), io("host", r.host), io("strategy", r.strategy),
      io("outcome", r.outcome), io("message", r.message), io("failed_at", r.failed_at), io("key_id", r.key_id),
      io("label", r.label), io("csr_pem", r.csr_pem), io("new_spki_sha256", r.new_spki_sha256),
      io("actions", r.actions), io("started_at", r.started_at), io("finished_at", r.finished_at);
}

}  // namespace

json result_to_json(const ItemResult& r) {
  json j = json::object();
  j["schema"] = std::string(kResultSchema);
  Encoder e{j};
  walk(e, r);
  json v = json::object();
  Encoder ev{v};
  walk_verification(ev, r.verification);
  j["verification"] = std::move(v);
  j["cleanups"] = json::array();
  for (const auto& c : r.cleanups) {
    json cj = json::object();
    Encoder ec{cj};
    walk_cleanup(ec, c);
    j["cleanups"].push_back(std::move(cj));
  }
  return j;
}

ItemResult result_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("migration result: not an object");
  if (j.contains("schema") && j["schema"] != kResultSchema)
    throw std::invalid_argument("migration result: schema is not " + std::string(kResultSchema));
  ItemResult r;
  Decoder d{j};
  walk(d, r);
  if (const auto v = j.find("verification"); v != j.end() && v->is_object()) {
    Decoder dv{*v};
    walk_verification(dv, r.verification);
  }
  if (const auto cs = j.find("cleanups"); cs != j.end() && cs->is_array())
    for (const auto& c : *cs) {
      Cleanup out;
      Decoder dc{c};
      walk_cleanup(dc, out);
      r.cleanups.push_back(std::move(out));
    }
  if (r.item_id.empty()) throw std::invalid_argument("migration result: item_id is missing");
  return r;
}

}  // namespace keyward::migrate
