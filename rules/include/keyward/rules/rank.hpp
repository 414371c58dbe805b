// SPDX-License-Identifier: Apache-2.0
// The total order of findings: what a user acts on first comes first (docs/findings.md,
// "Order"). Scores clip at 100, so two findings at the cap still separate here: severity band
// (critical first), then the raw sum of points before clipping (higher first), then how many
// factors add points, then the file's modification time (newer first), then the id, so that
// the order is total and the same on every run.
// Used by: every list of findings ordered by risk (text report, SARIF, JUnit, the CI gate's
// summary). The collector orders its places the same way in SQL (docs/fleet.md).
#pragma once

#include <keyward/scanner/finding.hpp>

#include <vector>

namespace keyward::rules {

// True when `a` comes before `b`. A finding without risk ranks below every scored one.
bool ranks_before(const scanner::Finding& a, const scanner::Finding& b);

// How many of a risk's factors add points (the order's key after raw; the collector keeps it
// per place for its SQL order).
int adding_factors(const scanner::RiskFacts& risk);

// Sorts `findings` by ranks_before (stable for equal keys, which cannot happen: ids differ).
void sort_by_rank(std::vector<scanner::Finding>& findings);

}  // namespace keyward::rules
