#include <keyward/scanner/finding_json.hpp>

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
  Finding f;
  f.id = "0123456789abcdef0123456789abcdef";
  f.rule = "keystore/pkcs12";
  f.kind = Kind::keystore;
  f.format = Format::pkcs12;
  f.encoding = "base64";
  f.location = {std::string("dir/\xff.p12"), "inner.jar!a.p12", 3, 42};
  f.file = {0640, 1000, 1000, "dev", 2048, 1700000000};
  f.key = KeyFacts{};
  f.key->algorithm = "rsa";
  f.key->bits = 3072;
  f.key->protection = Protection{"aes-256-cbc", "pbkdf2", 2048};
  f.certificate = CertFacts{};
  f.certificate->subject = "CN=x";
  f.certificate->not_after = 1800000000;
  f.certificate->extended_key_usage = {"codeSigning"};
  f.store = StoreFacts{};
  f.store->opened = true;
  f.store->weak_password = true;
  f.store->weaknesses = {"sha1-mac"};
  StoreEntry e;
  e.kind = Kind::private_key;
  e.alias = "release";
  e.chain_length = 2;
  e.created = 1600000000;
  f.entries.push_back(e);
  f.paired_with = {"ffffffffffffffffffffffffffffffff"};
  f.git = GitFacts{"abc123", 1650000000};
  f.risk = RiskFacts{95, "critical", {{"unencrypted-private-key", 40, "why"}}, "move it"};
  f.suppressed = Suppression{"baseline", "known"};
  const auto j = to_json(f);
  const auto back = finding_from_json(j);
  REQUIRE(back.has_value());
  CHECK(to_json(*back) == j);
  CHECK(back->location.path == f.location.path);
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
