// SPDX-License-Identifier: Apache-2.0
// The audit log's hash chain. Each entry's hash covers prev_hash, which links it to the entry
// before (64 zeros for the first), and the entry's fields by the rule of its chain version:
//   2 (since issue 12): SHA-256 of "keyward.audit/v2\n" and then, for seq, time, actor, via,
//     action, subject, detail and prev_hash in this order, "<byte length>:<bytes>\n", with the
//     detail's stored JSON text byte for byte (integers in decimal). What is hashed is what is
//     stored, so no reader (SQLite's json_extract, a SIEM) can see another value than verify did.
//   1 (entries written before): SHA-256 of the canonical JSON {action, actor, detail, prev_hash,
//     seq, subject, time} (sorted keys). Verify also requires a v1 detail's stored text to be its
//     canonical JSON, as the v1 writer stored it, so its bytes are fixed by the hash too.
// Verify refuses any detail that is not one JSON object or repeats a key in an object, names
// the first changed or missing entry, and checks heads exported earlier or signed (checkpoints).
// Used by: sql_audit.cpp (append and verify); a PostgreSQL store would share it.
#pragma once

#include <keyward/collector/store.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::collector::detail {

// prev_hash of entry 1.
inline const std::string kZeroHash(64, '0');
// The chain version new entries are written with.
inline constexpr int kAuditChainVersion = 2;

// The bytes hashed for an entry by the rule of its e.chain (1 or 2); its hash field is not part
// of it. Throws StoreError for another version; a version-1 entry must hold valid UTF-8.
std::string audit_hashed_text(const AuditEntry& e);
// SHA-256 hex of audit_hashed_text(e).
std::string audit_hash(const AuditEntry& e);
// Why a stored detail text cannot be an entry's detail ("" when it can): not JSON, not an
// object, or an object that repeats a key ("the key \"n\" twice").
std::string detail_problem(std::string_view text);
// Checks entries (in seq order, as stored) against the chain, then the exported head and the
// signed checkpoints (whose signatures the caller checked).
AuditVerdict verify_chain(const std::vector<AuditEntry>& entries, const std::optional<AuditHead>& head,
                          const std::vector<AuditCheckpoint>& checkpoints);

}  // namespace keyward::collector::detail
