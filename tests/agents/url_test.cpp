// SPDX-License-Identifier: Apache-2.0
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

TEST_CASE("a host that could break the request line, a Host header or a name check is refused") {
  CHECK_FALSE(parse_url("https://collector\r\nX-Injected: 1/"));
  CHECK_FALSE(parse_url("http://proxy example:3128"));
  CHECK_FALSE(parse_url("https://collector%0d%0aX:1"));
  CHECK_FALSE(parse_url("https://a:b:8443"));
  CHECK_FALSE(parse_url("https://collector.example/api#fragment"));
  CHECK_FALSE(parse_url("https://host:0"));
  CHECK_FALSE(parse_url("https://[::1"));
}

TEST_CASE("a path keeps its query and loses trailing slashes, and ports are numbers") {
  auto u = parse_url("https://collector.example:08443/api/v1/plan/?since=5");
  REQUIRE(u);
  CHECK(u->port == "8443");
  CHECK(u->path == "/api/v1/plan?since=5");
  u = parse_url("HTTPS://127.0.0.1/api/");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "127.0.0.1");
  CHECK(u->path == "/api");
}
