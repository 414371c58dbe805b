// SPDX-License-Identifier: Apache-2.0
#include "gzip.hpp"
#include "spool.hpp"

#include <keyward/protocol/protocol.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/scanner/scan.hpp>

#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

#include <doctest/doctest.h>

#include <sstream>

namespace {

// The base64 lines of a PEM body (what must never leave the host).
std::vector<std::string> pem_body_lines(const std::string& pem) {
  std::vector<std::string> out;
  std::istringstream in(pem);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line.rfind("-----", 0) != 0) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("a spooled report of a tree holding a private key never contains the key's bytes") {
  keyward::test::TempTree t;
  const std::string pem = keyward::test::pkcs8_pem(keyward::test::ec_p256());
  const std::string rsa = keyward::test::traditional_pem(keyward::test::rsa_2048());
  t.write("home/build/.ssh/deploy.key", pem, 0600);
  t.write("srv/app/server.key", rsa, 0644);

  keyward::scanner::ScanOptions opts;
  opts.roots = {t.path()};
  opts.threads = 1;
  keyward::scanner::ScanResult result = keyward::scanner::scan(opts);
  keyward::rules::score(result, keyward::rules::RuleSet::builtin(), keyward::rules::ScoreContext{});
  REQUIRE(result.findings.size() >= 2);  // the keys were found: the check below is not vacuous

  const std::string rid = keyward::protocol::new_report_id();
  const std::string body = keyward::protocol::report_to_json(result, rid).dump();
  keyward::agent::Spool spool(t.path("state/spool"), 1 << 20);
  spool.add(rid, body);
  REQUIRE(spool.list().size() == 1);
  const std::string stored = keyward::agent::gzip_decompress(spool.read_compressed(spool.list().front()));
  CHECK(stored == body);
  CHECK(stored.find(rid) != std::string::npos);
  CHECK(stored.find("deploy.key") != std::string::npos);

  for (const std::string* key : {&pem, &rsa}) {
    const auto lines = pem_body_lines(*key);
    REQUIRE(!lines.empty());
    for (const auto& l : lines) {
      // Every 64-character base64 line, and any 24-character piece of it.
      CHECK(stored.find(l) == std::string::npos);
      for (std::size_t i = 0; i + 24 <= l.size(); i += 20) CHECK(stored.find(l.substr(i, 24)) == std::string::npos);
    }
    CHECK(stored.find("PRIVATE KEY-----") == std::string::npos);
  }
}
