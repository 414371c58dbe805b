// SPDX-License-Identifier: Apache-2.0
#include <keyward/protocol/protocol.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <doctest/doctest.h>

#include <limits>

using keyward::protocol::parse_report;
using nlohmann::json;

namespace {

keyward::scanner::ScanResult sample_result() {
  keyward::scanner::ScanResult r;
  r.tool_version = "0.1.0";
  r.host = {"build-1", "linux"};
  r.scan_id = "s1";
  r.started_at = 1700000000;
  r.finished_at = 1700000005;
  r.roots = {"/srv"};
  r.complete = false;
  r.stats.files_seen = 12;
  r.stats.skipped["fifo"] = 1;
  keyward::scanner::Finding f;
  f.id = "abc123";
  f.rule = "private-key/pkcs8";
  f.kind = keyward::scanner::Kind::private_key;
  f.format = keyward::scanner::Format::pem_pkcs8;
  f.location.path = "/srv/k.pem";
  f.key = keyward::scanner::KeyFacts{};
  f.key->algorithm = "ec";
  f.key->spki_sha256 = std::string(64, 'a');
  r.findings.push_back(f);
  return r;
}

}  // namespace

TEST_CASE("a report round-trips through its JSON form with its id, completeness and findings") {
  const std::string id = keyward::protocol::new_report_id();
  CHECK(keyward::protocol::valid_report_id(id));
  const std::string body = keyward::protocol::report_to_json(sample_result(), id).dump();
  auto rep = parse_report(body);
  REQUIRE(rep.has_value());
  CHECK(rep->report_id == id);
  CHECK_FALSE(rep->result.complete);
  CHECK(rep->result.started_at == 1700000000);
  CHECK(rep->result.host.hostname == "build-1");
  CHECK(rep->result.stats.skipped.at("fifo") == 1);
  REQUIRE(rep->result.findings.size() == 1);
  CHECK(rep->result.findings[0].key->spki_sha256 == std::string(64, 'a'));
}

TEST_CASE("report ids are random and checked for shape") {
  CHECK(keyward::protocol::new_report_id() != keyward::protocol::new_report_id());
  CHECK_FALSE(keyward::protocol::valid_report_id("ABCDEF0123456789abcdef0123456789"));
  CHECK_FALSE(keyward::protocol::valid_report_id("abc"));
}

TEST_CASE("malformed JSON, an unknown schema and a missing report id are refused with stable codes") {
  CHECK(parse_report("{not json").error().code == "malformed_json");
  CHECK(parse_report("").error().code == "malformed_json");
  json doc = keyward::protocol::report_to_json(sample_result(), keyward::protocol::new_report_id());
  json wrong = doc;
  wrong["schema"] = "keyward.findings/v9";
  auto e = parse_report(wrong.dump());
  REQUIRE(e.has_error());
  CHECK(e.error().code == "unknown_schema");
  CHECK(e.error().message.find("keyward.findings/v1") != std::string::npos);
  json noid = doc;
  noid.erase("report_id");
  CHECK(parse_report(noid.dump()).error().code == "bad_report_id");
  json badfinding = doc;
  badfinding["findings"][0]["kind"] = "dragon";
  CHECK(parse_report(badfinding.dump()).error().code == "bad_finding");
  json badtype = doc;
  badtype["scan"]["complete"] = "yes";
  CHECK(parse_report(badtype.dump()).error().code == "bad_field");
  CHECK(parse_report("[]").error().code == "bad_field");
}

TEST_CASE("a finding whose numbers are floats beyond their type's range is refused, and one in range is read") {
  json doc = keyward::protocol::report_to_json(sample_result(), keyward::protocol::new_report_id());
  for (double bad : {1e20, -1e20, 4294967296.0, -1.0}) {
    json j = doc;
    j["findings"][0]["key"]["bits"] = bad;
    CHECK(parse_report(j.dump()).error().code == "bad_finding");
  }
  json big = doc;
  big["findings"][0]["location"]["offset"] = 1.8446744073709552e19;  // 2^64
  CHECK(parse_report(big.dump()).error().code == "bad_finding");
  json ok = doc;
  ok["findings"][0]["key"]["bits"] = 256.0;
  auto r = parse_report(ok.dump());
  REQUIRE(r.has_value());
  CHECK(r->result.findings.at(0).key->bits == 256u);
}

TEST_CASE("a finding whose integers are negative or beyond their type's range is refused, not wrapped") {
  json doc = keyward::protocol::report_to_json(sample_result(), keyward::protocol::new_report_id());
  for (const json bad : {json(-1), json(-4096), json(4294967296LL), json(std::numeric_limits<std::uint64_t>::max())}) {
    json j = doc;
    j["findings"][0]["key"]["bits"] = bad;
    CHECK(parse_report(j.dump()).error().code == "bad_finding");
  }
  json neg = doc;
  neg["findings"][0]["location"]["offset"] = -1;
  CHECK(parse_report(neg.dump()).error().code == "bad_finding");
  json ok = doc;
  ok["findings"][0]["key"]["bits"] = 4294967295LL;
  auto r = parse_report(ok.dump());
  REQUIRE(r.has_value());
  CHECK(r->result.findings.at(0).key->bits == 4294967295u);
}

