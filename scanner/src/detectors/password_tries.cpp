// SPDX-License-Identifier: Apache-2.0
// first_opener (binary.hpp): a store's password candidates tried in order, in rounds on the
// scan's idle workers when it has them (docs/architecture.md, "Threading").
#include "detectors/binary.hpp"
#include "item_scan.hpp"

#include <algorithm>
#include <vector>

namespace keyward::scanner::detail {

std::size_t first_opener(const PasswordSet& set, PasswordBudget& budget,
                         const std::function<bool(std::size_t, const PasswordCandidate&)>& opens) {
  const auto& candidates = set.candidates;
  const std::size_t width = set.share != nullptr ? std::max(1u, set.share->runners()) : 1;
  std::vector<char> opened;
  for (std::size_t at = 0; at < candidates.size();) {
    std::size_t n = 0;
    while (n < width && at + n < candidates.size() && budget.take()) ++n;
    if (n == 0) break;
    if (n == 1) {
      if (opens(at, candidates[at])) return at;
    } else {
      opened.assign(n, 0);
      set.share->run_parts(n, [&](unsigned, std::size_t i) { opened[i] = opens(at + i, candidates[at + i]) ? 1 : 0; });
      if (const auto it = std::find(opened.begin(), opened.end(), 1); it != opened.end())
        return at + static_cast<std::size_t>(it - opened.begin());
    }
    at += n;
  }
  return std::string::npos;
}

}  // namespace keyward::scanner::detail
