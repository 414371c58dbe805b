// SPDX-License-Identifier: Apache-2.0
// A compact set of object ids (open addressing, 20 bytes a slot) for "each blob once" over
// histories with millions of blobs: about a third of the memory of std::unordered_set<git_oid>.
// Private to keyward::ci.
#pragma once

#include <git2.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace keyward::ci::detail {

class OidSet {
 public:
  OidSet() : slots_(1024) {}

  // Adds id; false if it was already there. The all-zero id (never a real object) is not stored.
  bool insert(const git_oid& id) {
    if (is_zero(id)) return false;
    if ((size_ + 1) * 10 > slots_.size() * 7) grow();
    return place(slots_, id);
  }

  std::size_t size() const { return size_; }

 private:
  static bool is_zero(const git_oid& id) {
    static const git_oid zero{};
    return std::memcmp(id.id, zero.id, sizeof id.id) == 0;
  }
  static std::size_t hash(const git_oid& id) {
    std::uint64_t h;  // ids are SHA-1 output: any 8 bytes are uniformly distributed
    std::memcpy(&h, id.id, sizeof h);
    return static_cast<std::size_t>(h);
  }
  bool place(std::vector<git_oid>& slots, const git_oid& id) {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = hash(id) & mask;; i = (i + 1) & mask) {
      if (is_zero(slots[i])) {
        slots[i] = id;
        ++size_;
        return true;
      }
      if (std::memcmp(slots[i].id, id.id, sizeof id.id) == 0) return false;
    }
  }
  void grow() {
    std::vector<git_oid> bigger(slots_.size() * 2);
    size_ = 0;
    for (const auto& id : slots_)
      if (!is_zero(id)) place(bigger, id);
    slots_.swap(bigger);
  }

  std::vector<git_oid> slots_;  // size is a power of two; zero id marks an empty slot
  std::size_t size_ = 0;
};

}  // namespace keyward::ci::detail
