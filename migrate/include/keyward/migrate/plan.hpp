// SPDX-License-Identifier: Apache-2.0
// Migration plans into HSM storage (docs/migration.md): one item per key identity, covering
// every place the key sits, with a strategy and its reasons in words, named blockers, the
// target profile and token, the steps (by-hand commands, verification, clean-up of every copy,
// certificate actions), an owner and a state. Built from findings (one host's scan, or the
// collector's inventory) with target profiles and a policy as data (rules/hsm/*.yaml).
// Used by: `keyward plan` (offline, one host), the collector (fleet plan, approval state),
// `keyward migrate` and the agent (which run approved items).
// Must never hold key bytes, passwords or PINs: a plan is facts and words only.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::migrate {

// The JSON schema name of a plan document and of one item's result.
inline constexpr std::string_view kPlanSchema = "keyward.plan/v1";
inline constexpr std::string_view kResultSchema = "keyward.migration-result/v1";

// How a key gets into the HSM.
//   regenerate: a new key made inside the token, a CSR from it; the old certificate retired and
//               revoked. The default whenever the key must be presumed copied.
//   import:     the existing key moved in as non-extractable (protected keys only).
enum class Strategy { regenerate, import };
std::string_view to_string(Strategy s) noexcept;  // "regenerate" | "import"
std::optional<Strategy> strategy_from_string(std::string_view s) noexcept;

// Where an item is in its life (the collector keeps it; a local plan starts proposed).
enum class ItemState { proposed, approved, running, done, failed, refused };
std::string_view to_string(ItemState s) noexcept;  // "proposed", "approved", ...
std::optional<ItemState> item_state_from_string(std::string_view s) noexcept;

// What stops an item (or one strategy of it), with a stable code and a sentence.
// Codes: algorithm-refused-by-policy, algorithm-not-supported, password-unknown,
// format-not-importable, import-not-allowed (profile cannot import), no-target (no token
// matched), key-not-readable-here (encrypted, algorithm unknown until opened).
struct Blocker {
  std::string code;
  std::string message;
};

// A rule the plan cites (e.g. the CA/Browser Forum code-signing requirement).
struct Citation {
  std::string id;    // e.g. "cabf-csbr-hardware-keys"
  std::string text;  // one sentence
  std::string url;   // the public document
};

// One place of the key: a host and a path (and a member inside an archive).
struct Place {
  std::string host;      // hostname
  std::string agent_id;  // "" for a local plan
  std::string place_id;  // the collector's place id ("" for a local plan)
  std::string finding_id;
  std::string path;
  std::string member;          // "" unless inside an archive or store
  std::string format;          // the finding's format name, e.g. "pem-pkcs8"
  bool encrypted = false;      // the key (or store) at this place is password-protected
  std::int64_t file_size = 0;  // what the approval binds to: a change puts the item back to proposed
  std::string file_mtime;      // RFC 3339, as the finding says
};

// A certificate of the key (paired in the same scan, or a store's chain leaf).
struct CertSummary {
  std::string subject;
  std::string issuer;
  std::string serial;
  std::string not_after;  // RFC 3339
  std::string sha256;
  bool code_signing = false;      // extended key usage codeSigning
  bool publicly_trusted = false;  // chains to a public root (the publicly-trusted factor)
  bool self_signed = false;
};

// Which profile and token an item goes to, and why (the policy rule that matched).
struct Target {
  std::string profile;  // e.g. "softhsm2", "yubihsm2", "aws-cloudhsm", "azure-managed-hsm", "thales-luna"
  std::string token;    // token label, e.g. "codesign"
  std::string label;    // the object label the key gets (CKA_LABEL)
  std::string why;      // "policy rule code-signing: code-signing keys go to the codesign token"
};

// One step; commands are what a person could run by hand (pkcs11-tool / openssl), never
// holding a secret (they read PINs and passwords from the environment or a prompt).
enum class StepKind { migrate, verify, certificate, cleanup };
std::string_view to_string(StepKind k) noexcept;  // "migrate", "verify", "certificate", "cleanup"
std::optional<StepKind> step_kind_from_string(std::string_view s) noexcept;
struct Step {
  StepKind kind = StepKind::migrate;
  std::string host;  // where it runs ("" for certificate actions at the CA)
  std::string path;  // for clean-up: the copy it removes
  std::string text;  // one sentence
  std::vector<std::string> commands;
};

// The algorithm of a key as the profiles name it: "rsa-2048", "rsa-3072", "rsa-4096",
// "rsa-1024", "ec-p256", "ec-p384", "ed25519", ...; "" when unknown (an encrypted key).
std::string algorithm_name(const scanner::Finding& f);

