// SPDX-License-Identifier: Apache-2.0
// Running approved plan items on the host that holds the key (docs/migration.md, "What runs
// where"): import or regenerate into a PKCS#11 token, verify inside the token, then clean up.
// All or nothing per item: a failure destroys the objects the item created. Idempotent: an
// import whose key is in the token already (CKA_ID = the SHA-256 of its SPKI, its identity) or a
// regenerate whose label is there already is skipped and reported.
// Used by: `keyward migrate` (a person on the host) and the agent (opt-in `migrate:` section).
// Must never print, log or return the PIN, a password or key bytes; they live in
// common::SecretBytes and are wiped.
#pragma once

#include <keyward/common/secret.hpp>
#include <keyward/migrate/plan.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::migrate {

// A secret named on the command line or in agent.yaml: "env:VAR" or "file:PATH" (never the
// secret itself). Throws std::invalid_argument for another form, std::runtime_error when the
// variable is unset or the file unreadable (the message names the source, never the value).
// A file's one trailing newline is dropped.
common::SecretBytes read_secret_source(std::string_view source);

// Where keys go: a PKCS#11 module (dlopen'ed), a token found by its label, and its user PIN.
struct TokenConfig {
  std::string module;  // e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token;   // token label
};

// The stages of one item, in order; on_stage is called before each (progress, tests).
enum class Stage { check, read_key, create_key, create_certificate, make_csr, verify, cleanup };
std::string_view to_string(Stage s) noexcept;
std::optional<Stage> stage_from_string(std::string_view s) noexcept;

struct RunOptions {
  std::string host;            // this host's name: only its places are acted on
  bool dry_run = false;        // print what would happen, change nothing
  bool remove_source = false;  // overwrite and remove the source files after verification
  std::vector<Strategy> allowed = {Strategy::regenerate, Strategy::import};
  std::optional<common::SecretBytes> key_password;                  // for import of an encrypted key
  std::function<void(const std::string& item_id, Stage)> on_stage;  // may throw (a failure injected)
  std::function<void(const std::string& line)> say;                 // human progress lines
};

// What happened to one item; sent to the collector (kResultSchema) or written to a local file.
enum class Outcome { done, skipped, failed, refused, dry_run };
std::string_view to_string(Outcome o) noexcept;
std::optional<Outcome> outcome_from_string(std::string_view s) noexcept;
struct Verification {
  bool signature_ok = false;           // a random challenge signed in the token, verified by OpenSSL
  bool public_key_matches = false;     // the token's public key is the certificate's / CSR's
  bool sensitive = false;              // CKA_SENSITIVE read back
  bool extractable = true;             // CKA_EXTRACTABLE read back (must be false)
  bool private_value_refused = false;  // reading the private value gave CKR_ATTRIBUTE_SENSITIVE
  std::string mechanism;               // e.g. "CKM_SHA256_RSA_PKCS"
};
struct Cleanup {
  std::string path;
  bool removed = false;
  std::string error;  // why not, "" when removed or not asked
};
struct ItemResult {
  std::string item_id;
  std::string identity;
  std::string host;
  Strategy strategy = Strategy::regenerate;
  Outcome outcome = Outcome::failed;
  std::string message;             // one line; never a secret
  Stage failed_at = Stage::check;  // when outcome is failed
  std::string key_id;              // CKA_ID in hex
  std::string label;               // CKA_LABEL
  std::string csr_pem;             // regenerate: the CSR (public)
  std::string new_spki_sha256;     // regenerate: the new key's identity
  Verification verification;
  std::vector<Cleanup> cleanups;
  std::vector<std::string> actions;     // what was (or, for a dry run, would be) done, in order
  std::string started_at, finished_at;  // RFC 3339
};
// A result of item on host that says only who and what so far: item id, identity, host,
// strategy, started_at = now; the outcome is failed until the run says otherwise.
ItemResult result_for(const PlanItem& item, std::string host);
// The time now as results write it (RFC 3339, UTC).
std::string now_rfc3339();
nlohmann::json result_to_json(const ItemResult& r);
ItemResult result_from_json(const nlohmann::json& j);

// The clean-up of a done item's copies on this host (options.host), after the key was moved
// and verified on its migrate_on host: needs no token. Each copy is overwritten and removed
// only with options.remove_source, and only if the file is unchanged since the plan (its size
// and mtime), so that a file replaced since is never destroyed on the plan's word. Outcome
// done when every copy here was removed, refused when the item is not done or remove_source is
// off, failed otherwise (cleanups says which and why); dry_run removes nothing.
ItemResult clean_up_copies(const PlanItem& item, const RunOptions& options);

// Opens the module and logs in once for many items; the PIN is wiped by the caller's
// SecretBytes and never copied elsewhere. Throws std::runtime_error naming the module or token
// (never the PIN) when the module cannot be loaded or the login fails.
class TokenSession {
 public:
  TokenSession(const TokenConfig& config, const common::SecretBytes& pin);
  ~TokenSession();
  TokenSession(const TokenSession&) = delete;
  TokenSession& operator=(const TokenSession&) = delete;
  // Runs one item (only if its state is approved, else refused) for options.host.
  ItemResult run(const PlanItem& item, const RunOptions& options);
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::migrate
