// SPDX-License-Identifier: Apache-2.0
// The audit chain's two hashing rules, the detail's duplicate-key check and verification.
#include "store/audit_chain.hpp"

#include "store/secrets.hpp"

#include <fmt/format.h>

#include <set>

namespace keyward::collector::detail {
namespace {

using json = nlohmann::json;

std::string v1_text(const AuditEntry& e) {
  // nlohmann::json objects keep keys sorted (std::map), so dump() is canonical for the strings
  // and integers an entry holds.
  const json detail = json::parse(e.detail_text, nullptr, false);
  const json j = {{"seq", e.seq},         {"time", e.time},   {"actor", e.actor},        {"action", e.action},
                  {"subject", e.subject}, {"detail", detail}, {"prev_hash", e.prev_hash}};
  return j.dump();
}

std::string v2_text(const AuditEntry& e) {
  std::string out = "keyward.audit/v2\n";
  for (const std::string& field : {std::to_string(e.seq), std::to_string(e.time), e.actor, e.via, e.action, e.subject,
                                   e.detail_text, e.prev_hash}) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
    out += '\n';
  }
  return out;
}

// Why entry e (its hash aside) cannot be one keyward wrote; "" when it can.
std::string entry_problem(const AuditEntry& e, int previous_chain) {
  if (e.chain != 1 && e.chain != 2)
    return fmt::format("entry {} was changed (unknown chain version {})", e.seq, e.chain);
  if (e.chain < previous_chain)
    return fmt::format("entry {} was changed (chain version {} after {})", e.seq, e.chain, previous_chain);
  if (const std::string p = detail_problem(e.detail_text); !p.empty())
    return fmt::format("entry {} was changed: its detail {}", e.seq, p);
  if (e.chain == 1) {
    bool canonical = false;
    try {
      canonical = json::parse(e.detail_text).dump() == e.detail_text;
    } catch (const json::exception&) {  // not UTF-8: the v1 writer could not have stored it
    }
    if (!canonical) return fmt::format("entry {} was changed: its detail is not the text keyward wrote", e.seq);
  }
  return {};
}

}  // namespace

std::string audit_hashed_text(const AuditEntry& e) {
  if (e.chain == 1) return v1_text(e);
  if (e.chain == 2) return v2_text(e);
  throw StoreError(fmt::format("audit entry {}: unknown chain version {}", e.seq, e.chain));
}

std::string audit_hash(const AuditEntry& e) { return sha256_hex(audit_hashed_text(e)); }

std::string detail_problem(std::string_view text) {
  std::vector<std::set<std::string>> keys;  // of each object being parsed, innermost last
  std::string repeated;
  const json::parser_callback_t track = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
        repeated.empty())
      repeated = parsed.get<std::string>();
    return true;
  };
  const json j = json::parse(text, track, false);
  if (j.is_discarded()) return "is not JSON";
  if (!j.is_object()) return "is not a JSON object";
  if (!repeated.empty()) return fmt::format("has the key \"{}\" twice", repeated.substr(0, 64));
  return {};
}

AuditVerdict verify_chain(const std::vector<AuditEntry>& entries, const std::optional<AuditHead>& head,
                          const std::vector<AuditCheckpoint>& checkpoints) {
  AuditVerdict v;
  v.entries = entries.size();
  auto bad = [&v](std::uint64_t seq, std::string problem) {
    v.ok = false;
    v.first_bad_seq = seq;
    v.problem = std::move(problem);
    return v;
  };
  std::uint64_t expected = 1;
  std::string prev = kZeroHash;
  int chain = 1;
  for (const auto& e : entries) {
    if (e.seq != expected) return bad(expected, fmt::format("entry {} is missing", expected));
    if (std::string p = entry_problem(e, chain); !p.empty()) return bad(e.seq, std::move(p));
    std::string hash;
    try {
      hash = audit_hash(e);
    } catch (const json::exception&) {  // a v1 field that is not UTF-8: keyward never wrote it
    }
    if (hash != e.hash) return bad(e.seq, fmt::format("entry {} was changed", e.seq));
    // The entry is intact but does not link to the one before: that one was rewritten
    // (with a recomputed hash), or this link was.
    if (e.prev_hash != prev) {
      const std::uint64_t s = e.seq > 1 ? e.seq - 1 : e.seq;
      return bad(s, fmt::format("entry {} was changed", s));
    }
    prev = e.hash;
    chain = e.chain;
    ++expected;
  }
  const std::uint64_t last = entries.size();
  if (head && head->seq > 0) {
    if (last < head->seq)
      return bad(last + 1, fmt::format("the log ends at {}, before the exported head {}", last, head->seq));
    if (entries[head->seq - 1].hash != head->hash)
      return bad(head->seq, fmt::format("entry {} was changed", head->seq));
  }
  // The earliest entry a checkpoint disagrees with: the log was rewritten there or before.
  const AuditCheckpoint* first = nullptr;
  for (const auto& c : checkpoints) {
    if (c.seq == 0 || last < c.seq) {
      if (first == nullptr || c.seq < first->seq) first = &c;
      continue;
    }
    if (entries[c.seq - 1].hash != c.hash && (first == nullptr || c.seq < first->seq)) first = &c;
    ++v.checkpoints;
  }
  if (first != nullptr && last < first->seq)
    return bad(last + 1, fmt::format("the log ends at {}, before the signed checkpoint of entry {}", last, first->seq));
  if (first != nullptr)
    return bad(first->seq, fmt::format("entry {} does not match its signed checkpoint: the log was rewritten at or "
                                       "before entry {}",
                                       first->seq, first->seq));
  return v;
}

}  // namespace keyward::collector::detail
