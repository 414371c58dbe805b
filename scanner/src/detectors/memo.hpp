// Bounded, thread-safe caches of parse results, owned by a scan (keyward/scanner/scan_memo.hpp)
// and reached by the detectors through their DetectContext (detector.hpp).
// Used by: der.cpp (certificates), binary_detectors.cpp (opened stores).
// Never a process-wide static: whoever owns a ScanMemo decides how long it lives. Keys are
// SHA-256 digests; values are findings (facts only, never key bytes or passwords).
#pragma once

#include <keyward/scanner/error.hpp>
#include <keyward/scanner/finding.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace keyward::scanner::detail {

// A map from a key to the result of a parse, filled on first use, at most kMaxEntries long
// (about 2 MiB of facts). Two threads asking for the same new key may both parse it.
class FindingMemo {
 public:
  // The remembered result for `key`, else make() remembered.
  template <class F>
  Result<Finding> get(std::string key, F&& make) {
    {
      std::lock_guard lock(mu_);
      if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    }
    Result<Finding> r = make();
    std::lock_guard lock(mu_);
    if (memo_.size() < kMaxEntries) memo_.emplace(std::move(key), r);
    return r;
  }

  // How many results it holds.
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
  static constexpr std::size_t kMaxEntries = 4096;
  std::mutex mu_;
  std::unordered_map<std::string, Result<Finding>> memo_;
};

// The caches of one ScanMemo.
struct Memos {
  // Decoded certificates, keyed on their DER bytes (der_certificate): a CA bundle vendored by
  // botocore, certifi, grpc, node... holds the same certificates (1,322 certificates but 271
  // distinct ones on the bench tree), and decoding one is most of what a hit costs.
  FindingMemo certificates;
  // Opened PKCS#12 and JKS stores, keyed on their bytes and the passwords offered: opening one
  // costs a key derivation per password tried, and the same store is often copied around.
  FindingMemo stores;
};

}  // namespace keyward::scanner::detail
