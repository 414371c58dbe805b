// SPDX-License-Identifier: Apache-2.0
// The SQL of the inventory reads whose cost grows with the fleet (issue 12: GET /hosts took
// 4.9 s at 170k places), apart so that a test can check their query plans: no read of every
// place where an index finds the few it needs.
// Used by: sql_queries.cpp; tests/collector/store_queries_test.cpp (EXPLAIN QUERY PLAN).
#pragma once

#include "store/db.hpp"

#include <keyward/collector/store.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace keyward::collector::detail {

// One bound parameter of a query, in order.
using QueryParam = std::variant<std::string, std::int64_t>;

// Every agent with its open places' count and worst severity rank (GET /api/v1/hosts).
extern const char* const kHostsQuery;

// The total order of places (docs/fleet.md, "Fleet risk"): severity band, raw, factors with
// positive points, last seen, place id. An ORDER BY over the places p.
extern const char* const kRiskOrder;
// Key identities in the total order of their riskiest present place, from the identities'
// own columns (rank_identity) along the index identities_rank; LIMIT and OFFSET follow.
extern const char* const kKeysQuery;
// The same, most spread first (hosts, top score, raw, identity), along identities_spread.
extern const char* const kSpreadKeysQuery;

// The number of places a findings query matches; params receives its parameters.
std::string findings_count_query(const FindingQuery& q, std::vector<QueryParam>& params);
// One page of a findings query; params receives its parameters, then LIMIT and OFFSET follow.
std::string findings_page_query(const FindingQuery& q, std::vector<QueryParam>& params,
                                Dialect dialect = Dialect::sqlite);

}  // namespace keyward::collector::detail
