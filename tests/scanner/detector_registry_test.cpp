// SPDX-License-Identifier: Apache-2.0
// The detector registry is the only place a format has to be added: a made-up test format
// (keyward_test_detector.hpp) registered with one line is found by a whole scan, by the
// prefilter and by the binary sniff, and the built-in list is consistent with tests/fuzz/.
// The caches of a scan belong to that scan, or to the ScanMemo its caller keeps.
#include "keyward_test_detector.hpp"
#include "support/faulty_detector.hpp"

#include "detectors/binary.hpp"
#include "detectors/detector.hpp"
#include "detectors/memo.hpp"
#include "support/keygen.hpp"
#include "support/python_check.hpp"
#include "support/temp_tree.hpp"

#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_memo.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <vector>

using namespace keyward::scanner;
namespace d = keyward::scanner::detail;
namespace t = keyward::test;

namespace {

// The built-in list plus the test format.
std::vector<d::Detector> with_test_detector() {
  std::vector<d::Detector> list(d::builtin_detectors().begin(), d::builtin_detectors().end());
  list.push_back(t::kKeywardTestDetector);  // the one line a new format needs
  return list;
}

std::string test_block() { return std::string(t::kTestKeyBegin) + "\nAAAA\n" + std::string(t::kTestKeyEnd) + "\n"; }

std::string test_binary() { return std::string(t::kTestKeyMagic) + std::string(64, '\x5a'); }

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<const Finding*> with_rule(const ScanResult& r, std::string_view rule) {
  std::vector<const Finding*> out;
  for (const auto& f : r.findings)
    if (f.rule == rule) out.push_back(&f);
  return out;
}

// The source tree this suite was built from.
std::filesystem::path source_tree() { return t::source_dir(); }

ScanResult scan_tree(const t::TempTree& tree, const d::DetectorRegistry* registry, ScanMemo* memo = nullptr) {
  ScanOptions o;
  o.roots = {tree.path()};
  o.threads = 2;
  o.detectors = registry;
  o.memo = memo;
  return scan(o);
}

}  // namespace

TEST_CASE("a test detector registered with one line is found by a whole scan, text and binary") {
  const d::DetectorRegistry registry(with_test_detector());
  t::TempTree tree;
  tree.write("notes/readme.txt", "line one\nline two\n" + test_block());
  tree.write("blobs/key.kwt", test_binary());
  tree.write("deploy/server.key", t::pkcs8_pem(t::ec_p256()), 0600);

  const ScanResult r = scan_tree(tree, &registry);
  const auto found = with_rule(r, t::kTestKeyRule);
  REQUIRE(found.size() == 2);
  const Finding* text = found[0]->location.path.ends_with("readme.txt") ? found[0] : found[1];
  const Finding* binary = text == found[0] ? found[1] : found[0];
  CHECK(text->location.path.ends_with("notes/readme.txt"));
  CHECK(text->location.line == 3);
  CHECK(text->identity.starts_with("blob:"));
  CHECK(binary->location.path.ends_with("blobs/key.kwt"));
  CHECK(binary->location.offset == 0);
  // The built-in formats are still there, and nothing was counted as a rejected block.
  CHECK(with_rule(r, "private-key/pkcs8").size() == 1);
  CHECK(r.stats.rejected.empty());

  // Without the entry, the same tree holds no test key.
  const ScanResult builtin = scan_tree(tree, nullptr);
  CHECK(with_rule(builtin, t::kTestKeyRule).empty());
  CHECK(with_rule(builtin, "private-key/pkcs8").size() == 1);
}

TEST_CASE("the prefilter of a registry with the test detector finds its anchor, the built-in one does not") {
  const auto list = with_test_detector();
  const d::DetectorRegistry registry(list);
  const std::string text = "prefix\n" + test_block();
  const std::size_t at = text.find(t::kTestKeyBegin);
  const auto index = static_cast<std::uint32_t>(list.size() - 1);

  std::vector<d::AnchorHit> hits;
  registry.prefilter().find(text, hits);
  auto is_test = [&](const d::AnchorHit& h) { return h.detector == index && h.at == at; };
  CHECK(std::count_if(hits.begin(), hits.end(), is_test) == 1);
  // Its BEGIN line also starts with the PEM anchor: both detectors see the same offset.
  CHECK(std::any_of(hits.begin(), hits.end(), [&](const d::AnchorHit& h) {
    return registry.detectors()[h.detector].name == "pem" && h.at == at;
  }));
  // A window that owns the anchor finds it; one that starts after it does not.
  registry.prefilter().find_in(text, 0, at + 1, hits);
  CHECK(std::count_if(hits.begin(), hits.end(), is_test) == 1);
  registry.prefilter().find_in(text, at + 1, text.size(), hits);
  CHECK(std::none_of(hits.begin(), hits.end(), is_test));

  d::builtin_registry().prefilter().find(text, hits);
  REQUIRE(hits.size() == 1);  // the PEM anchor only ("-----END" is none)
  CHECK(d::builtin_registry().detectors()[hits[0].detector].name == "pem");
}

TEST_CASE("the binary sniff of a registry with the test detector announces its magic, the built-in one does not") {
  const d::DetectorRegistry registry(with_test_detector());
  const std::string blob = test_binary();
  const d::Detector* found = registry.sniff(bytes(blob), blob.size());
  REQUIRE(found != nullptr);
  CHECK(found->name == "keyward-test");
  CHECK(registry.sniff(bytes(blob), blob.size(), nullptr, found) == nullptr);
  CHECK(d::builtin_registry().sniff(bytes(blob), blob.size()) == nullptr);
  CHECK(d::sniff_binary(bytes(blob)).empty());
  // The built-in heads still come first: a JKS magic is a JKS store in either registry.
  const std::string jks = std::string("\xFE\xED\xFE\xED", 4) + std::string(16, '\0');
  CHECK(registry.sniff(bytes(jks), jks.size())->name == "jks");
}

