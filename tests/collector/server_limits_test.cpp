// SPDX-License-Identifier: Apache-2.0
#include "server/inflate.hpp"
#include "server/rate_limiter.hpp"

#include "collector/server_fixture.hpp"

#include <doctest/doctest.h>

using namespace keyward::collector;

TEST_CASE("a gzip body inflates back to its bytes") {
  const std::string text = "{\"schema\":\"keyward.findings/v1\"}";
  auto out = gunzip(keyward::test::gzip(text), 1 << 20);
  REQUIRE(out.has_value());
  CHECK(*out == text);
  // Two members one after the other are one body.
  auto two = gunzip(keyward::test::gzip("ab") + keyward::test::gzip("cd"), 1 << 20);
  REQUIRE(two.has_value());
  CHECK(*two == "abcd");
}

TEST_CASE("a 100 MB zip bomb is refused as too large without inflating it all") {
  const std::string bomb = keyward::test::gzip(std::string(100u << 20, '\0'));
  CHECK(bomb.size() < 200u * 1024);
  auto out = gunzip(bomb, 32u << 20);
  REQUIRE(!out.has_value());
  CHECK(out.error() == InflateError::too_large);
}

TEST_CASE("corrupt and truncated gzip is refused as corrupt") {
  CHECK(gunzip("not gzip at all", 1024).error() == InflateError::corrupt);
  std::string z = keyward::test::gzip(std::string(5000, 'x'));
  CHECK(gunzip(z.substr(0, z.size() / 2), 1 << 20).error() == InflateError::corrupt);
  CHECK(gunzip("", 1024).error() == InflateError::corrupt);
}

TEST_CASE("the rate limiter allows a burst of reports_per_minute, then asks to wait") {
  RateLimiter r(12);
  for (int i = 0; i < 12; ++i) CHECK(r.take("a", 100.0) == 0);
  const auto wait = r.take("a", 100.0);
  CHECK(wait >= 1);
  CHECK(wait <= 5);
  CHECK(r.take("b", 100.0) == 0);  // per agent
  CHECK(r.take("a", 105.1) == 0);  // one token back after 5 s at 12/min
}
