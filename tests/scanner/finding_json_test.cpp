// SPDX-License-Identifier: Apache-2.0
#include <keyward/scanner/finding_json.hpp>

#include "support/full_finding.hpp"

#include <doctest/doctest.h>

using namespace keyward::scanner;

TEST_CASE("absent facts are omitted, never null") {
  Finding f;
  f.id = "abc";
  f.rule = "private-key/pkcs8";
  f.kind = Kind::private_key;
  f.format = Format::pem_pkcs8_encrypted;
  f.key.emplace();
  f.key->encrypted = true;
  const auto j = to_json(f);
  CHECK(j["kind"] == "private_key");
  CHECK(j["format"] == "pem-pkcs8-encrypted");
  CHECK_FALSE(j["key"].contains("algorithm"));
  CHECK_FALSE(j["key"].contains("bits"));
  CHECK_FALSE(j.contains("certificate"));
  CHECK_FALSE(j.contains("paired_with"));
  CHECK(j["key"]["encrypted"] == true);
  CHECK(j.dump().find("null") == std::string::npos);
}

TEST_CASE("non-UTF-8 paths are kept losslessly in path_b64") {
  Finding f;
  f.location.path = std::string("dir/k\xff\xfe.pem");
  const auto j = to_json(f);
  CHECK(j["location"].contains("path_b64"));
  CHECK(j["location"]["path_b64"] == "ZGlyL2v//i5wZW0=");
  Finding g;
  g.location.path = "dir/ключ.pem";
  CHECK_FALSE(to_json(g)["location"].contains("path_b64"));
}

TEST_CASE("file mode is octal text and times are RFC 3339 UTC") {
  Finding f;
  f.file.mode = 0640;
  f.file.mtime = 1700000000;
  const auto j = to_json(f);
  CHECK(j["file"]["mode"] == "0640");
  CHECK(j["file"]["mtime"] == "2023-11-14T22:13:20Z");
}

TEST_CASE("a scan document carries schema, tool, host, scan and stats") {
  ScanResult r;
  r.tool_version = "9.9.9";
  r.stats.skipped["too_large"] = 2;
  const auto j = to_json(r);
  CHECK(j["schema"] == "keyward.findings/v1");
  CHECK(j["tool"]["name"] == "keyward");
  CHECK(j["scan"]["stats"]["skipped"]["too_large"] == 2);
  CHECK(j["findings"].is_array());
  CHECK_FALSE(to_json(r, false).contains("findings"));
}

TEST_CASE("every field of a finding survives a round trip through JSON") {
  const Finding f = keyward::test::full_finding();
  const auto j = to_json(f);
  const auto back = finding_from_json(j);
  REQUIRE(back.has_value());
  CHECK(to_json(*back) == j);
  CHECK(back->location.path == f.location.path);
}

TEST_CASE("location.host is written only for a remote scan's finding and read back, the id leaves it out") {
  Finding f = keyward::test::full_finding();
  f.location.host = "build-1:2222";
  const auto j = to_json(f);
  CHECK(j["location"]["host"] == "build-1:2222");
  const auto back = finding_from_json(j);
  REQUIRE(back.has_value());
  CHECK(back->location.host == "build-1:2222");
  CHECK(back->id == f.id);
  f.location.host.clear();
  const auto local = to_json(f);
  CHECK_FALSE(local["location"].contains("host"));
  CHECK(local["id"] == j["id"]);
  std::string written;
  write_json(f, written, -1);
  CHECK(written.find("\"host\"") == std::string::npos);
}

TEST_CASE("a finding with a field of the wrong type or an unknown format is rejected") {
  nlohmann::json j = {{"id", "x"}, {"rule", "r"}, {"kind", "private_key"}, {"format", "pem-pkcs8"}};
  CHECK(finding_from_json(j).has_value());
  j["format"] = "nope";
  CHECK_FALSE(finding_from_json(j).has_value());
  j["format"] = "pem-pkcs8";
  j["key"] = {{"bits", "many"}};
  CHECK_FALSE(finding_from_json(j).has_value());
}

namespace {

// What write_json must equal: the JSON tree dumped with two spaces, inner lines indented more;
// or compact.
std::string via_tree(const Finding& f, int indent) {
  if (indent < 0) return to_json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string one = to_json(f).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  for (char c : one) {
    out += c;
    if (c == '\n') out.append(static_cast<std::size_t>(indent), ' ');
  }
  return out;
}

void check_written_like_tree(const Finding& f) {
  for (int indent : {0, 4, -1}) {
    std::string written;
    write_json(f, written, indent);
    CHECK(written == via_tree(f, indent));
  }
}

}  // namespace

TEST_CASE("write_json writes byte for byte what the JSON tree dumps, for every field") {
  check_written_like_tree(Finding{});
  const Finding f = keyward::test::full_finding();
  check_written_like_tree(f);

  // Empty arrays and objects print as [] and {}; optional members absent.
  Finding g = f;
  g.store->weaknesses.clear();
  g.store->encryption.clear();
  g.risk->factors.clear();
  g.risk->remediation.clear();
  g.certificate->key_usage.clear();
  g.key->protection = Protection{};
  g.entries = {StoreEntry{}};
  g.paired_with.clear();
  check_written_like_tree(g);
}
