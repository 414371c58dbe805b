// SPDX-License-Identifier: Apache-2.0
#include "config.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace keyward::agent;
using namespace std::chrono_literals;

namespace {

const char* kFull = R"(
collector: https://collector.example:8443
ca: /var/lib/keyward-agent/ca.pem
certificate: /var/lib/keyward-agent/agent.pem
key: /var/lib/keyward-agent/agent.key
state_dir: /var/lib/keyward-agent
roots: [/home, /srv, /var/lib/jenkins]
excludes: ["*.iso"]
schedule:
  interval: 6h
  jitter: 10m
limits:
  max_cpu_percent: 25
  threads: 1
  nice: 10
  io_class: idle
  max_file_size: 67108864
  spool_max_bytes: 268435456
proxy: http://proxy.example:3128
)";

const char* kMinimal = R"(
collector: https://c:8443
ca: ca.pem
certificate: agent.pem
key: agent.key
state_dir: /state
)";

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "agent.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the documented agent.yaml is read with every field") {
  const AgentConfig c = parse_config(kFull, "agent.yaml");
  CHECK(c.collector == "https://collector.example:8443");
  CHECK(c.key == "/var/lib/keyward-agent/agent.key");
  CHECK(c.roots == std::vector<std::string>{"/home", "/srv", "/var/lib/jenkins"});
  CHECK(c.excludes == std::vector<std::string>{"*.iso"});
  CHECK(c.interval == 6h);
  CHECK(c.jitter == 10min);
  CHECK(c.max_cpu_percent == 25);
  CHECK(c.threads == 1);
  CHECK(c.nice == 10);
  CHECK(c.io_class == IoClass::idle);
  CHECK(c.max_file_size == 67108864u);
  CHECK(c.spool_max_bytes == 268435456u);
  CHECK(c.proxy == "http://proxy.example:3128");
  CHECK(c.spool_dir() == "/var/lib/keyward-agent/spool");
}

TEST_CASE("a minimal config gets the documented defaults and paths relative to the config file") {
  const AgentConfig c = parse_config(kMinimal, "/etc/keyward/agent.yaml", "/etc/keyward");
  CHECK(c.ca == "/etc/keyward/ca.pem");
  CHECK(c.key == "/etc/keyward/agent.key");
  CHECK(c.state_dir == "/state");
  CHECK(c.roots == std::vector<std::string>{"/"});
  CHECK(c.interval == 6h);
  CHECK(c.jitter == 10min);
  CHECK(c.max_cpu_percent == 25);
  CHECK(c.threads == 1);
  CHECK(c.nice == 10);
  CHECK(c.io_class == IoClass::idle);
  CHECK(c.max_file_size == 64ull << 20);
  CHECK(c.spool_max_bytes == 256ull << 20);
  CHECK(c.proxy.empty());
}

TEST_CASE("durations accept seconds minutes hours and days and refuse anything else") {
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("10m") == 10min);
  CHECK(parse_duration("6h") == 6h);
  CHECK(parse_duration("1d") == 24h);
  CHECK(parse_duration("90") == 90s);
  CHECK(parse_duration(" 2H ") == 2h);
  CHECK_THROWS_AS(parse_duration("6x"), std::invalid_argument);
  CHECK_THROWS_AS(parse_duration("h"), std::invalid_argument);
  CHECK_THROWS_AS(parse_duration(""), std::invalid_argument);
  CHECK_THROWS_AS(parse_duration("-5m"), std::invalid_argument);
  CHECK_THROWS_AS(parse_duration("99999999999999d"), std::invalid_argument);
}

TEST_CASE("sizes accept bytes and binary units") {
  CHECK(parse_size("4096") == 4096u);
  CHECK(parse_size("64K") == 64u << 10);
  CHECK(parse_size("64M") == 64u << 20);
  CHECK(parse_size("256MiB") == 256u << 20);
  CHECK(parse_size("1G") == 1ull << 30);
  CHECK_THROWS_AS(parse_size("12 parsecs"), std::invalid_argument);
  CHECK_THROWS_AS(parse_size("M"), std::invalid_argument);
}

TEST_CASE("config errors name the file and the key") {
  std::string yaml = std::string(kMinimal) + "schedule:\n  interval: 6 hours\n";
  std::string e = error_of(yaml);
  CHECK(e.find("agent.yaml") != std::string::npos);
  CHECK(e.find("schedule.interval") != std::string::npos);

  e = error_of(std::string(kMinimal) + "limits:\n  io_class: fast\n");
  CHECK(e.find("limits.io_class") != std::string::npos);

  e = error_of(std::string(kMinimal) + "limits:\n  max_cpu_percent: 150\n");
  CHECK(e.find("limits.max_cpu_percent") != std::string::npos);

  e = error_of(std::string(kMinimal) + "limits:\n  spool_max: 1G\n");
  CHECK(e.find("limits.spool_max") != std::string::npos);
  CHECK(e.find("unknown key") != std::string::npos);

  e = error_of(std::string(kMinimal) + "colector: x\n");
  CHECK(e.find("colector") != std::string::npos);

  e = error_of("collector: https://c\nca: a\ncertificate: b\nkey: k\n");
  CHECK(e.find("state_dir") != std::string::npos);

  e = error_of("collector: http://plain:80\nca: a\ncertificate: b\nkey: k\nstate_dir: /s\n");
  CHECK(e.find("collector") != std::string::npos);

  e = error_of(std::string(kMinimal) + "roots: /home\n");
  CHECK(e.find("roots") != std::string::npos);

  e = error_of(std::string(kMinimal) + "proxy: socks5://p:1080\n");
  CHECK(e.find("proxy") != std::string::npos);

  e = error_of("collector: [unclosed\n");
  CHECK(e.find("not valid YAML") != std::string::npos);
}

