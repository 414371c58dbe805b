// SPDX-License-Identifier: Apache-2.0
// Reading a scan's result in tests: the findings of one kind, without each test writing the loop.
#pragma once

#include <keyward/scanner/finding.hpp>

#include <vector>

namespace keyward::test {

// The private-key findings of `r`, in report order.
inline std::vector<const scanner::Finding*> private_keys(const scanner::ScanResult& r) {
  std::vector<const scanner::Finding*> out;
  for (const auto& f : r.findings)
    if (f.kind == scanner::Kind::private_key) out.push_back(&f);
  return out;
}

}  // namespace keyward::test
