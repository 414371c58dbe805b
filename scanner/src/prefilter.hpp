// SPDX-License-Identifier: Apache-2.0
// The text hot path: one pass of vectorscan over a buffer for every text anchor of every
// detector of a registry (detectors/detector.hpp builds one Prefilter from its list).
// Used by: the detector registry and text_detect.cpp. A Prefilter is immutable once built and
// shared read-only; each thread owns its scratch. Never allocates per byte: a hit costs one
// push_back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

struct hs_database;  // vectorscan's compiled database (hs/hs_common.h)

namespace keyward::scanner::detail {

// One anchor hit: the index of the detector whose literal matched, and where the literal starts.
struct AnchorHit {
  std::uint32_t detector;
  std::size_t at;
};

// A literal to look for and the detector it belongs to.
struct AnchorLiteral {
  std::string_view text;
  std::uint32_t detector;
};

// The compiled database of a list of literals.
class Prefilter {
 public:
  // Compiles `literals` (none: a prefilter that finds nothing). Throws std::runtime_error when
  // vectorscan cannot compile them.
  explicit Prefilter(std::span<const AnchorLiteral> literals);
  ~Prefilter();
  Prefilter(const Prefilter&) = delete;
  Prefilter& operator=(const Prefilter&) = delete;

  // Finds every literal in `data`, in order of position. Thread-safe (per-thread scratch).
  void find(std::string_view data, std::vector<AnchorHit>& out) const;
  // Finds the literals that start in [from, to) of `data` (each may run past `to`), in order of
  // position, with offsets into `data`: one window's share of a file scanned in pieces.
  void find_in(std::string_view data, std::size_t from, std::size_t to, std::vector<AnchorHit>& out) const;

 private:
  struct Entry {
    std::uint32_t detector;
    std::uint32_t length;
  };
  hs_database* db_ = nullptr;
  std::vector<Entry> entries_;  // by vectorscan id
  std::size_t longest_ = 0;
};

// Prefilter::find with the built-in detectors' prefilter (benches, fuzzers).
void find_anchors(std::string_view data, std::vector<AnchorHit>& out);

}  // namespace keyward::scanner::detail
