// SPDX-License-Identifier: Apache-2.0
// load_inventory (docs/remote.md, "The inventory"): defaults applied, the three ways to name a
// host, and every refused input naming the file, the line and the key.
#include "support/temp_tree.hpp"

#include <keyward/ssh/inventory.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

using keyward::ssh::InventoryHost;
using keyward::ssh::load_inventory;
using keyward::ssh::Mode;

namespace {

// The message load_inventory throws for `yaml`, or "" when it loads.
std::string error_of(const keyward::test::TempTree& t, const std::string& yaml) {
  try {
    load_inventory(t.write("hosts.yaml", yaml));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an inventory with defaults, a bare name, a mapping and a URL") {
  keyward::test::TempTree t;
  ::setenv("HOME", "/home/tester", 1);
  const auto hosts = load_inventory(t.write("hosts.yaml", R"(
defaults: {user: scan, paths: [/etc, /home], mode: sftp, identity: ~/.ssh/keyward_scan, known_hosts: kh}
hosts:
  - build-1.example.com
  - {host: 10.0.0.5, port: 2222, user: deploy, paths: [/opt/app], mode: exec, name: app-1}
  - url: ssh://ops@db-1/var/lib
  - ssh://[fe80::1]:2200
  - {host: "fe80::2"}
)"));
  REQUIRE(hosts.size() == 5);
  const InventoryHost& bare = hosts[0];
  CHECK(bare.name == "build-1.example.com");
  CHECK(bare.target.user == "scan");
  CHECK(bare.target.port == 22);
  CHECK(bare.paths == std::vector<std::string>{"/etc", "/home"});
  CHECK(bare.mode == Mode::sftp);
  CHECK(bare.identity_file == "/home/tester/.ssh/keyward_scan");
  CHECK(bare.known_hosts == t.path("kh"));  // relative to the inventory's directory

  const InventoryHost& app = hosts[1];
  CHECK(app.name == "app-1");
  CHECK(app.target.host == "10.0.0.5");
  CHECK(app.target.user == "deploy");
  CHECK(app.target.port == 2222);
  CHECK(app.paths == std::vector<std::string>{"/opt/app"});
  CHECK(app.mode == Mode::exec);

  const InventoryHost& db = hosts[2];
  CHECK(db.name == "db-1");
  CHECK(db.target.user == "ops");  // the URL's user wins over the default
  CHECK(db.paths == std::vector<std::string>{"/var/lib"});

  const InventoryHost& v6 = hosts[3];
  CHECK(v6.target.host == "fe80::1");
  CHECK(v6.target.port == 2200);
  CHECK(v6.target.user == "scan");
  CHECK(v6.name == "[fe80::1]:2200");
  CHECK(v6.paths == std::vector<std::string>{"/etc", "/home"});  // a URL without a path takes the defaults
  CHECK(hosts[4].target.host == "fe80::2");  // an IPv6 address as host: is no host:port
}

TEST_CASE("without defaults a host scans / as the user running keyward, over sftp") {
  keyward::test::TempTree t;
  const auto hosts = load_inventory(t.write("hosts.yaml", "hosts: [h1, {host: h2, port: 2022}]\n"));
  REQUIRE(hosts.size() == 2);
  CHECK(hosts[0].target.user.empty());
  CHECK(hosts[0].paths == std::vector<std::string>{"/"});
  CHECK(hosts[0].identity_file.empty());
  CHECK(hosts[0].known_hosts.empty());
  CHECK(hosts[1].name == "h2:2022");  // the label: a report tells it from h2 on port 22
}

TEST_CASE("a default port applies unless the URL names one") {
  keyward::test::TempTree t;
  const auto hosts = load_inventory(t.write("hosts.yaml", R"(
defaults: {port: 2222}
hosts: [ssh://a/srv, "ssh://b:22/srv", {host: c}]
)"));
  CHECK(hosts[0].target.port == 2222);
  CHECK(hosts[1].target.port == 22);
  CHECK(hosts[2].target.port == 2222);
}

TEST_CASE("bad inventories are refused naming the file, the line and the key") {
  keyward::test::TempTree t;
  const std::string file = t.path("hosts.yaml");
  struct Case {
    const char* yaml;
    const char* where;  // "LINE: KEY"
    const char* why;
  };
  const Case cases[] = {
      {"hosts:\n  - {host: a, prot: 22}\n", ":2: hosts[0].prot", "unknown key"},
      {"defaults: {users: x}\nhosts: [a]\n", ":1: defaults.users", "unknown key"},
      {"hosts: [a]\nextra: 1\n", ":2: extra", "unknown key"},
      {"hosts:\n  - a\n  - {host: b}\n  - {host: c, name: a}\n", ":4: hosts[2].name", "names two hosts"},
      {"hosts:\n  - {host: a, port: 70000}\n", ":2: hosts[0].port", "1 to 65535"},
      {"hosts:\n  - {host: a, port: ssh}\n", ":2: hosts[0].port", "1 to 65535"},
      {"hosts:\n  - {host: a, mode: rsync}\n", ":2: hosts[0].mode", "sftp or exec"},
      {"hosts:\n  - {host: a, paths: [etc]}\n", ":2: hosts[0].paths[0]", "absolute path"},
      {"hosts:\n  - {url: 'ssh://a:0/'}\n", ":2: hosts[0].url", "bad port"},
      {"hosts:\n  - {url: ssh://a/x, paths: [/y]}\n", ":2: hosts[0].paths", "one or the other"},
      {"hosts:\n  - {host: a, url: ssh://b}\n", ":2: hosts[0].url", "not both"},
      {"hosts:\n  - {user: x}\n", ":2: hosts[0]", "needs host"},
      {"hosts:\n  - {host: 'x@y'}\n", ":2: hosts[0].host", "host name or address only"},
      {"hosts:\n  - 'db-1:2222'\n", ":2: hosts[0].host", "port:"},
      {"hosts: []\n", ":1: hosts", "non-empty list"},
      {"defaults: {user: x}\n", "hosts", "non-empty list"},
      {"hosts: [a\n", "", "not valid YAML"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.yaml);
    const std::string e = error_of(t, c.yaml);
    CHECK(e.rfind(file, 0) == 0);
    CHECK(e.find(c.where) != std::string::npos);
    CHECK(e.find(c.why) != std::string::npos);
  }
}

TEST_CASE("an inventory that cannot be read names the file") {
  try {
    load_inventory("/nonexistent/hosts.yaml");
    FAIL("no error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/hosts.yaml") != std::string::npos);
  }
}
