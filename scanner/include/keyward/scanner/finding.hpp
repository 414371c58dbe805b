// SPDX-License-Identifier: Apache-2.0
// The Finding: what the scanner says about one key, certificate or store, and the scan result
// around it (schema keyward.findings/v1; docs/findings.schema.json is the complete field list).
// Used by: detectors (fill kind/format/key/certificate), the scan driver (location/file/id),
// rules, reporters, agents and the collector.
// Must never hold key bytes, passwords, PINs or tokens: facts and fingerprints only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner {

// What a finding is.
enum class Kind { private_key, certificate, keystore, public_key };

// How it was encoded (JSON value: the name with '_' as '-').
enum class Format {
  pem_pkcs1,
  pem_sec1,
  pem_dsa,
  pem_pkcs8,
  pem_pkcs8_encrypted,
  pem_legacy_encrypted,
  der_pkcs1,
  der_sec1,
  der_pkcs8,
  der_pkcs8_encrypted,
  openssh,
  putty_ppk,
  sshcom,
  pgp,
  jwk,
  xml_rsa,
  pkcs12,
  jks,
  jceks,
  pvk,
  snk,
  pkcs7,
  der_pkcs7,
  gpg_binary,
  gpg_key_file,
  zip_encrypted,
  pem_cert,
  der_cert,
  pem_public_key,
  pem_csr,
  ssh_public_key,
  der_dsa,
  der_public_key,
  der_csr,
  bks,  // appended: the scan cache stores these numbers
  uber,
  bcfks,
};

// JSON spelling of a Kind ("private_key").
std::string_view to_string(Kind k) noexcept;
// JSON spelling of a Format ("pem-pkcs8").
std::string_view to_string(Format f) noexcept;
// Parses a Kind spelling; nullopt if unknown.
std::optional<Kind> kind_from_string(std::string_view s) noexcept;
// Parses a Format spelling; nullopt if unknown.
std::optional<Format> format_from_string(std::string_view s) noexcept;

// Where a finding sits.
struct Location {
  std::string path;          // as reached from the root given (may be non-UTF-8)
  std::string member;        // chain inside archives, '!'-separated; empty if none
  std::uint64_t line = 0;    // 1-based line of the block's start; 0 if not text
  std::uint64_t offset = 0;  // byte offset of the block's start in the file (or member)
  std::string host;          // the remote host a remote scan found it on (remote_fs.hpp); empty: this machine
};

// Facts of the file that holds the finding.
struct FileFacts {
  std::uint32_t mode = 0;  // permission bits (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string owner;  // user name of uid; empty if unknown
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch, UTC
};

// How a private key or store is protected, when knowable without the password.
struct Protection {
  std::string cipher;  // e.g. "aes-256-cbc", "aes256-ctr", "none"
  std::string kdf;     // e.g. "pbkdf2", "bcrypt", "argon2id", "evp-bytes-to-key"
  std::optional<std::uint64_t> kdf_iterations;
};

// KeyFacts::algorithm of a symmetric secret key (a JCEKS SecretKeyEntry, sealed by Java):
// secret material with no public half, never a private key in what a report says.
inline constexpr std::string_view kSecretKeyAlgorithm = "secret";

// StoreFacts::contents of a store whose entries could not all be read (UBER's Twofish body,
// BCFKS's AES-CCM body, a PKCS#12's EncryptedData no password opened or its EnvelopedData):
// unknown, never a trust store.
inline constexpr std::string_view kStoreContentsEncrypted = "encrypted";

// Facts of a key. Facts that need the password are omitted when it is unknown.
struct KeyFacts {
  std::string algorithm;  // rsa, dsa, ec, ed25519, ed448, x25519, x448, sk-ecdsa, sk-ed25519, elgamal, ...
  std::optional<std::uint32_t> bits;
  std::string curve;  // NIST name where one exists (P-256), else OpenSSL's short name
  bool encrypted = false;
  std::optional<Protection> protection;
  bool weak_password = false;       // a common password opened it (never which)
  std::string password_exposed_in;  // path of a file that held its password (never the value)
  std::string spki_sha256;          // lowercase hex SHA-256 of the DER SubjectPublicKeyInfo
  std::string ssh_fingerprint;      // "SHA256:<base64>" as ssh-keygen -l prints, for SSH keys
  std::string pgp_fingerprint;      // uppercase hex v4 fingerprint, for OpenPGP keys
  std::string comment;              // key comment a tool stored in clear (OpenSSH, PuTTY, PGP user id)

