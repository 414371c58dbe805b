// SPDX-License-Identifier: Apache-2.0
// Bounded, thread-safe caches of parse results, owned by a scan (keyward/scanner/scan_memo.hpp)
// and reached by the detectors through their DetectContext (detector.hpp).
// Used by: der.cpp (certificates), binary_detectors.cpp (opened stores), item_scan.cpp (owners).
// Never a process-wide static: whoever owns a ScanMemo decides how long it lives. Keys are
// SHA-256 digests; values are findings (facts only, never key bytes or passwords).
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace keyward::scanner::detail {

// A map from a key to a computed value, filled on first use, at most kMaxEntries long. Two
// threads asking for the same new key may both compute it.
template <class Key, class Value>
class Memo {
 public:
  // The remembered value for `key`, else make() remembered.
  template <class F>
  Value get(Key key, F&& make) {
    {
      std::lock_guard lock(mu_);
      if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    }
    Value v = make();
    std::lock_guard lock(mu_);
    if (memo_.size() < kMaxEntries) memo_.emplace(std::move(key), v);
    return v;
  }

  // How many values it holds.
  std::size_t size() {
    std::lock_guard lock(mu_);
    return memo_.size();
  }

  // Forgets everything.
  void clear() {
    std::lock_guard lock(mu_);
    memo_.clear();
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;  // about 2 MiB of finding facts at most
  std::mutex mu_;
  std::unordered_map<Key, Value> memo_;
};

// Parse results keyed on a digest of what was parsed.
class FindingMemo : public Memo<std::string, Result<Finding>> {};

// User names keyed on uid (getpwuid_r reads /etc/passwd or NSS each time).
class OwnerMemo : public Memo<std::uint32_t, std::string> {};

// The caches of one ScanMemo.
struct Memos {
  // Decoded certificates, keyed on their DER bytes (der_certificate): a CA bundle vendored by
  // botocore, certifi, grpc, node... holds the same certificates (1,322 certificates but 271
  // distinct ones on the bench tree), and decoding one is most of what a hit costs.
  FindingMemo certificates;
  // Opened PKCS#12 and JKS stores, keyed on their bytes and the passwords offered: opening one
  // costs a key derivation per password tried, and the same store is often copied around.
  FindingMemo stores;
  // The owner names of the files' uids: a scan sees few of them, a daemon's next scan sees
  // renamed users.
  OwnerMemo owners;
};

}  // namespace keyward::scanner::detail
