#include "url.hpp"

#include <doctest/doctest.h>

using keyward::agent::parse_url;

TEST_CASE("collector and proxy URLs are parsed with default ports and IPv6 literals") {
  auto u = parse_url("https://collector.example:8443");
  REQUIRE(u);
  CHECK(u->host == "collector.example");
  CHECK(u->port == "8443");
  CHECK(u->path.empty());
  u = parse_url("https://collector.example/");
  REQUIRE(u);
  CHECK(u->port == "443");
  u = parse_url("http://[::1]:3128");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == "3128");
  CHECK(keyward::agent::is_ip_literal("127.0.0.1"));
  CHECK(keyward::agent::is_ip_literal("::1"));
  CHECK_FALSE(keyward::agent::is_ip_literal("localhost"));
}

TEST_CASE("URLs that are not plain http or https with a host are refused") {
  CHECK_FALSE(parse_url("collector:8443"));
  CHECK_FALSE(parse_url("ftp://x"));
  CHECK_FALSE(parse_url("https://:8443"));
  CHECK_FALSE(parse_url("https://user:pw@host:1"));
  CHECK_FALSE(parse_url("https://host:99999"));
  CHECK_FALSE(parse_url("https://host:8x"));
}
