// SPDX-License-Identifier: Apache-2.0
// Binary key formats, recognised by their head whatever the file is called: DER keys and
// certificates, PKCS#12/PFX, JKS/JCEKS, Bouncy Castle BKS/UBER/BCFKS, PVK, .NET SNK, binary OpenPGP keyrings and GnuPG
// private-keys-v1.d key files. Stores are opened with the empty password, passwords found next
// to them, and a list of common passwords, within a budget of tries and time.
// Used by: binary_detectors.cpp (the registry's binary entries, detector_list.cpp), the fuzzers and
// tests.
// Never returns or logs a password, key bytes or decrypted material: facts and fingerprints.
#pragma once

#include <keyward/common/secret.hpp>
#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

class WorkShare;  // item_scan.hpp

// A password to try, and where it came from. Move-only: the password wipes itself.
struct PasswordCandidate {
  common::SecretBytes password;
  std::string source;  // empty: the common-password list; else the path of the file that held it
};

// The passwords to try on one store, in order (nearby first, then empty, then common), and the
// budget that keeps a 10,000-iteration PBKDF2 store from stalling a scan.
struct PasswordSet {
  std::vector<PasswordCandidate> candidates;
  std::size_t max_tries = 96;  // ScanOptions::password_max_tries
  std::chrono::milliseconds max_time{2000};
  WorkShare* share = nullptr;  // idle workers that may try candidates at once (null: this thread alone)
};

// The tries and time one store may take (PasswordSet::max_tries, max_time from its creation).
class PasswordBudget {
 public:
  explicit PasswordBudget(const PasswordSet& p)
      : max_tries_(p.max_tries), deadline_(std::chrono::steady_clock::now() + p.max_time) {}
  // Takes one try; false when the budget is spent.
  bool take() {
    if (tries_ >= max_tries_ || expired()) return false;
    ++tries_;
    return true;
  }
  bool expired() const { return std::chrono::steady_clock::now() >= deadline_; }
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }

 private:
  std::size_t max_tries_;
  std::size_t tries_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

// The index of the first candidate, in order, that `opens` (a key derivation each: the costly
// part of a scan that meets strong-password stores), within `budget`; npos when none does. With
// set.share, rounds of as many candidates as it has runners are tried at once on idle workers,
// and the first success in candidate order wins: the answer is the one-at-a-time loop's (a round
// may take a few tries more from the budget). `opens` is called from several threads at once
// then, each call with its own candidate, so it must only read what it shares.
std::size_t first_opener(const PasswordSet& set, PasswordBudget& budget,
                         const std::function<bool(std::size_t index, const PasswordCandidate&)>& opens);

// What opened a store: fills StoreFacts.opened / weak_password / password_exposed_in.
void mark_opened_by(const PasswordCandidate& c, StoreFacts& store);

class FindingMemo;  // memo.hpp

// The name of the built-in detector ("der", "jks", ...) whose head predicate first accepts the
// first bytes of `data` (the whole file or member), empty for none; the DER check also compares
// the encoded SEQUENCE length with data.size(), so only whole-file DER is announced. The scanner
// itself asks its registry (DetectorRegistry::sniff); this is for tests and benches.
std::string_view sniff_binary(std::span<const std::uint8_t> data);

// The same from the first bytes of a larger file (512 are enough) and the file's size.
std::string_view sniff_binary(std::span<const std::uint8_t> head, std::uint64_t size);

// DER at offset 0 spanning the whole input exactly: private key (PKCS#1, SEC1, DSA, PKCS#8,
// encrypted PKCS#8), certificate, PKCS#7 (one finding per certificate), public key, CSR.
// With `certificates` (the scan's memo), a certificate seen before is not decoded again.
Result<std::vector<Finding>> parse_der(std::span<const std::uint8_t> data, FindingMemo* certificates = nullptr);

// PKCS#12 / PFX: a keystore finding with entries, store protection and grading.
Result<Finding> parse_pkcs12(std::span<const std::uint8_t> data, const PasswordSet& passwords);

// Java KeyStore (magic FEEDFEED) and JCEKS (CECECECE).
Result<Finding> parse_jks(std::span<const std::uint8_t> data, const PasswordSet& passwords);

// Bouncy Castle BKS (versions 0/1 and 2): entries in clear, the store MAC and sealed keys checked
// with the candidate passwords.
Result<Finding> parse_bks(std::span<const std::uint8_t> data, const PasswordSet& passwords);

// Bouncy Castle UBER: header facts only (its body is Twofish-encrypted, which OpenSSL lacks).
Result<Finding> parse_uber(std::span<const std::uint8_t> data);

// Bouncy Castle FIPS key store (BCFKS, DER): grading, and the integrity MAC checked with the
// candidate passwords; contents not decrypted.
Result<Finding> parse_bcfks(std::span<const std::uint8_t> data, const PasswordSet& passwords);

// Windows PVK private key (magic B0B5F11E).
Result<Finding> parse_pvk(std::span<const std::uint8_t> data);

// .NET strong-name key (PRIVATEKEYBLOB "RSA2" or PUBLICKEYBLOB "RSA1").
Result<Finding> parse_snk(std::span<const std::uint8_t> data);

// GnuPG private-keys-v1.d/*.key (canonical S-expression or the extended "Key:" format).
Result<Finding> parse_gpg_key_file(std::span<const std::uint8_t> data);

}  // namespace keyward::scanner::detail