  // True for a symmetric secret key (kSecretKeyAlgorithm).
  bool secret_key() const { return algorithm == kSecretKeyAlgorithm; }
};

// Facts of an X.509 certificate.
struct CertFacts {
  std::string subject;  // RFC 2253 form
  std::string issuer;
  std::string serial;           // lowercase hex
  std::int64_t not_before = 0;  // seconds since the epoch
  std::int64_t not_after = 0;
  bool self_signed = false;
  bool is_ca = false;
  std::vector<std::string> key_usage;           // digitalSignature, keyCertSign, ...
  std::vector<std::string> extended_key_usage;  // codeSigning, serverAuth, ... (short names)
  std::string signature_algorithm;              // e.g. sha256WithRSAEncryption
  std::string sha256;                           // of the DER certificate
  std::string spki_sha256;
  std::string key_algorithm;  // of the certified key
  std::optional<std::uint32_t> key_bits;
  std::string key_curve;
  bool trust_store = false;  // sits in a system trust store: inventory
  // Internal, not serialised in JSON (kept in the scan cache): the DER certificate, public data,
  // for the chain checks of the rules (publicly-trusted, docs/rules.md).
  std::string der;

  // True when the certificate allows code signing (EKU codeSigning).
  bool code_signing() const;
};

// One entry of a keystore (PKCS#12, JKS); filled by the binary-store detectors.
struct StoreEntry {
  Kind kind = Kind::certificate;         // private_key (with its leaf certificate, if any) or certificate
  std::string alias;                     // alias or friendly name, when readable
  std::optional<KeyFacts> key;           // facts of a private key entry (SPKI from the key or its chain)
  std::optional<CertFacts> certificate;  // the entry's certificate (a key entry: its chain's leaf)
  std::uint32_t chain_length = 0;        // certificates in a key entry's chain
  std::int64_t created = 0;              // entry date (JKS), seconds since the epoch; 0 if unknown

  // A key entry whose key is a symmetric secret key (JCEKS), not a private key.
  bool secret_key() const { return kind == Kind::private_key && key && key->secret_key(); }
};

// How a key store (PKCS#12, JKS, JCEKS, encrypted zip) is protected, and whether we opened it.
struct StoreFacts {
  bool opened = false;              // a password verified its integrity or decrypted it
  bool weak_password = false;       // opened by the empty password or a common one (never which)
  std::string password_exposed_in;  // path of a nearby file whose password opened it (never the value)
  std::string mac;                  // integrity MAC digest ("sha1", "sha256"), PKCS#12
  std::optional<std::uint64_t> mac_iterations;
  std::vector<Protection> encryption;   // distinct ciphers/KDFs used for keys and certificates
  std::vector<std::string> weaknesses;  // e.g. "rc2-40", "3des", "sha1-mac", "low-iterations", "jks-key-protection"
  std::vector<std::string> contents;    // what is visible without a password (PKCS#12 bag types)
  bool truststore = false;              // no private-key entry: certificate inventory, not an exposure
  std::uint32_t certificates = 0;       // certificates seen in the store, key entries' chains included

  // True when `contents` says the store's contents stay encrypted (kStoreContentsEncrypted):
  // what it holds is unknown, so it may hold keys.
  bool contents_unknown() const;
};

// One reason a finding scores what it does (filled by keyward::rules, never by the scanner).
struct RiskFactor {
  std::string id;   // stable factor id, e.g. "unencrypted-private-key"
  int points = 0;   // may be negative
  std::string why;  // one line a person reads
};

// The explainable risk of a finding: score = sum of factor points clipped to 0..100; severity
// bands critical >= 90, high >= 70, medium >= 40, low >= 15, else info (docs/architecture.md).
// raw is the sum before clipping: it orders findings whose scores tie at a cap
// (keyward::rules::ranks_before, docs/findings.md "Order").
struct RiskFacts {
  int score = 0;
  int raw = 0;
  std::string severity;  // critical | high | medium | low | info
  std::vector<RiskFactor> factors;
  std::string remediation;  // what to do, from the rule (and policy rules)
};