TEST_CASE("a registry refuses an entry whose anchors or head have no parser") {
  d::Detector no_text = t::kKeywardTestDetector;
  no_text.text = nullptr;
  CHECK_THROWS_AS(d::DetectorRegistry(std::span(&no_text, 1)), std::invalid_argument);
  d::Detector no_binary = t::kKeywardTestDetector;
  no_binary.binary = nullptr;
  CHECK_THROWS_AS(d::DetectorRegistry(std::span(&no_binary, 1)), std::invalid_argument);
  // An empty registry finds nothing, and says so without a vectorscan database.
  const d::DetectorRegistry empty(std::span<const d::Detector>{});
  std::vector<d::AnchorHit> hits;
  empty.prefilter().find(test_block(), hits);
  CHECK(hits.empty());
}

TEST_CASE("every built-in detector has a unique name, a way in, a rule id and a fuzzer in tests/fuzz") {
  const std::filesystem::path fuzz = source_tree() / "tests" / "fuzz";
  REQUIRE_MESSAGE(std::filesystem::is_regular_file(fuzz / "CMakeLists.txt"), fuzz.string());
  std::set<std::string_view> names;
  std::set<std::string_view> rules;
  for (const d::Detector& det : d::builtin_detectors()) {
    CAPTURE(det.name);
    CHECK(!det.name.empty());
    CHECK(names.insert(det.name).second);
    CHECK((!det.anchors.empty() || det.head != nullptr));
    CHECK(det.anchors.empty() == (det.text == nullptr));
    CHECK((det.head == nullptr) == (det.binary == nullptr));
    REQUIRE(!det.rules.empty());
    for (std::string_view rule : det.rules) {
      CHECK(rule.find('/') != std::string_view::npos);
      rules.insert(rule);
    }
    REQUIRE(!det.fuzzer.empty());
    CHECK_MESSAGE(std::filesystem::is_regular_file(fuzz / (std::string(det.fuzzer) + ".cpp")),
                  "tests/fuzz/" << det.fuzzer << ".cpp");
  }
  // Every rule the scanner's own code writes is declared by some entry.
  for (std::string_view rule : {"private-key/pkcs8", "certificate/x509", "keystore/pkcs12", "private-key/gpg-binary",
                                "keystore/zip-encrypted", "public-key/xml-rsa"})
    CHECK_MESSAGE(rules.count(rule) == 1, rule);
}

TEST_CASE("a scan's caches belong to the scan, or to the ScanMemo its caller keeps until it clears it") {
  t::TempTree tree;
  const std::string cert = t::certificate_pem(t::ec_p256(), t::rsa_2048(), "Memo", "serverAuth");
  tree.write("a/ca.crt", cert);
  tree.write("b/ca.crt", cert);  // the same certificate twice: decoded once

  ScanMemo memo;
  const ScanResult first = scan_tree(tree, nullptr, &memo);
  CHECK(first.findings.size() == 2);
  CHECK(memo.memos().certificates.size() == 1);
  CHECK(memo.memos().owners.size() == 1);                    // both files belong to whoever runs the test
  const ScanResult again = scan_tree(tree, nullptr, &memo);  // answered from the kept memo
  CHECK(again.findings.size() == 2);
  CHECK(again.findings[0].certificate->sha256 == first.findings[0].certificate->sha256);
  memo.clear();
  CHECK(memo.memos().certificates.size() == 0);
  CHECK(memo.memos().owners.size() == 0);

  // A scan without one keeps its caches to itself: the caller's memo stays empty.
  CHECK(scan_tree(tree, nullptr).findings.size() == 2);
  CHECK(memo.memos().certificates.size() == 0);
}

TEST_CASE("a detector that throws on one file costs that file only: counted as an error, keys elsewhere found") {
  const auto list = t::with_faulty_detector();
  const d::DetectorRegistry registry(list);
  t::TempTree tree;
  tree.write("a/server.key", t::pkcs8_pem(t::ec_p256()), 0600);
  tree.write("b/broken.txt", "header\nKEYWARD-FAULT-BAD-ALLOC\n" + t::pkcs8_pem(t::rsa_2048()));
  tree.write("c/odd.txt", "KEYWARD-FAULT-RUNTIME\n");
  tree.write("d/deploy.pem", t::traditional_pem(t::rsa_2048()), 0600);

  for (unsigned threads : {1u, 2u}) {
    ScanOptions o;
    o.roots = {tree.path()};
    o.threads = threads;
    o.detectors = &registry;
    const ScanResult r = scan(o);
    CHECK(r.complete);
    CHECK(r.stats.errors == 2);
    REQUIRE(r.errors.size() == 2);
    std::set<std::string> failed;
    for (const auto& e : r.errors) failed.insert(std::filesystem::path(e.path).filename().string());
    CHECK(failed == std::set<std::string>{"broken.txt", "odd.txt"});
    for (const auto& e : r.errors) CHECK(e.what.find("a detector failed while parsing") == std::string::npos);
    std::set<std::string> found;
    for (const auto& f : r.findings) found.insert(std::filesystem::path(f.location.path).filename().string());
    CHECK(found == std::set<std::string>{"server.key", "deploy.pem"});  // a failed file's partial findings are dropped
  }
}