TEST_CASE("an enrollment request needs a CSR and a host name") {
  auto ok = keyward::protocol::parse_enroll_request(R"({"csr":"-----BEGIN CERTIFICATE REQUEST-----","hostname":"h1"})");
  REQUIRE(ok.has_value());
  CHECK(ok->hostname == "h1");
  CHECK(keyward::protocol::parse_enroll_request(R"({"hostname":"h1"})").has_error());
  CHECK(keyward::protocol::parse_enroll_request(R"({"csr":"x","hostname":""})").has_error());
  CHECK(keyward::protocol::parse_enroll_request("nope").has_error());
}

TEST_CASE("the streamed report is the same document as the JSON tree, findings and all") {
  const std::string id = keyward::protocol::new_report_id();
  auto r = sample_result();
  r.findings.push_back(r.findings[0]);
  r.findings[1].id = "def456";
  std::string streamed;
  keyward::protocol::write_report_json(r, id, [&](std::string_view part) { streamed += part; });
  CHECK(json::parse(streamed) == keyward::protocol::report_to_json(r, id));
  r.findings.clear();
  streamed.clear();
  keyward::protocol::write_report_json(r, id, [&](std::string_view part) { streamed += part; });
  CHECK(json::parse(streamed) == keyward::protocol::report_to_json(r, id));
  REQUIRE(parse_report(streamed).has_value());
}

TEST_CASE("a report over the findings cap is refused while it is parsed, before the rest of the body is read") {
  json doc = keyward::protocol::report_to_json(sample_result(), keyward::protocol::new_report_id());
  json one = doc["findings"][0];
  doc["findings"] = json::array();
  for (int i = 0; i < 5; ++i) {
    one["id"] = "f" + std::to_string(i);
    doc["findings"].push_back(one);
  }
  doc["scan"]["findings"] = json::array({1, 2, 3, 4, 5, 6});  // not the report's findings
  const std::string body = doc.dump();
  CHECK(parse_report(body, 5).has_value());
  CHECK(parse_report(body, 4).error().code == "too_many_findings");
  CHECK(parse_report(body, 4).error().message.find("4") != std::string::npos);
  // Elements of any type count, and the cap stops the parser: the broken tail is never read.
  const std::string head = body.substr(0, body.find("\"findings\":[") + 12);
  CHECK(parse_report(head + "1,2,3,{\"x\":[1]},[],5,6,oops", 5).error().code == "too_many_findings");
  CHECK(parse_report(head + "1,2,3,oops", 5).error().code == "malformed_json");
  CHECK(parse_report(head + "1,2,3,{\"x\":[1]},[],5,6,oops").error().code == "malformed_json");
}

TEST_CASE("a report's names are bounded and hold no control characters") {
  const json doc = keyward::protocol::report_to_json(sample_result(), keyward::protocol::new_report_id());
  auto code_with = [&](const json::json_pointer& at, const json& value) {
    json j = doc;
    j[at] = value;
    auto r = parse_report(j.dump());
    return r ? std::string("ok") : r.error().code;
  };
  CHECK(code_with("/host/hostname"_json_pointer, "build-2") == "ok");
  CHECK(code_with("/host/hostname"_json_pointer, "build\n2") == "bad_field");
  CHECK(code_with("/host/hostname"_json_pointer, std::string(254, 'h')) == "bad_field");
  CHECK(code_with("/host/os"_json_pointer, std::string(257, 'o')) == "bad_field");
  CHECK(code_with("/host/os"_json_pointer, "linux\x1b]0;x\x07") == "bad_field");
  CHECK(code_with("/tool/version"_json_pointer, std::string(129, 'v')) == "bad_field");
  CHECK(code_with("/scan/id"_json_pointer, "s\xc2\x9b") == "bad_field");  // CSI as a C1 control
  CHECK(code_with("/scan/roots"_json_pointer, json::array({std::string(4097, 'r')})) == "bad_field");
  CHECK(code_with("/scan/roots"_json_pointer, json(std::vector<std::string>(4097, "/r"))) == "bad_field");
  json skipped = json::object();
  for (int i = 0; i < 257; ++i) skipped["r" + std::to_string(i)] = 1;
  CHECK(code_with("/scan/stats/skipped"_json_pointer, skipped) == "bad_field");
  CHECK(code_with("/scan/stats/skipped"_json_pointer, json{{"bad\nreason", 1}}) == "bad_field");
}

TEST_CASE("an enrollment request's host name and os are bounded and hold no control characters") {
  using keyward::protocol::parse_enroll_request;
  auto code_of = [](const std::string& hostname, const std::string& os) {
    auto r = parse_enroll_request(json{{"csr", "x"}, {"hostname", hostname}, {"os", os}}.dump());
    return r ? std::string("ok") : r.error().code;
  };
  CHECK(code_of(std::string(253, 'h'), std::string(256, 'o')) == "ok");
  CHECK(code_of(std::string(254, 'h'), "linux") == "bad_field");
  CHECK(code_of("h", std::string(5u << 20, 'o')) == "bad_field");
  CHECK(code_of("", "linux") == "bad_field");
  CHECK(code_of("web\x1b[1A", "linux") == "bad_field");
  CHECK(code_of("web", "linux\tgnu") == "bad_field");
  CHECK(code_of("web-ü", "linux") == "ok");  // UTF-8 is not a control
}
