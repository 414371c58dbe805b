// SPDX-License-Identifier: Apache-2.0
#include "encoding.hpp"

#include <doctest/doctest.h>

using namespace keyward::scanner::detail;

TEST_CASE("base64 decodes with and without padding and across line breaks") {
  auto v = base64_decode("aGVs\nbG8=");
  REQUIRE(v);
  CHECK(std::string(v->begin(), v->end()) == "hello");
  auto w = base64_decode("aGVsbG8");
  REQUIRE(w);
  CHECK(std::string(w->begin(), w->end()) == "hello");
}

TEST_CASE("base64 rejects characters outside the alphabet and data after padding") {
  CHECK_FALSE(base64_decode("...."));
  CHECK_FALSE(base64_decode("aGVs=bG8"));
  CHECK_FALSE(base64_decode("a"));
}

TEST_CASE("base64url decodes the URL alphabet") {
  auto v = base64url_decode("_-8");
  REQUIRE(v);
  CHECK(v->size() == 2);
  CHECK((*v)[0] == 0xff);
}

TEST_CASE("base64 encoding round-trips") {
  const std::string s = "any carnal pleas";
  const auto enc =
      base64_encode(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  auto dec = base64_decode(enc);
  REQUIRE(dec);
  CHECK(std::string(dec->begin(), dec->end()) == s);
}

TEST_CASE("the reader never reads past its input") {
  const std::uint8_t data[] = {0, 0, 0, 9, 'a', 'b'};
  Reader r(data);
  std::span<const std::uint8_t> s;
  CHECK_FALSE(r.ssh_string(s));
  CHECK(r.position() == 0);
  std::uint32_t v = 0;
  CHECK(r.u32(v));
  CHECK(v == 9);
  CHECK_FALSE(r.bytes(3, s));
}
