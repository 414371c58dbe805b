// SPDX-License-Identifier: Apache-2.0
// The JSON form of plans (keyward.plan/v1, docs/plan.schema.json). One field walk per struct
// serves encoding and decoding alike (as scanner/src/finding_codec.cpp does for the scan cache),
// so a field added to a struct and to its walk is written and read back the same way.
#include "json_text.hpp"

#include <keyward/migrate/plan.hpp>

#include <concepts>
#include <stdexcept>
#include <type_traits>

namespace keyward::migrate {
namespace {

using nlohmann::json;

template <class S, class T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

// The one field order and the JSON names, for encoding (S const) and decoding alike.
template <class IO, Is<Blocker> S>
void walk(IO& io, S& b) {
  io("code", b.code), io("message", b.message);
}
template <class IO, Is<Citation> S>
void walk(IO& io, S& c) {
  io("id", c.id), io("text", c.text), io("url", c.url);
}
template <class IO, Is<Place> S>
void walk(IO& io, S& p) {
  io("host", p.host), io("agent_id", p.agent_id), io("place_id", p.place_id), io("finding_id", p.finding_id),
      io("path", p.path), io("member", p.member), io("format", p.format), io("encrypted", p.encrypted),
      io("file_size", p.file_size), io("file_mtime", p.file_mtime);
}
template <class IO, Is<CertSummary> S>
void walk(IO& io, S& c) {
  io("subject", c.subject), io("issuer", c.issuer), io("serial", c.serial), io("not_after", c.not_after),
      io("sha256", c.sha256), io("code_signing", c.code_signing), io("publicly_trusted", c.publicly_trusted),
      io("self_signed", c.self_signed);
}
template <class IO, Is<Target> S>
void walk(IO& io, S& t) {
  io("profile", t.profile), io("token", t.token), io("label", t.label), io("why", t.why);
}
template <class IO, Is<Step> S>
void walk(IO& io, S& s) {
  io("kind", s.kind), io("host", s.host), io("path", s.path), io("text", s.text), io("commands", s.commands);
}
template <class IO, Is<PlanItem> S>
void walk(IO& io, S& i) {
  io("id", i.id), io("identity", i.identity), io("rank", i.rank), io("score", i.score), io("raw", i.raw),
      io("severity", i.severity), io("algorithm", i.algorithm), io("encrypted", i.encrypted),
      io("weak_password", i.weak_password), io("certificates", i.certificates), io("strategy", i.strategy),
      io("reasons", i.reasons), io("citations", i.citations), io("blockers", i.blockers), io("target", i.target),
      io("migrate_on", i.migrate_on), io("places", i.places), io("steps", i.steps), io("owner", i.owner),
      io("state", i.state), io("requested_by", i.requested_by), io("approved_by", i.approved_by),
      io("refused_by", i.refused_by), io("decision_reason", i.decision_reason), io("requested_at", i.requested_at),
      io("decided_at", i.decided_at);
}
template <class IO, Is<Plan> S>
void walk(IO& io, S& p) {
  io("generated_at", p.generated_at), io("scope", p.scope), io("hosts", p.hosts), io("policy", p.policy),
      io("items", p.items);
}

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

bool parse_enum(std::string_view s, Strategy& v) {
  auto x = strategy_from_string(s);
  return x ? (v = *x, true) : false;
}
bool parse_enum(std::string_view s, ItemState& v) {
  auto x = item_state_from_string(s);
  return x ? (v = *x, true) : false;
}
bool parse_enum(std::string_view s, StepKind& v) {
  auto x = step_kind_from_string(s);
  return x ? (v = *x, true) : false;
}

template <class T>
json encode(const T& v);

struct Encoder {
  json& out;
  template <class T>
  void operator()(const char* name, const T& v) {
    out[name] = encode(v);
  }
};

template <class T>
json encode(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return text::to_json(v);  // {"b64": ...} when not UTF-8 (json_text.hpp)
  } else if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) {
    return json(v);
  } else if constexpr (std::is_enum_v<T>) {
    return json(std::string(to_string(v)));
  } else if constexpr (IsVector<T>::value) {
    json a = json::array();
    for (const auto& x : v) a.push_back(encode(x));
    return a;
  } else {
    json o = json::object();
    Encoder e{o};
    walk(e, v);
    return o;
  }
}

[[noreturn]] void bad(const std::string& path, const char* expected) {
  throw std::invalid_argument("plan field " + path + ": expected " + expected);
}

template <class T>
void decode(const json& j, T& v, const std::string& path);

struct Decoder {
  const json& in;
  const std::string& path;
  template <class T>
  void operator()(const char* name, T& v) {
    auto it = in.find(name);
    if (it != in.end()) decode(*it, v, path + "." + name);  // absent: the default
  }
};

template <class T>
void decode(const json& j, T& v, const std::string& path) {
  if constexpr (std::is_same_v<T, std::string>) {
    auto t = text::from_json(j);
    if (!t) bad(path, "a string, or {\"b64\": base64}");
    v = std::move(*t);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) bad(path, "true or false");
    v = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer() || (std::is_unsigned_v<T> && !j.is_number_unsigned())) bad(path, "an integer");
    v = j.get<T>();
  } else if constexpr (std::is_enum_v<T>) {
    if (!j.is_string() || !parse_enum(j.get<std::string>(), v)) bad(path, "one of the documented names");
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) bad(path, "an array");
    v.assign(j.size(), {});
    for (std::size_t i = 0; i < j.size(); ++i) decode(j[i], v[i], path + "[" + std::to_string(i) + "]");
  } else {
    if (!j.is_object()) bad(path, "an object");
    Decoder d{j, path};
    walk(d, v);
  }
}

}  // namespace

nlohmann::json item_to_json(const PlanItem& item) { return encode(item); }

PlanItem item_from_json(const nlohmann::json& j) {
  PlanItem item;
  decode(j, item, "item");
  return item;
}

std::string to_json(const Plan& plan) {
  json j = json::object();
  j["schema"] = std::string(kPlanSchema);
  const PlanSummary s = plan.summary();
  j["summary"] = {{"items", s.items},
                  {"regenerate", s.regenerate},
                  {"import", s.import},
                  {"blocked", s.blocked},
                  {"cleanups", s.cleanups}};
  Encoder e{j};
  walk(e, plan);
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Plan plan_from_json(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string("not a JSON document: ") + e.what());
  }
  if (!j.is_object() || !j.contains("schema") || j["schema"] != std::string(kPlanSchema))
    throw std::invalid_argument("plan field schema: expected \"" + std::string(kPlanSchema) + "\"");
  Plan plan;
  decode(j, plan, "plan");
  return plan;
}

}  // namespace keyward::migrate
