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
