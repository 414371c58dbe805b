// SPDX-License-Identifier: Apache-2.0
#include "file_scan.hpp"
#include "detectors/binary.hpp"
#include "encoding.hpp"
#include "support/keygen.hpp"
#include "support/temp_tree.hpp"

#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>

#include <doctest/doctest.h>

#include <openssl/core_names.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <span>

using namespace keyward::scanner;
namespace d = keyward::scanner::detail;
namespace t = keyward::test;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Lines of lowercase words: no anchor of any detector can appear in it.
std::string junk(std::size_t size, std::uint32_t seed = 7) {
  std::string s(size, ' ');
  std::uint32_t x = seed;
  std::size_t line = 0;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    const std::uint32_t r = x >> 24;
    if (line > 40 && r < 6) {
      s[i] = '\n';
      line = 0;
      continue;
    }
    s[i] = r < 40 ? ' ' : static_cast<char>('a' + r % 26);
    ++line;
  }
  return s;
}

// Writes `block` over `content` at `at`, on lines of its own.
void place(std::string& content, std::size_t at, const std::string& block) {
  REQUIRE(at > 0);
  REQUIRE(at + block.size() <= content.size());
  content[at - 1] = '\n';
  content.replace(at, block.size(), block);
  if (at + block.size() < content.size()) content[at + block.size()] = '\n';
}

std::string base64url(const std::vector<std::uint8_t>& bytes) {
  std::string s = d::base64_encode(std::span<const std::uint8_t>(bytes.data(), bytes.size()), false);
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

std::vector<std::uint8_t> bn(const t::Pkey& k, const char* name) {
  BIGNUM* b = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(k.get(), name, &b) == 1);
  std::vector<std::uint8_t> out(32);
  BN_bn2binpad(b, out.data(), 32);
  BN_free(b);
  return out;
}

// The members of a private P-256 JWK, without braces.
std::string jwk_members(const t::Pkey& k) {
  return R"("kty":"EC","crv":"P-256","x":")" + base64url(bn(k, OSSL_PKEY_PARAM_EC_PUB_X)) + R"(","y":")" +
         base64url(bn(k, OSSL_PKEY_PARAM_EC_PUB_Y)) + R"(","d":")" + base64url(bn(k, OSSL_PKEY_PARAM_PRIV_KEY)) +
         R"(")";
}

struct Scanned {
  std::vector<Finding> findings;
  ScanStats stats;
  d::FileScanOutcome outcome;
};

// The file as a worker scans it (windows for a large text file).
Scanned by_file(const std::string& path, const ScanOptions& o = {}, const std::function<bool()>& keep_going = {}) {
  Scanned s;
  d::ReadBuffer buffer;
  s.outcome = d::scan_file(path, "big.txt", o, buffer, s.findings, s.stats, {}, keep_going);
  return s;
}

// The same bytes through scan_buffer: one whole buffer.
Scanned by_buffer(const std::string& path, const std::string& content, const ScanOptions& o = {}) {
  Scanned s;
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  FileFacts facts;
  facts.mode = st.st_mode & 07777;
  facts.uid = st.st_uid;
  facts.gid = st.st_gid;
  facts.size = static_cast<std::uint64_t>(st.st_size);
  facts.mtime = st.st_mtim.tv_sec;
  scan_buffer(content, path, "big.txt", facts, o, s.findings, s.stats);
  return s;
}

void check_same(const Scanned& windowed, const Scanned& whole) {
  REQUIRE(windowed.findings.size() == whole.findings.size());
  for (std::size_t i = 0; i < whole.findings.size(); ++i)
    CHECK(to_json(windowed.findings[i]).dump() == to_json(whole.findings[i]).dump());
  CHECK(windowed.stats.files_scanned == whole.stats.files_scanned);
  CHECK(windowed.stats.bytes_scanned == whole.stats.bytes_scanned);
  CHECK(windowed.stats.rejected == whole.stats.rejected);
  CHECK(windowed.stats.trust_store_certificates == whole.stats.trust_store_certificates);
}

std::uint64_t line_of(const std::string& content, std::size_t at) {
  const auto end = content.begin() + static_cast<std::ptrdiff_t>(at);
  return 1 + static_cast<std::uint64_t>(std::count(content.begin(), end, '\n'));
}

// Where window k's own part ends (file_source.hpp: each window owns what lies between the
// lookbehind it shares with the window before and the lookahead it shares with the next).
std::size_t own_end(std::size_t k) {
  const auto& l = d::kWindowLayout;
  return l.size - l.lookahead + k * (l.size - l.lookahead - l.lookbehind);
}

}  // namespace