// Why a finding does not count against a gate, when it does not. Suppressed findings stay in
// every report (SARIF writes them as suppressed results).
struct Suppression {
  std::string kind;           // allowlist | false-positive | baseline | inline | ignore-file
  std::string justification;  // reason, approver and expiry for an allow; the file for others
};

// Where in git history a finding was seen (keyward ci --history).
struct GitFacts {
  std::string commit;            // the commit that first added the blob
  std::int64_t author_date = 0;  // seconds since the epoch
};

// One thing found.
struct Finding {
  std::string id;    // stable: hash of (root-relative path, member, fingerprint, ordinal)
  std::string rule;  // e.g. private-key/pkcs8
  Kind kind = Kind::private_key;
  Format format = Format::pem_pkcs8;
  std::string encoding;  // how the block was wrapped: "", "escaped", "base64", "embedded" (raw DER in a binary)
  Location location;
  FileFacts file;
  std::optional<KeyFacts> key;
  std::optional<CertFacts> certificate;
  std::optional<StoreFacts> store;  // for kind keystore
  std::vector<StoreEntry> entries;
  std::vector<std::string> paired_with;   // ids of findings with the same SPKI
  std::optional<GitFacts> git;            // when found in git history
  std::optional<RiskFacts> risk;          // once rules ran
  std::optional<Suppression> suppressed;  // allowed, baselined or ignored (still reported)
  std::uint64_t trailing_bytes = 0;       // bytes after the complete DER object in its block (ignored, as
                                          // OpenSSL does); 0 = none

  // Internal, not serialised: the fingerprint the id is made from (SPKI, cert or blob hash).
  std::string identity;
  // Internal, not serialised: the path relative to the scan root, for the id.
  std::string relative_path;

  // The SPKI hash of the key or certificate, whichever is set; empty if unknown.
  std::string spki() const;
  // The key identity the fleet and migration plans key on: "spki:<hex>" (the finding's SPKI,
  // else a key store's first private-key entry), else "cert:<sha256>", else "finding:<id>".
  std::string key_identity() const;
  // True when this finding says a private key was found (directly or in a store).
  bool holds_private_key() const;
  // What a key store holds, for summaries.
  struct StoreCounts {
    std::size_t private_keys = 0;  // key entries holding a private key
    std::size_t secret_keys = 0;   // key entries holding a symmetric secret key (JCEKS)
    std::size_t certificates = 0;  // StoreFacts::certificates (key entries' chains included); for a
                                   // report written before that field, certificate entries and leaves
  };
  StoreCounts store_counts() const;
  // True when this finding holds a private key, not only secret keys (a JCEKS store of AES keys).
  bool holds_asymmetric_private_key() const;
};

// Counters of one scan. Skip reasons are stable snake_case keys.
struct ScanStats {
  std::uint64_t files_seen = 0;
  std::uint64_t files_scanned = 0;
  std::uint64_t files_cached = 0;  // unchanged since the cached scan: not read again
  std::uint64_t bytes_scanned = 0;
  std::uint64_t dirs_seen = 0;
  std::uint64_t dirs_cached = 0;                  // unchanged since the cached scan: listed from the cache
  std::map<std::string, std::uint64_t> skipped;   // reason -> count
  std::uint64_t errors = 0;                       // files or dirs that could not be read
  std::map<std::string, std::uint64_t> rejected;  // candidate blocks that did not validate, by format
  std::uint64_t trust_store_certificates = 0;
  std::uint64_t archives = 0;         // archives opened (nested ones included)
  std::uint64_t archive_members = 0;  // members read from them and scanned
};

// One error met while scanning (bounded list; the counters are complete).
struct ScanError {
  std::string path;
  std::string what;  // e.g. "permission denied"
};

// Who and where.
struct HostInfo {
  std::string hostname;
  std::string os;
};

// A whole scan: one document (schema keyward.findings/v1).
struct ScanResult {
  std::string tool_version;
  HostInfo host;
  std::string scan_id;
  std::int64_t started_at = 0;  // seconds since the epoch
  std::int64_t finished_at = 0;
  std::vector<std::string> roots;
  bool complete = true;
  ScanStats stats;
  std::vector<ScanError> errors;
  std::vector<Finding> findings;
};

}  // namespace keyward::scanner
