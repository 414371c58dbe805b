// The audit log's hash chain: each entry's canonical JSON (sorted keys: action, actor, detail,
// prev_hash, seq, subject, time) is hashed with SHA-256; prev_hash links it to the entry before
// (64 zeros for the first). Verification names the first changed or missing entry, and with a
// head exported earlier also a tail that was cut off.
// Used by: sqlite_audit.cpp (append and verify); a PostgreSQL store would share it.
#pragma once

#include <keyward/collector/store.hpp>

#include <optional>
#include <string>
#include <vector>

namespace keyward::collector::detail {

// prev_hash of entry 1.
inline const std::string kZeroHash(64, '0');

// The canonical form hashed for an entry (its hash field is not part of it).
std::string audit_canonical(const AuditEntry& e);
// SHA-256 hex of audit_canonical(e).
std::string audit_hash(const AuditEntry& e);
// Checks entries (in seq order, as stored) against the chain and, when given, the head.
AuditVerdict verify_chain(const std::vector<AuditEntry>& entries, const std::optional<AuditHead>& head);

}  // namespace keyward::collector::detail