TEST_CASE("a large text file read in windows gives each key once, with the offset and line of a whole read") {
  const std::size_t b = d::kWindowLayout.lookbehind;
  const std::string ec = t::pkcs8_pem(t::ec_p256());
  const std::string rsa = t::traditional_pem(t::rsa_2048());
  const std::string rsa8 = t::pkcs8_pem(t::rsa_2048());
  const std::string ed = t::pkcs8_pem(t::ed25519());
  const std::string cert = t::certificate_pem(t::ec_p256(), t::rsa_2048(), "Windowed", "serverAuth");
  const auto jwk_key = t::generate("EC", "P-256");
  const std::string jwk_padded = R"({"note":")" + std::string(200, 'p') + R"(",)" + jwk_members(jwk_key) + "}";
  // A JWK holding another: a whole read takes the outer one and skips the "kty" inside it.
  const std::string jwk_nested = "{" + jwk_members(t::ec_p256()) + R"(,"pad":")" + std::string(2000, 'q') +
                                 R"(","backup":{)" + jwk_members(jwk_key) + "}}";
  std::string cert_tail = cert;
  cert_tail.pop_back();  // the file ends with the END line, no newline

  std::string content = junk(20 * kMiB);
  struct Placed {
    std::size_t at;
    Kind kind;
    const char* where;
  };
  const std::vector<Placed> placed = {
      {1 * kMiB, Kind::private_key, "well inside the first window"},
      {own_end(0) - b / 2, Kind::certificate, "in the overlap, owned by the first window"},
      {own_end(0) - 200, Kind::private_key, "straddling the first window's own part"},
      {own_end(0) + kMiB, Kind::certificate, "in the overlap, owned by the second window"},
      {own_end(1) - 5, Kind::private_key, "its anchor straddling an own boundary"},
      {own_end(1) + 100 * 1024, Kind::private_key, "the same key again (second ordinal)"},
      {d::kWindowLayout.size - 700, Kind::private_key, "straddling the first window's last byte"},
      {own_end(2), Kind::private_key, "at the first byte of a window's own part"},
      {own_end(3) - 50, Kind::private_key, "a JWK whose '{' lies before the boundary and \"kty\" after"},
      {own_end(4) - 100, Kind::private_key, "a JWK holding a JWK across a boundary"},
      {content.size() - cert_tail.size(), Kind::certificate, "in the last bytes of the file"},
  };
  const std::vector<const std::string*> blocks = {&ec,  &cert, &rsa8,       &cert,       &ed,       &ec,
                                                  &rsa, &ed,   &jwk_padded, &jwk_nested, &cert_tail};
  for (std::size_t i = 0; i < placed.size(); ++i) {
    if (i > 0) REQUIRE(placed[i - 1].at + blocks[i - 1]->size() < placed[i].at);
    place(content, placed[i].at, *blocks[i]);
  }
  REQUIRE(content.find(R"("kty")", placed[8].at) > own_end(3));
  REQUIRE(content.find(R"("kty")", placed[9].at) < own_end(4));
  REQUIRE(content.rfind(R"("kty")") > own_end(4));

  t::TempTree tree;
  const std::string path = tree.write("big.txt", content);
  const Scanned windowed = by_file(path);
  CHECK(windowed.outcome.status == d::ReadStatus::ok);
  CHECK(windowed.outcome.windows >= 6);
  CHECK_FALSE(windowed.outcome.changed);
  CHECK(windowed.outcome.bytes == content.size());

  for (const auto& p : placed) {
    INFO(p.where);
    const auto n = std::count_if(windowed.findings.begin(), windowed.findings.end(),
                                 [&](const Finding& f) { return f.location.offset == p.at; });
    CHECK(n == 1);
    for (const auto& f : windowed.findings) {
      if (f.location.offset != p.at) continue;
      CHECK(f.kind == p.kind);
      CHECK(f.location.line == line_of(content, p.at));
    }
  }
  CHECK(windowed.findings.size() == placed.size());
  check_same(windowed, by_buffer(path, content));
}

TEST_CASE("root certificates spread over a large file's windows still make it a trust bundle") {
  std::string content = junk(10 * kMiB, 11);
  for (int i = 0; i < 6; ++i) {
    auto k = t::generate("EC", "P-256");
    place(content, static_cast<std::size_t>(i) * 3 * kMiB / 2 + 4096,
          t::certificate_pem(k, k, ("Root " + std::to_string(i)).c_str(), nullptr, -1, 3650, true));
  }
  t::TempTree tree;
  const std::string path = tree.write("big.txt", content);
  const Scanned windowed = by_file(path);
  REQUIRE(windowed.outcome.windows > 1);
  REQUIRE(windowed.findings.size() == 6);
  for (const auto& f : windowed.findings) CHECK(f.certificate->trust_store);
  CHECK(windowed.stats.trust_store_certificates == 6);
  check_same(windowed, by_buffer(path, content));
}

