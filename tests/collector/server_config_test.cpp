// SPDX-License-Identifier: Apache-2.0
#include "server/config.hpp"

#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

using namespace keyward::collector;
using keyward::test::TempTree;

namespace {
std::string error_of(const std::string& path) {
  try {
    load_config(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("durations take s, m, h and d units and refuse anything else") {
  CHECK(parse_duration("30d") == 30 * 86400);
  CHECK(parse_duration("24h") == 86400);
  CHECK(parse_duration("10m") == 600);
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("90") == 90);
  CHECK(!parse_duration(""));
  CHECK(!parse_duration("d"));
  CHECK(!parse_duration("30x"));
  CHECK(!parse_duration("-1d"));
  CHECK(!parse_duration("1.5h"));
  CHECK(!parse_duration("99999999999999999999d"));
}

TEST_CASE("listen addresses are host:port or [v6]:port") {
  CHECK(parse_listen("127.0.0.1:8443") == std::pair<std::string, std::uint16_t>{"127.0.0.1", 8443});
  CHECK(parse_listen("[::1]:443") == std::pair<std::string, std::uint16_t>{"::1", 443});
  CHECK(!parse_listen("127.0.0.1"));
  CHECK(!parse_listen("::1:443"));
  CHECK(!parse_listen("host:99999"));
  CHECK(!parse_listen(":8443"));
}

TEST_CASE("RFC 3339 UTC times round-trip") {
  CHECK(rfc3339(0).empty());
  CHECK(parse_rfc3339(rfc3339(1760000000)) == 1760000000);
  CHECK(!parse_rfc3339("2030-01-01"));
  CHECK(!parse_rfc3339("2030-01-01T00:00:00+02:00"));
}

TEST_CASE("a minimal config gets the documented defaults and paths relative to data_dir") {
  TempTree dir;
  const auto path = dir.write("collector.yaml", "listen: 0.0.0.0:9443\ndata_dir: /srv/kw\n");
  const Config c = load_config(path);
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 9443);
  CHECK(c.database == "/srv/kw/keyward.db");
  CHECK(c.events_file == "/srv/kw/events.jsonl");
  CHECK(c.tls.ca_key == "/srv/kw/pki/ca.key");
  CHECK(c.limits.max_request_bytes == 32u << 20);
  CHECK(c.limits.max_findings_per_report == 20000);
  CHECK(c.limits.reports_per_minute == 12);
  CHECK(c.limits.request_timeout_seconds == 30);
  CHECK(c.limits.max_connections == 256);
  CHECK(c.limits.max_exception_seconds == 365 * 86400);
  CHECK(c.audit.signing_key == "/srv/kw/pki/audit.key");
  CHECK(c.audit.public_key == "/srv/kw/pki/audit.pub");
  CHECK_FALSE(c.audit.syslog);
}

TEST_CASE("the audit section and the exception limit load, and are checked") {
  TempTree dir;
  const Config c = load_config(dir.write("a.yaml",
                                         "data_dir: /srv/kw\naudit:\n  signing_key: /keys/audit.key\n  syslog: true\n"
                                         "limits:\n  max_exception_seconds: 604800\n"));
  CHECK(c.audit.signing_key == "/keys/audit.key");
  CHECK(c.audit.public_key == "/srv/kw/pki/audit.pub");
  CHECK(c.audit.syslog);
  CHECK(c.limits.max_exception_seconds == 604800);
  CHECK(error_of(dir.write("b.yaml", "audit:\n  syslog: yes please\n")).find("audit.syslog") != std::string::npos);
  CHECK(error_of(dir.write("c.yaml", "audit:\n  signing_keys: x\n")).find("audit.signing_keys") != std::string::npos);
  CHECK(error_of(dir.write("d.yaml", "limits:\n  max_exception_seconds: 10\n")).find("limits.max_exception_seconds") !=
        std::string::npos);
}

TEST_CASE("a token's --ttl is a duration of at least a minute, or never by name, nothing is the 90-day default") {
  CHECK(parse_token_ttl("")->expires_at(1000) == 1000 + 90 * 86400);
  CHECK(parse_token_ttl("never")->never);
  CHECK(parse_token_ttl("never")->expires_at(1000) == 0);
  CHECK(parse_token_ttl("12h")->expires_at(1000) == 1000 + 12 * 3600);
  CHECK(parse_token_ttl("3650d").has_value());
  CHECK_FALSE(parse_token_ttl("0"));  // was "never" once: now it must be said
  CHECK_FALSE(parse_token_ttl("59s"));
  CHECK_FALSE(parse_token_ttl("3651d"));
  CHECK_FALSE(parse_token_ttl("forever"));
}

TEST_CASE("what init writes loads back the same") {
  TempTree dir;
  Config c;
  c.listen_host = "::1";
  c.listen_port = 8443;
  c.data_dir = dir.path();
  c.database = "db/k.db";
  c.events_file = "events.jsonl";
  c.tls = {"pki/ca.pem", "/abs/ca.key", "pki/server.pem", "pki/server.key"};
  c.limits.reports_per_minute = 3;
  c.limits.max_exception_seconds = 86400;
  c.audit.syslog = true;
  c.limits.max_findings_per_report = 500;
  const auto path = dir.write("collector.yaml", config_to_yaml(c));
  const Config back = load_config(path);
  CHECK(back.listen_host == "::1");
  CHECK(back.database == dir.path("db/k.db"));
  CHECK(back.tls.ca_cert == dir.path("pki/ca.pem"));
  CHECK(back.tls.ca_key == "/abs/ca.key");
  CHECK(back.limits.reports_per_minute == 3);
  CHECK(back.limits.max_exception_seconds == 86400);
  CHECK(back.audit.signing_key == dir.path("pki/audit.key"));
  CHECK(back.audit.syslog);
  CHECK(back.limits.max_findings_per_report == 500);
}

TEST_CASE("config errors name the file and the key") {
  TempTree dir;
  auto e = error_of(dir.write("a.yaml", "listen: nowhere\n"));
  CHECK(e.find("a.yaml") != std::string::npos);
  CHECK(e.find("listen") != std::string::npos);
  e = error_of(dir.write("b.yaml", "limits:\n  max_connections: lots\n"));
  CHECK(e.find("limits.max_connections") != std::string::npos);
  e = error_of(dir.write("c.yaml", "limits:\n  reports_per_minute: 0\n"));
  CHECK(e.find("limits.reports_per_minute") != std::string::npos);
  e = error_of(dir.write("g.yaml", "limits:\n  max_findings_per_report: 0\n"));
  CHECK(e.find("limits.max_findings_per_report") != std::string::npos);
  e = error_of(dir.write("d.yaml", "tls:\n  ca_crt: x\n"));
  CHECK(e.find("tls.ca_crt") != std::string::npos);
  e = error_of(dir.write("e.yaml", "lisen: 1.2.3.4:5\n"));
  CHECK(e.find("lisen") != std::string::npos);
  e = error_of(dir.write("f.yaml", "listen: [\n"));
  CHECK(e.find("f.yaml") != std::string::npos);
  e = error_of(dir.path("missing.yaml"));
  CHECK(e.find("missing.yaml") != std::string::npos);
}

TEST_CASE("hsm_dirs is a list of directories relative to data_dir, written by init and checked") {
  TempTree dir;
  const Config c = load_config(dir.write("h.yaml", "data_dir: /srv/kw\nhsm_dirs: [hsm, /etc/keyward/hsm]\n"));
  CHECK(c.hsm_dirs == std::vector<std::string>{"/srv/kw/hsm", "/etc/keyward/hsm"});
  CHECK(load_config(dir.write("n.yaml", "data_dir: /srv/kw\n")).hsm_dirs.empty());
  CHECK(error_of(dir.write("s.yaml", "hsm_dirs: hsm\n")).find("hsm_dirs") != std::string::npos);
  Config written;
  written.data_dir = dir.path();
  written.database = "k.db";
  written.hsm_dirs = {"profiles"};
  const Config back = load_config(dir.write("w.yaml", config_to_yaml(written)));
  CHECK(back.hsm_dirs == std::vector<std::string>{dir.path("profiles")});
}

TEST_CASE("remote_scans: paths relative to data_dir, durations, and the documented defaults") {
  TempTree dir;
  dir.write("pki/remote_scan_key", "not a key: the config only checks its mode\n", 0600);
  const std::string text = "data_dir: " + dir.path() +
                           "\nremote_scans:\n  inventory: remote-hosts.yaml\n  every: 2h\n"
                           "  identity: pki/remote_scan_key\n  known_hosts: remote_known_hosts\n"
                           "  connect_timeout: 5s\n  timeout: 1m\n  parallel: 8\n";
  const Config c = load_config(dir.write("r.yaml", text));
  REQUIRE(c.remote_scans);
  CHECK(c.remote_scans->inventory == dir.path("remote-hosts.yaml"));
  CHECK(c.remote_scans->identity == dir.path("pki/remote_scan_key"));
  CHECK(c.remote_scans->known_hosts == dir.path("remote_known_hosts"));
  CHECK(c.remote_scans->every_seconds == 7200);
  CHECK(c.remote_scans->connect_timeout_seconds == 5);
  CHECK(c.remote_scans->timeout_seconds == 60);
  CHECK(c.remote_scans->parallel == 8);
  CHECK(c.remote_scans->passphrase_file.empty());
  // Written back (as init or a tool would), it loads the same.
  const Config back = load_config(dir.write("r2.yaml", config_to_yaml(c)));
  REQUIRE(back.remote_scans);
  CHECK(back.remote_scans->every_seconds == 7200);
  CHECK(back.remote_scans->identity == c.remote_scans->identity);
  // Absent: no remote scans; the defaults when only the required keys are given.
  CHECK(!load_config(dir.write("n.yaml", "data_dir: /srv/kw\n")).remote_scans);
  const Config d = load_config(dir.write("d.yaml", "data_dir: " + dir.path() +
                                                       "\nremote_scans:\n  inventory: h.yaml\n"
                                                       "  identity: pki/remote_scan_key\n  known_hosts: kh\n"));
  REQUIRE(d.remote_scans);
  CHECK(d.remote_scans->every_seconds == 6 * 3600);
  CHECK(d.remote_scans->parallel == 4);
  CHECK(d.remote_scans->connect_timeout_seconds == 10);
  CHECK(d.remote_scans->timeout_seconds == 30);
}

TEST_CASE("remote_scans: a credential file readable by others is refused with the chmod to run") {
  TempTree dir;
  const auto key = dir.write("key", "x\n", 0644);
  const std::string base = "data_dir: " + dir.path() + "\nremote_scans:\n  inventory: h.yaml\n  known_hosts: kh\n";
  std::string e = error_of(dir.write("a.yaml", base + "  identity: key\n"));
  CHECK(e.find("remote_scans.identity") != std::string::npos);
  CHECK(e.find("0644") != std::string::npos);
  CHECK(e.find("chmod 600 " + key) != std::string::npos);
  dir.write("key", "x\n", 0600);
  CHECK(error_of(dir.path("a.yaml")).empty());
  const auto pass = dir.write("pass", "p\n", 0640);
  e = error_of(dir.write("b.yaml", base + "  identity: key\n  passphrase_file: pass\n"));
  CHECK(e.find("remote_scans.passphrase_file") != std::string::npos);
  CHECK(e.find("chmod 600 " + pass) != std::string::npos);
  e = error_of(dir.write("c.yaml", base + "  identity: missing-key\n"));
  CHECK(e.find("cannot read") != std::string::npos);
}

TEST_CASE("remote_scans: known_hosts, the inventory and the identity are required, and bad values are named") {
  TempTree dir;
  dir.write("key", "x\n", 0600);
  const std::string head = "data_dir: " + dir.path() + "\nremote_scans:\n";
  std::string e = error_of(dir.write("a.yaml", head + "  inventory: h.yaml\n  identity: key\n"));
  CHECK(e.find("remote_scans.known_hosts") != std::string::npos);
  CHECK(e.find("required") != std::string::npos);
  e = error_of(dir.write("b.yaml", head + "  identity: key\n  known_hosts: kh\n"));
  CHECK(e.find("remote_scans.inventory") != std::string::npos);
  e = error_of(dir.write("c.yaml", head + "  inventory: h.yaml\n  known_hosts: kh\n"));
  CHECK(e.find("remote_scans.identity") != std::string::npos);
  const std::string ok = head + "  inventory: h.yaml\n  identity: key\n  known_hosts: kh\n";
  e = error_of(dir.write("d.yaml", ok + "  every: often\n"));
  CHECK(e.find("remote_scans.every") != std::string::npos);
  e = error_of(dir.write("e.yaml", ok + "  every: 10s\n"));  // under a minute: a typo, not a schedule
  CHECK(e.find("remote_scans.every") != std::string::npos);
  e = error_of(dir.write("f.yaml", ok + "  timeout: 0s\n"));
  CHECK(e.find("remote_scans.timeout") != std::string::npos);
  e = error_of(dir.write("g.yaml", ok + "  parallel: 0\n"));
  CHECK(e.find("remote_scans.parallel") != std::string::npos);
  e = error_of(dir.write("h.yaml", ok + "  accept_new_host_keys: true\n"));
  CHECK(e.find("remote_scans.accept_new_host_keys") != std::string::npos);
  e = error_of(dir.write("i.yaml", "remote_scans: yes\n"));
  CHECK(e.find("remote_scans") != std::string::npos);
}

TEST_CASE("a postgres:// database is kept as written, its password only in a file beside the config") {
  TempTree dir;
  const Config c = load_config(
      dir.write("p.yaml",
                "data_dir: /srv/kw\ndatabase: postgres://keyward@db.internal:5432/inventory?sslmode=verify-full\n"
                "database_password_file: pg.password\n"));
  CHECK(c.database == "postgres://keyward@db.internal:5432/inventory?sslmode=verify-full");
  CHECK(c.database_password_file == "/srv/kw/pg.password");
  const Config back = load_config(dir.write("p2.yaml", config_to_yaml(c)));
  CHECK(back.database == c.database);
  CHECK(back.database_password_file == c.database_password_file);
  // A SQLite file is still a path relative to data_dir, with no password file.
  CHECK(load_config(dir.write("s.yaml", "data_dir: /srv/kw\ndatabase: k.db\n")).database == "/srv/kw/k.db");

  // A password in the URL is refused, and the message does not repeat it.
  auto e = error_of(dir.write("w.yaml", "database: postgres://keyward:hunter2secret@db/inventory\n"));
  CHECK(e.find("database") != std::string::npos);
  CHECK(e.find("database_password_file") != std::string::npos);
  CHECK(e.find("hunter2secret") == std::string::npos);
  e = error_of(dir.write("x.yaml", "database: postgres://db/inventory?password=hunter2secret\n"));
  CHECK(e.find("database_password_file") != std::string::npos);
  CHECK(e.find("hunter2secret") == std::string::npos);
  e = error_of(dir.write("y.yaml", "database: k.db\ndatabase_password_file: pg.password\n"));
  CHECK(e.find("database_password_file") != std::string::npos);
  e = error_of(dir.write("z.yaml", "database: postgres://db/inventory?nonsense=1\n"));
  CHECK(e.find("not a PostgreSQL connection string") != std::string::npos);
}