struct PlanItem {
  std::string id;        // 16 hex: SHA-256 of "keyward-plan-item\0" + identity, stable across rebuilds
  std::string identity;  // "spki:<hex>" etc. (scanner::Finding::key_identity)
  int rank = 0;          // 1 = act first (the riskiest place, by keyward::rules::ranks_before)
  int score = 0;         // of the riskiest place
  int raw = 0;
  std::string severity;
  std::string algorithm;  // algorithm_name()
  bool encrypted = false;
  bool weak_password = false;  // opened by a common password, or the password lies nearby
  std::vector<CertSummary> certificates;
  Strategy strategy = Strategy::regenerate;
  std::vector<std::string> reasons;  // why this strategy, in words
  std::vector<Citation> citations;
  std::vector<Blocker> blockers;  // an item with a blocker cannot run until it is resolved
  Target target;
  Place migrate_on;           // the place the migration step reads (import) or replaces (regenerate)
  std::vector<Place> places;  // every place, migrate_on included; one clean-up step each
  std::vector<Step> steps;
  std::string owner;  // file owner of migrate_on, else the policy's default owner
  ItemState state = ItemState::proposed;
  // Collector fields (empty in a local plan).
  std::string requested_by, approved_by, refused_by, decision_reason;
  std::int64_t requested_at = 0, decided_at = 0;
};

struct PlanSummary {
  std::uint64_t items = 0, regenerate = 0, import = 0, blocked = 0, cleanups = 0;
};

struct Plan {
  std::string generated_at;         // RFC 3339
  std::string scope;                // "host <name>" or "fleet"
  std::vector<std::string> hosts;   // covered
  std::vector<std::string> policy;  // the policy and profile files in force ("builtin" for the embedded ones)
  std::vector<PlanItem> items;      // by rank
  PlanSummary summary() const;
};

// Target profiles (rules/hsm/*.yaml) and the policy that maps keys to tokens.
struct Profile {
  std::string id, name, vendor;
  std::string fips_level;               // e.g. "FIPS 140-2 Level 3", "none"
  std::vector<std::string> algorithms;  // algorithm_name()s it takes
  bool can_import = false;
  std::string source;  // the vendor document it was checked against (URL)
};
struct PolicyRule {
  std::string id;                              // e.g. "code-signing"
  std::string match;                           // "code-signing" | "ca" | "tls" | "ssh" | "any"  (what the key signs)
  std::string profile;                         // a Profile id
  std::string token;                           // token label
  std::string label_prefix;                    // CKA_LABEL = prefix + short identity
  std::vector<std::string> refuse_algorithms;  // e.g. "rsa-1024" (algorithm-refused-by-policy)
  bool allow_import = true;                    // false: keys this rule matches are always regenerated
};
struct Targets {
  std::vector<Profile> profiles;
  std::vector<PolicyRule> rules;  // first match wins
  std::string default_owner;      // when the file owner is unknown
  std::vector<std::string> sources;
};
// The embedded profiles and policy, plus every *.yaml under dirs (same shape; later files
// replace profiles or rules of the same id). Throws rules::RuleError naming the file and key.
Targets load_targets(const std::vector<std::string>& dirs = {});

// A finding at its place; identity "" means finding.key_identity().
struct PlacedFinding {
  std::string host;
  std::string agent_id;
  std::string place_id;
  std::string identity;
  scanner::Finding finding;  // with risk (rules ran)
};

struct PlanOptions {
  std::string now;    // RFC 3339 (tests pin it); "" = the clock
  std::string scope;  // "host <name>" or "fleet"
};

// One item per identity whose places hold a private key (private_key or keystore findings;
// certificates only describe the key). Certificates paired with it (paired_with, or the same
// SPKI) fill `certificates`. Items are ordered by risk (their riskiest place, ranks_before).
Plan build_plan(const std::vector<PlacedFinding>& findings, const Targets& targets, const PlanOptions& options);

// Rendering: the JSON document (kPlanSchema, docs/plan.schema.json), Markdown, and a text view
// for a terminal. from_json throws std::invalid_argument with the field when a plan is malformed.
std::string to_json(const Plan& plan);
Plan plan_from_json(std::string_view text);
// One item, as it appears in a plan's "items" (the collector's API and the agent's wire use it).
nlohmann::json item_to_json(const PlanItem& item);
PlanItem item_from_json(const nlohmann::json& j);
// An item's id: 16 hex of SHA-256("keyward-plan-item\0" + identity), stable across rebuilds.
std::string item_id_for(std::string_view identity);
std::string to_markdown(const Plan& plan);
std::string to_text(const Plan& plan, bool color);

}  // namespace keyward::migrate