TEST_CASE("a large file that changes while it is read in windows is scanned as read and counted as changed") {
  std::string content = junk(12 * kMiB, 3);
  const std::string key = t::pkcs8_pem(t::ec_p256());
  place(content, 100, key);
  place(content, 11 * kMiB, key);
  t::TempTree tree;
  const std::string path = tree.write("big.txt", content);
  bool appended = false;
  const Scanned s = by_file(path, {}, [&] {
    if (!appended) std::ofstream(path, std::ios::app) << "more text\n";
    appended = true;
    return true;
  });
  CHECK(appended);
  CHECK(s.outcome.status == d::ReadStatus::ok);
  CHECK(s.outcome.changed);
  CHECK(s.stats.skipped.at("changed_during_scan") == 1);
  CHECK(s.outcome.bytes == content.size());
  CHECK(s.findings.size() == 2);
}

TEST_CASE("a windowed read stops between windows when cancelled and keeps what it found") {
  std::string content = junk(12 * kMiB, 5);
  const std::string key = t::pkcs8_pem(t::ec_p256());
  place(content, 100, key);
  place(content, 11 * kMiB, key);
  t::TempTree tree;
  const Scanned s = by_file(tree.write("big.txt", content), {}, [] { return false; });
  CHECK(s.outcome.status == d::ReadStatus::ok);
  CHECK_FALSE(s.outcome.complete);
  CHECK(s.outcome.windows == 1);
  REQUIRE(s.findings.size() == 1);
  CHECK(s.findings[0].location.offset == 100);
}

TEST_CASE("a large file whose head announces an archive is read whole, unless archives are off") {
  std::string content = "\x1f\x8b" + junk(9 * kMiB, 9);
  place(content, 5 * kMiB, t::pkcs8_pem(t::ec_p256()));
  t::TempTree tree;
  const std::string path = tree.write("big.txt", content);
  ScanOptions archives;
  const Scanned whole = by_file(path, archives);
  CHECK(whole.outcome.windows == 0);
  check_same(whole, by_buffer(path, content, archives));
  ScanOptions no_archives;
  no_archives.archives = false;
  const Scanned windowed = by_file(path, no_archives);
  CHECK(windowed.outcome.windows > 1);
  REQUIRE(windowed.findings.size() == 1);
  CHECK(windowed.findings[0].location.offset == 5 * kMiB);
  check_same(windowed, by_buffer(path, content, no_archives));
}

TEST_CASE("windows tile the file: each byte is owned once, and a window holds what the file holds there") {
  const std::string content = junk(3 * kMiB + 12345, 13);
  t::TempTree tree;
  const std::string path = tree.write("tiles.txt", content);
  d::SourceFile file;
  FileFacts facts;
  int err = 0;
  REQUIRE(file.open(path, 1ull << 30, facts, err) == d::ReadStatus::ok);
  const d::WindowLayout layout{256 * 1024, 16 * 1024, 64 * 1024};
  d::ReadBuffer buffer;
  bool changed = false;
  std::uint64_t owned_to = 0;
  std::size_t windows = 0;
  const auto st = d::read_windows(file, layout, buffer, changed, err, [&](const d::Window& w) {
    ++windows;
    CHECK(w.data.size() <= layout.size);
    CHECK(w.offset + w.own_begin == owned_to);
    CHECK(w.own_begin == (w.offset == 0 ? 0 : layout.lookbehind));
    CHECK(w.data == std::string_view(content).substr(w.offset, w.data.size()));
    owned_to = w.offset + w.own_end;
    return true;
  });
  CHECK(st == d::ReadStatus::ok);
  CHECK_FALSE(changed);
  CHECK(owned_to == content.size());
  const std::size_t step = layout.size - layout.lookahead - layout.lookbehind;
  CHECK(windows == 1 + (content.size() - layout.size + step - 1) / step);
}

TEST_CASE("a DER head is judged against the whole file's size") {
  std::vector<std::uint8_t> head(512, 0x41);
  head[0] = 0x30;
  head[1] = 0x83;  // three length bytes: 0xA00000 (10 MiB)
  head[2] = 0xA0;
  head[3] = 0x00;
  head[4] = 0x00;
  const std::uint64_t spans = 5 + 0xA00000;
  CHECK(d::sniff_binary(head, spans) == "der");
  CHECK(d::sniff_binary(head, spans + 1).empty());
  CHECK(d::sniff_binary(head).empty());
}
