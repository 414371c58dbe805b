// SPDX-License-Identifier: Apache-2.0
// The detector registry: every format keyward finds is one `Detector` entry, naming its text
// anchors, its binary head predicate, the functions that parse a hit, the rule ids its findings
// carry and its fuzzer. The built-in list is detector_list.cpp (YARA's module list is the
// model): adding a format is one new file plus one entry there (docs/scan.md "Adding a format").
// Used by: text_detect.cpp (anchors -> entry.text), item_scan.cpp (head -> entry.binary),
// file_scan.cpp (does a large file's head ask for a whole read?), tests and fuzzers.
// A registry is immutable once built and shared read-only by every worker: no per-byte or
// per-hit virtual call (a hit costs one call through a function pointer), no mutable state; a
// scan's caches live in its ScanMemo (memo.hpp), reached through the DetectContext.
#pragma once

#include "prefilter.hpp"
#include "text_detect.hpp"

#include <keyward/scanner/scan.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

class DetectorRegistry;
struct ItemContext;  // item_scan.hpp
struct Memos;        // memo.hpp

// A short constant list of names (anchors, rule ids), written inline in an entry.
class Names {
 public:
  static constexpr std::size_t kCapacity = 16;
  // No names.
  constexpr Names() = default;
  // These names (at most kCapacity; more does not compile in a constant expression).
  constexpr Names(std::initializer_list<std::string_view> names)
      : Names(std::span<const std::string_view>(names.begin(), names.size())) {}
  // The names of a list kept elsewhere (detectors/bare_der.hpp computes its anchors).
  constexpr explicit Names(std::span<const std::string_view> names) {
    if (names.size() > kCapacity) throw std::length_error("Names: more than kCapacity names");
    for (std::string_view n : names) items_[size_++] = n;
  }
  // Iteration over the names.
  constexpr const std::string_view* begin() const noexcept { return items_.data(); }
  constexpr const std::string_view* end() const noexcept { return items_.data() + size_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }

 private:
  std::array<std::string_view, kCapacity> items_{};
  std::size_t size_ = 0;
};

// What one scan's detectors share: the registry in use and the scan's caches.
class DetectContext {
 public:
  // The registry and memo `options` carry, else the built-in registry and a memo of its own.
  explicit DetectContext(const ScanOptions& options);
  // `registry` with a memo of its own (tests, fuzzers, benches).
  explicit DetectContext(const DetectorRegistry& registry);
  ~DetectContext();
  DetectContext(const DetectContext&) = delete;
  DetectContext& operator=(const DetectContext&) = delete;

  // The registry in use.
  const DetectorRegistry& registry() const noexcept { return *registry_; }
  // The scan's caches.
  Memos& memos() const noexcept { return *memos_; }

 private:
  const DetectorRegistry* registry_;
  std::unique_ptr<ScanMemo> own_;
  Memos* memos_;
};

// One anchor hit handed to a text detector, and where its results go.
struct TextMatch {
  std::string_view data;                           // the buffer, cut kTextLookahead after the anchor
  std::size_t at;                                  // where the anchor starts in `data`
  int depth;                                       // 0, or how deep inside base64-wrapped text this buffer is
  const DetectContext& context;                    // the registry (for nested text) and the scan's caches
  std::vector<TextHit>& out;                       // found objects, with the offset where their block starts
  std::size_t& consumed_until;                     // set to the end of a block found: anchors inside it are skipped
  std::map<std::string, std::uint64_t>& rejected;  // blocks that looked like a format but did not validate

  // Adds a found object whose block starts at `offset`.
  void found(Finding f, std::size_t offset) const { out.push_back({std::move(f), offset}); }
  // Counts a block of `family` that did not validate.
  void reject(std::string_view family) const { ++rejected[std::string(family)]; }
};

// A whole item (file or archive member) whose head a binary detector announced.
struct BinaryItem {
  std::string_view data;         // all of it
  const ItemContext& item;       // where it sits, the options, the archive budget
  const DetectContext& context;  // the registry and the scan's caches
  std::vector<Finding>& found;   // this item's findings (placed at offset 0 by the caller)
  std::vector<Finding>& out;     // findings already finished (an archive's members)
  ScanStats& stats;              // counters (rejected, skipped, archive members)
  bool members_scanned = false;  // set by a detector that scanned the item's members itself

  // The bytes.
  std::span<const std::uint8_t> bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
  }
};

// Does this head (the first bytes, at least 4) of an item of `size` bytes announce the format?
using HeadTest = bool (*)(std::span<const std::uint8_t> head, std::uint64_t size);
// Parses one anchor hit (TextMatch says where results go).
using TextParse = void (*)(const TextMatch& match);
// Parses a whole item; false declines it, and the next detector whose head accepts gets it.
using BinaryParse = bool (*)(BinaryItem& item);
// Whether a scan with these options uses the detector at all.
using Enabled = bool (*)(const ScanOptions& options);

// One format: everything the scanner needs to know about it, in one entry.
struct Detector {
  std::string_view name{};       // short and unique: "pem", "jks", ...
  Names anchors{};               // literals the prefilter looks for; each hit goes to `text`
  TextParse text = nullptr;      // required when there are anchors
  HeadTest head = nullptr;       // the binary sniff; null for a text-only format
  BinaryParse binary = nullptr;  // required when there is a head
  Enabled enabled = nullptr;     // null: always
  Names rules{};                 // the rule ids its findings may carry ("private-key/pkcs8")
  std::string_view fuzzer{};     // its libFuzzer target, tests/fuzz/<fuzzer>.cpp
};

// The detectors of a scan, with their prefilter compiled once.
class DetectorRegistry {
 public:
  // Copies the entries (list order is the order binary heads are tried: the first accepting
  // head whose parser takes the item wins) and compiles their anchors. Throws
  // std::invalid_argument for an entry with anchors and no text parser, or a head and no binary
  // parser; std::runtime_error when vectorscan cannot compile the anchors.
  explicit DetectorRegistry(std::span<const Detector> detectors);

  // The entries, in list order; an AnchorHit's `detector` indexes them.
  std::span<const Detector> detectors() const noexcept { return detectors_; }
  // Every anchor of every entry, in one vectorscan database.
  const Prefilter& prefilter() const noexcept { return *prefilter_; }
  // The first entry after `after` (nullptr: from the start) whose head accepts `head` of an item
  // of `size` bytes and which `options` (when given) enable; nullptr when none does.
  const Detector* sniff(std::span<const std::uint8_t> head, std::uint64_t size, const ScanOptions* options = nullptr,
                        const Detector* after = nullptr) const noexcept;

 private:
  std::vector<Detector> detectors_;
  std::vector<const Detector*> heads_;  // the entries with a head, in list order
  std::unique_ptr<Prefilter> prefilter_;
};

// The shipped list (detector_list.cpp).
std::span<const Detector> builtin_detectors() noexcept;
// A registry of builtin_detectors(), built once per process and immutable.
const DetectorRegistry& builtin_registry();
// The registry `options` name, else the built-in one.
const DetectorRegistry& registry_for(const ScanOptions& options);

}  // namespace keyward::scanner::detail
