// SPDX-License-Identifier: Apache-2.0
// A memory resource for tests of secrets wiped by type (common::SecretBytes): it hands out heap
// memory and, when a block comes back, records its size and whether every byte of it was zero.
// ScopedDefaultResource installs one as std::pmr's default for a scope, so that the SecretBytes a
// parser makes inside can be watched from outside. Used by: tests/common, tests/scanner.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory_resource>
#include <vector>

namespace keyward::test {

class WatchingResource : public std::pmr::memory_resource {
 public:
  struct Returned {
    std::size_t bytes;
    bool zero;  // every byte was zero when it came back
  };
  std::vector<Returned> returned;
  std::size_t allocations = 0;

  // True when at least one block of `min_bytes` or more came back, and every block came back zero.
  bool all_wiped_with_one_of(std::size_t min_bytes) const {
    const bool big =
        std::any_of(returned.begin(), returned.end(), [&](const Returned& r) { return r.bytes >= min_bytes; });
    return big && std::all_of(returned.begin(), returned.end(), [](const Returned& r) { return r.zero; });
  }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    ++allocations;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    const auto* b = static_cast<const unsigned char*>(p);
    returned.push_back({bytes, std::all_of(b, b + bytes, [](unsigned char c) { return c == 0; })});
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
};

// Makes `r` std::pmr's default resource until the end of the scope.
class ScopedDefaultResource {
 public:
  explicit ScopedDefaultResource(std::pmr::memory_resource* r) : before_(std::pmr::set_default_resource(r)) {}
  ~ScopedDefaultResource() { std::pmr::set_default_resource(before_); }
  ScopedDefaultResource(const ScopedDefaultResource&) = delete;
  ScopedDefaultResource& operator=(const ScopedDefaultResource&) = delete;

 private:
  std::pmr::memory_resource* before_;
};

}  // namespace keyward::test
