// SPDX-License-Identifier: Apache-2.0
// parse_ssh_url and Target's display/label (docs/remote.md, "ssh:// URLs").
#include <keyward/ssh/target.hpp>

#include <doctest/doctest.h>

#include <string>

using keyward::ssh::parse_ssh_url;

TEST_CASE("ssh:// URLs: users, hosts, ports and paths") {
  std::string error;
  auto u = parse_ssh_url("ssh://build-1/etc/ssl", error);
  REQUIRE(u);
  CHECK(u->target.user.empty());
  CHECK(u->target.host == "build-1");
  CHECK(u->target.port == 22);
  CHECK(u->path == "/etc/ssl");

  u = parse_ssh_url("ssh://deploy@10.0.0.5:2222", error);
  REQUIRE(u);
  CHECK(u->target.user == "deploy");
  CHECK(u->target.port == 2222);
  CHECK(u->path == "/");
  CHECK(u->target.display() == "deploy@10.0.0.5:2222");
  CHECK(u->target.label() == "10.0.0.5:2222");

  u = parse_ssh_url("ssh://a%40corp@host/", error);  // an '@' in the user, escaped
  REQUIRE(u);
  CHECK(u->target.user == "a@corp");
  CHECK(u->target.host == "host");
}

TEST_CASE("ssh:// URLs: IPv6 addresses in brackets") {
  std::string error;
  auto u = parse_ssh_url("ssh://root@[::1]:2200/srv", error);
  REQUIRE(u);
  CHECK(u->target.host == "::1");
  CHECK(u->target.port == 2200);
  CHECK(u->path == "/srv");
  CHECK(u->target.label() == "[::1]:2200");
  u = parse_ssh_url("ssh://[fe80::1]/", error);
  REQUIRE(u);
  CHECK(u->target.port == 22);
  CHECK(u->target.label() == "[fe80::1]");
}

TEST_CASE("ssh:// URLs: percent-escapes in the path are decoded") {
  std::string error;
  auto u = parse_ssh_url("ssh://h/srv/my%20keys/%2Fx", error);
  REQUIRE(u);
  CHECK(u->path == "/srv/my keys//x");
}

TEST_CASE("ssh:// URLs: bad input says what is wrong") {
  struct Case {
    const char* url;
    const char* why;
  };
  const Case cases[] = {
      {"sftp://h/", "not an ssh:// URL"}, {"ssh:///etc", "no host"},          {"ssh://@h/", "bad user"},
      {"ssh://h:0/", "bad port"},         {"ssh://h:65536/", "bad port"},     {"ssh://h:22x/", "not a valid URL"},
      {"ssh://h:/", "bad port"},          {"ssh://[::1/", "not a valid URL"}, {"ssh://[::1]x/", "not a valid URL"},
      {"ssh://h/a%2", "%-escapes"},       {"ssh://h/a%zz", "%-escapes"},      {"ssh://h/a%00b", "NUL"},
      {"ssh://u:pw@h/", "no password"},   {"ssh://h/a?b", "no '?'"},          {"ssh://h%20x/", "bad host name"},
  };
  for (const auto& c : cases) {
    const std::string url = c.url;
    CAPTURE(url);
    std::string error;
    CHECK_FALSE(parse_ssh_url(c.url, error));
    CHECK(error.find(c.why) != std::string::npos);
  }
}
