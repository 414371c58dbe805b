// Canonical JSON, SHA-256 chain and its verification.
#include "store/audit_chain.hpp"

#include "store/secrets.hpp"

#include <fmt/format.h>

namespace keyward::collector::detail {

std::string audit_canonical(const AuditEntry& e) {
  // nlohmann::json objects keep keys sorted (std::map), so dump() is canonical for the strings
  // and integers an entry holds.
  const nlohmann::json j = {
      {"seq", e.seq},         {"time", e.time},     {"actor", e.actor},        {"action", e.action},
      {"subject", e.subject}, {"detail", e.detail}, {"prev_hash", e.prev_hash}};
  return j.dump();
}

std::string audit_hash(const AuditEntry& e) { return sha256_hex(audit_canonical(e)); }

AuditVerdict verify_chain(const std::vector<AuditEntry>& entries, const std::optional<AuditHead>& head) {
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
  for (const auto& e : entries) {
    if (e.seq != expected) return bad(expected, fmt::format("entry {} is missing", expected));
    if (audit_hash(e) != e.hash) return bad(e.seq, fmt::format("entry {} was changed", e.seq));
    // The entry is intact but does not link to the one before: that one was rewritten
    // (with a recomputed hash), or this link was.
    if (e.prev_hash != prev) {
      const std::uint64_t s = e.seq > 1 ? e.seq - 1 : e.seq;
      return bad(s, fmt::format("entry {} was changed", s));
    }
    prev = e.hash;
    ++expected;
  }
  if (head && head->seq > 0) {
    const std::uint64_t last = entries.size();
    if (last < head->seq)
      return bad(last + 1, fmt::format("the log ends at {}, before the exported head {}", last, head->seq));
    if (entries[head->seq - 1].hash != head->hash)
      return bad(head->seq, fmt::format("entry {} was changed", head->seq));
  }
  return v;
}

}  // namespace keyward::collector::detail
