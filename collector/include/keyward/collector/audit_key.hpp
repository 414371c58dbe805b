// SPDX-License-Identifier: Apache-2.0
// The collector's audit key: an Ed25519 key kept in a file apart from the database (pki/audit.key,
// mode 0600) that signs checkpoints of the audit log's head, and its public half (pki/audit.pub)
// that `keyward-collector audit verify` checks them with (docs/fleet.md, "Events and audit").
// Whoever can rewrite the database and recompute the hash chain cannot sign a matching head
// without this key.
// Used by: the store (signs after each change, sql_audit.cpp), the command line (init and
// serve make the key; audit verify reads checkpoints). OpenSSL stays inside audit_key.cpp.
// Must never write the private key anywhere but its own file, nor put it in a message.
#pragma once

#include <keyward/collector/store.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace keyward::collector {

// The "type" of a checkpoint line in the events file.
inline constexpr const char* kCheckpointType = "audit_checkpoint";

// The exact text an Ed25519 signature of a checkpoint covers (seq, hash, time and key id).
std::string checkpoint_signed_text(const AuditCheckpoint& c);
// A checkpoint as its events-file line: {"type": "audit_checkpoint", "audit_seq", "audit_hash",
// "time", "key_id", "signature"}.
nlohmann::json to_json(const AuditCheckpoint& c);
// The checkpoint of such a line; nullopt when a member is missing or malformed.
std::optional<AuditCheckpoint> checkpoint_from_json(const nlohmann::json& j);

// Every checkpoint line of a JSON-lines file (the events file or a copy); other lines are skipped.
struct CheckpointLines {
  std::vector<AuditCheckpoint> checkpoints;
  std::vector<std::size_t> line_numbers;  // 1-based, one per checkpoint
  std::size_t malformed_line = 0;         // the first checkpoint line that does not parse; 0 if none
};
// Throws std::runtime_error naming the file when it cannot be read.
CheckpointLines read_checkpoint_lines(const std::string& path);

// The private key: signs checkpoints.
class AuditSigningKey {
 public:
  // Makes a new Ed25519 key: the private key at key_path (PEM PKCS#8, mode 0600, refused if the
  // file exists) and the public key at public_path (PEM, mode 0644). Throws std::runtime_error.
  static void create(const std::string& key_path, const std::string& public_path);
  // Loads the private key (made 0600 if it was not); throws std::runtime_error naming the file.
  static std::shared_ptr<const AuditSigningKey> load(const std::string& key_path);
  ~AuditSigningKey();
  AuditSigningKey(const AuditSigningKey&) = delete;
  AuditSigningKey& operator=(const AuditSigningKey&) = delete;

  // A checkpoint of head signed at time.
  AuditCheckpoint sign(const AuditHead& head, std::int64_t time) const;
  // 16 hex digits naming the key (of its public half).
  const std::string& key_id() const;
  // The public key as PEM (SubjectPublicKeyInfo).
  std::string public_pem() const;

 private:
  struct Impl;
  explicit AuditSigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The public key: checks checkpoints.
class AuditVerifyKey {
 public:
  // Loads a PEM Ed25519 public key; throws std::runtime_error naming the file.
  explicit AuditVerifyKey(const std::string& public_path);
  ~AuditVerifyKey();
  AuditVerifyKey(const AuditVerifyKey&) = delete;
  AuditVerifyKey& operator=(const AuditVerifyKey&) = delete;

  // True when c names this key and its signature is valid.
  bool verify(const AuditCheckpoint& c) const;
  const std::string& key_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::collector
