// SPDX-License-Identifier: Apache-2.0
#include "backoff.hpp"

#include <doctest/doctest.h>

using keyward::agent::Backoff;
using namespace std::chrono_literals;

TEST_CASE("the retry schedule doubles from the base and is capped") {
  Backoff b(30s, 15min);
  CHECK(b.ceiling(0) == 30s);
  CHECK(b.ceiling(1) == 60s);
  CHECK(b.ceiling(2) == 120s);
  CHECK(b.ceiling(4) == 480s);
  CHECK(b.ceiling(5) == 15min);
  CHECK(b.ceiling(50) == 15min);
}

TEST_CASE("retry delays grow with failures stay within the cap and start over after a success") {
  Backoff b(30s, 15min);
  std::chrono::seconds last{0};
  for (unsigned i = 0; i < 12; ++i) {
    const auto d = b.next();
    CHECK(d >= b.ceiling(i) / 2);
    CHECK(d <= b.ceiling(i));
    CHECK(d <= 15min);
    last = d;
  }
  CHECK(last >= 450s);  // the late ones sit near the cap
  CHECK(b.failures() == 12);
  b.reset();
  const auto first = b.next();
  CHECK(first >= 15s);
  CHECK(first <= 30s);
}

TEST_CASE("a server's Retry-After is honoured but bounded") {
  Backoff b(30s, 15min);
  CHECK(b.next(600s) >= 600s);
  b.reset();
  CHECK(b.next(5s) <= 30s);  // shorter than the backoff: the backoff wins
  b.reset();
  CHECK(b.next(100000s) == 3600s);
}

TEST_CASE("schedule jitter stays within its bound") {
  for (int i = 0; i < 100; ++i) {
    const auto j = keyward::agent::random_jitter(10min);
    CHECK(j >= 0s);
    CHECK(j <= 10min);
  }
  CHECK(keyward::agent::random_jitter(0s) == 0s);
}