TEST_CASE("a key that is a list or a mapping is a config error naming the file and the section") {
  std::string e = error_of("[a]: 1\n");
  CHECK(e.find("agent.yaml") != std::string::npos);
  CHECK(e.find("keys must be plain names") != std::string::npos);
  e = error_of(std::string(kMinimal) + "schedule: {[x]: 1}\n");
  CHECK(e.find("schedule.") != std::string::npos);
  e = error_of(std::string(kMinimal) + "limits:\n  ? {a: b}\n  : 1\n");
  CHECK(e.find("limits.") != std::string::npos);
}

TEST_CASE("a missing config file is a config error naming it") {
  CHECK_THROWS_AS(load_config("/nonexistent/keyward/agent.yaml"), ConfigError);
  try {
    load_config("/nonexistent/keyward/agent.yaml");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/keyward/agent.yaml") != std::string::npos);
  }
}

TEST_CASE("a rendered config reads back the same") {
  AgentConfig c = parse_config(kFull, "agent.yaml");
  c.excludes.push_back("quote\"d");
  const AgentConfig back = parse_config(render_config(c), "rendered.yaml");
  CHECK(back.collector == c.collector);
  CHECK(back.roots == c.roots);
  CHECK(back.excludes == c.excludes);
  CHECK(back.interval == c.interval);
  CHECK(back.jitter == c.jitter);
  CHECK(back.spool_max_bytes == c.spool_max_bytes);
  CHECK(back.io_class == c.io_class);
  CHECK(back.proxy == c.proxy);
}

TEST_CASE("without a migrate: section the agent has no migration settings at all") {
  CHECK_FALSE(parse_config(kFull, "agent.yaml").migrate.has_value());
  CHECK_FALSE(parse_config(std::string(kMinimal) + "migrate:\n", "agent.yaml").migrate.has_value());
  CHECK(render_config(parse_config(kMinimal, "agent.yaml")).find("migrate") == std::string::npos);
}

TEST_CASE("the migrate: section is read, its relative paths taken from the config's directory, and rendered back") {
  const std::string yaml = std::string(kMinimal) +
                           "migrate:\n  module: /usr/lib/softhsm/libsofthsm2.so\n  token: codesign\n"
                           "  pin_source: file:hsm.pin\n  strategies: [regenerate]\n  remove_source: true\n  poll: 2m\n";
  const AgentConfig c = parse_config(yaml, "/etc/keyward/agent.yaml", "/etc/keyward");
  REQUIRE(c.migrate.has_value());
  CHECK(c.migrate->module == "/usr/lib/softhsm/libsofthsm2.so");
  CHECK(c.migrate->token == "codesign");
  CHECK(c.migrate->pin_source == "file:/etc/keyward/hsm.pin");
  CHECK(c.migrate->strategies == std::vector<keyward::migrate::Strategy>{keyward::migrate::Strategy::regenerate});
  CHECK(c.migrate->remove_source);
  CHECK(c.migrate->poll == std::chrono::seconds(120));
  CHECK(c.migration_results_file() == "/state/migration-results.jsonl");

  const AgentConfig back = parse_config(render_config(c), "rendered.yaml");
  REQUIRE(back.migrate.has_value());
  CHECK(back.migrate->module == c.migrate->module);
  CHECK(back.migrate->token == c.migrate->token);
  CHECK(back.migrate->pin_source == c.migrate->pin_source);
  CHECK(back.migrate->strategies == c.migrate->strategies);
  CHECK(back.migrate->remove_source == c.migrate->remove_source);
  CHECK(back.migrate->poll == c.migrate->poll);

  const AgentConfig defaults =
      parse_config(std::string(kMinimal) + "migrate: {module: /m.so, token: t, pin_source: env:HSM_PIN}\n", "a.yaml");
  REQUIRE(defaults.migrate.has_value());
  CHECK(defaults.migrate->pin_source == "env:HSM_PIN");
  CHECK(defaults.migrate->strategies.size() == 2);
  CHECK_FALSE(defaults.migrate->remove_source);
  CHECK(defaults.migrate->poll == std::chrono::minutes(5));
  CHECK_THROWS_WITH_AS(parse_config(std::string(kMinimal) +
                                        "migrate: {module: /m.so, token: t, pin_source: env:P, poll: 1s}\n",
                                    "a.yaml"),
                       doctest::Contains("migrate.poll"), ConfigError);
}

TEST_CASE("a migrate: section without a module, token or a pin source form is refused naming the key") {
  const std::string base = std::string(kMinimal) + "migrate:\n";
  CHECK(error_of(base + "  token: t\n  pin_source: env:P\n").find("migrate.module") != std::string::npos);
  CHECK(error_of(base + "  module: /m.so\n  pin_source: env:P\n").find("migrate.token") != std::string::npos);
  CHECK(error_of(base + "  module: /m.so\n  token: t\n").find("migrate.pin_source") != std::string::npos);
  // A PIN written in place of its source is refused, and the message does not repeat it.
  const std::string e = error_of(base + "  module: /m.so\n  token: t\n  pin_source: 123456\n");
  CHECK(e.find("migrate.pin_source") != std::string::npos);
  CHECK(e.find("123456") == std::string::npos);
  CHECK(error_of(base + "  module: /m.so\n  token: t\n  pin_source: env:P\n  strategies: [copy]\n")
            .find("migrate.strategies") != std::string::npos);
  CHECK(error_of(base + "  module: /m.so\n  token: t\n  pin_source: env:P\n  remove_source: maybe\n")
            .find("migrate.remove_source") != std::string::npos);
  CHECK(error_of(base + "  module: /m.so\n  token: t\n  pin_source: env:P\n  pin: 1234\n").find("migrate.pin") !=
        std::string::npos);
}
