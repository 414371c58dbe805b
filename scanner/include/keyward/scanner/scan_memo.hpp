// SPDX-License-Identifier: Apache-2.0
// What a scan remembers so that a key store or certificate copied to many places (build
// outputs, backups, vendored CA bundles) is parsed once: opened stores and decoded certificates.
// Used by: scan() (one per scan unless ScanOptions::memo names one), scan_buffer() (likewise, one
// per call), and a long-lived caller such as the agent daemon, which may keep one across scans
// and clear it. Holds facts and fingerprints keyed by SHA-256, never key bytes or passwords.
#pragma once

#include <memory>

namespace keyward::scanner {

namespace detail {
struct Memos;  // scanner/src/detectors/memo.hpp
}

// The caches of one scan (or of the scans of one owner, until it clears them). Thread-safe.
class ScanMemo {
 public:
  // Empty caches.
  ScanMemo();
  // Frees them.
  ~ScanMemo();
  ScanMemo(const ScanMemo&) = delete;
  ScanMemo& operator=(const ScanMemo&) = delete;

  // Forgets every remembered store and certificate.
  void clear();
  // The caches themselves (scanner internals).
  detail::Memos& memos() noexcept { return *memos_; }

 private:
  std::unique_ptr<detail::Memos> memos_;
};

}  // namespace keyward::scanner
