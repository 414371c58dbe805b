// SPDX-License-Identifier: Apache-2.0
// The detector registry (detector.hpp): the prefilter and the binary sniff built from a list of
// entries, the context detectors reach the scan's caches through, and the ScanMemo that holds
// those caches.
#include "detectors/detector.hpp"

#include "detectors/binary.hpp"
#include "detectors/memo.hpp"

#include <keyward/scanner/scan_memo.hpp>

#include <algorithm>

namespace keyward::scanner {

ScanMemo::ScanMemo() : memos_(std::make_unique<detail::Memos>()) {}
ScanMemo::~ScanMemo() = default;

void ScanMemo::clear() {
  memos_->certificates.clear();
  memos_->stores.clear();
  memos_->owners.clear();
}

}  // namespace keyward::scanner

namespace keyward::scanner::detail {
namespace {

std::vector<AnchorLiteral> literals_of(std::span<const Detector> detectors) {
  std::vector<AnchorLiteral> out;
  for (std::size_t i = 0; i < detectors.size(); ++i) {
    const Detector& d = detectors[i];
    if (!d.anchors.empty() && d.text == nullptr)
      throw std::invalid_argument("detector " + std::string(d.name) + ": anchors without a text parser");
    if (d.head != nullptr && d.binary == nullptr)
      throw std::invalid_argument("detector " + std::string(d.name) + ": a head without a binary parser");
    for (std::string_view a : d.anchors) out.push_back({a, static_cast<std::uint32_t>(i)});
  }
  return out;
}

}  // namespace

DetectorRegistry::DetectorRegistry(std::span<const Detector> detectors)
    : detectors_(detectors.begin(), detectors.end()) {
  const std::vector<AnchorLiteral> literals = literals_of(detectors_);
  prefilter_ = std::make_unique<Prefilter>(literals);
  for (const Detector& d : detectors_)
    if (d.head != nullptr) heads_.push_back(&d);
}

const Detector* DetectorRegistry::sniff(std::span<const std::uint8_t> head, std::uint64_t size,
                                        const ScanOptions* options, const Detector* after) const noexcept {
  if (head.size() < 4) return nullptr;
  auto it = heads_.begin();
  if (after != nullptr) it = std::upper_bound(heads_.begin(), heads_.end(), after);  // list order is address order
  for (; it != heads_.end(); ++it) {
    const Detector* d = *it;
    if (!d->head(head, size)) continue;
    if (options != nullptr && d->enabled != nullptr && !d->enabled(*options)) continue;
    return d;
  }
  return nullptr;
}

const DetectorRegistry& builtin_registry() {
  static const DetectorRegistry registry(builtin_detectors());  // immutable: shared read-only
  return registry;
}

const DetectorRegistry& registry_for(const ScanOptions& options) {
  return options.detectors != nullptr ? *options.detectors : builtin_registry();
}

DetectContext::DetectContext(const ScanOptions& options)
    : registry_(&registry_for(options)),
      own_(options.memo != nullptr ? nullptr : std::make_unique<ScanMemo>()),
      memos_(options.memo != nullptr ? &options.memo->memos() : &own_->memos()) {}

DetectContext::DetectContext(const DetectorRegistry& registry)
    : registry_(&registry), own_(std::make_unique<ScanMemo>()), memos_(&own_->memos()) {}

DetectContext::~DetectContext() = default;

std::string_view sniff_binary(std::span<const std::uint8_t> data) { return sniff_binary(data, data.size()); }

std::string_view sniff_binary(std::span<const std::uint8_t> head, std::uint64_t size) {
  const Detector* d = builtin_registry().sniff(head, size);
  return d != nullptr ? d->name : std::string_view{};
}

void find_anchors(std::string_view data, std::vector<AnchorHit>& out) {
  builtin_registry().prefilter().find(data, out);
}

}  // namespace keyward::scanner::detail
