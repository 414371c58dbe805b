// SPDX-License-Identifier: Apache-2.0
// Secrets wiped by type in the scanner (issue 12): the base64 text and decoded body of a key, on
// the early returns of the PEM and SSH.com parsers as on success; passwords read from the files
// next to a store; and the read buffer of a file that held a key. The parsers' SecretBytes are
// watched through std::pmr's default resource (tests/support/watching_resource.hpp): a buffer of
// the body's size must come back to it, and every block must come back zero.
#include "detectors/parsers.hpp"
#include "detectors/pem.hpp"
#include "encoding.hpp"
#include "file_scan.hpp"
#include "nearby.hpp"
#include "support/keygen.hpp"
#include "support/temp_tree.hpp"
#include "support/watching_resource.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;
namespace t = keyward::test;

namespace {

// `n` bytes that are no DER object a key parser accepts (a SEQUENCE whose length overruns).
std::string not_der(std::size_t n) {
  std::string s(n, '\x5a');
  s[0] = '\x30';
  s[1] = '\x82';
  s[2] = '\x7f';
  s[3] = '\x7f';
  return s;
}

// base64 of `data` in lines of 64 characters, each ending in '\n'.
std::string wrapped_base64(std::string_view data) {
  const std::string b64 = base64_encode(data);
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out;
}

void put_u32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_string(std::string& s, std::string_view v) {
  put_u32(s, static_cast<std::uint32_t>(v.size()));
  s.append(v);
}

bool all_zero(const char* p, std::size_t n) {
  return std::all_of(p, p + n, [](char c) { return c == 0; });
}

}  // namespace

TEST_CASE(
    "a PEM private key whose body does not parse has its base64 text and decoded body wiped on the early return") {
  const std::string body = not_der(600);
  const std::string pem =
      "-----BEGIN RSA PRIVATE KEY-----\n" + wrapped_base64(body) + "-----END RSA PRIVATE KEY-----\n";
  t::WatchingResource heap;
  {
    const t::ScopedDefaultResource scope(&heap);
    const auto r = decode_pem(pem, 0);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() != make_error_code(Errc::unsupported));  // refused as a key, not skipped as unknown
  }
  CHECK(heap.all_wiped_with_one_of(body.size()));
}

TEST_CASE("a PEM private key that parses has its base64 text and decoded body wiped as well") {
  const std::string pem = t::pkcs8_pem(t::rsa_2048());
  t::WatchingResource heap;
  {
    const t::ScopedDefaultResource scope(&heap);
    const auto r = decode_pem(pem, 0);
    REQUIRE(r.has_value());
    CHECK(r->findings.size() == 1);
  }
  CHECK(heap.all_wiped_with_one_of(1000));  // an RSA-2048 PKCS#8 body is over 1,100 bytes
}

TEST_CASE("an SSH.com key cut by a line that is not base64 has the text read so far wiped") {
  const std::string text = "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n" + wrapped_base64(std::string(900, 'k')) +
                           "this*is*not*base64\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n";
  t::WatchingResource heap;
  {
    const t::ScopedDefaultResource scope(&heap);
    const auto r = parse_sshcom(text);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == make_error_code(Errc::bad_encoding));
  }
  CHECK(heap.all_wiped_with_one_of(1000));  // 900 bytes are 1,200 base64 characters
}

TEST_CASE("an SSH.com blob refused after decoding has its text and blob wiped") {
  std::string inner;
  put_string(inner, "if-modn{sign{nobody-knows}}");  // a key type we do not read: an early return
  put_string(inner, "none");
  put_string(inner, std::string(700, '\x11'));
  std::string blob;
  put_u32(blob, 0x3f6ff9eb);
  put_u32(blob, static_cast<std::uint32_t>(inner.size() + 8));
  blob += inner;
  const std::string text = "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n" + wrapped_base64(blob) +
                           "---- END SSH2 ENCRYPTED PRIVATE KEY ----\n";
  t::WatchingResource heap;
  {
    const t::ScopedDefaultResource scope(&heap);
    const auto r = parse_sshcom(text);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == make_error_code(Errc::unsupported));
  }
  CHECK(heap.all_wiped_with_one_of(blob.size()));
}

TEST_CASE("passwords read from the files next to a store are wiped with the file's bytes") {
  t::TempTree tree;
  tree.write("app/gradle.properties", "storePassword=nearby-s3cret\nkeyAlias=release\n");
  t::WatchingResource heap;
  {
    const t::ScopedDefaultResource scope(&heap);
    const auto found = nearby_passwords(tree.path("app/release.p12"));
    REQUIRE_FALSE(found.empty());
    CHECK(found[0].password.view() == "nearby-s3cret");
  }
  CHECK(heap.all_wiped_with_one_of(256 * 1024));  // the read buffer of the properties file
}

TEST_CASE("the read buffer of a file that held a private key is wiped and an ordinary file's is left as read") {
  t::TempTree tree;
  const std::string key = t::pkcs8_pem(t::ec_p256());
  const std::string key_file = tree.write("id.pem", "# deploy key\n" + key);
  const std::string plain = "just some configuration\nname = value\n";
  const std::string plain_file = tree.write("app.conf", plain);
  ScanOptions o;
  ReadBuffer buffer;
  std::vector<Finding> out;
  ScanStats stats;

  REQUIRE(scan_file(plain_file, "app.conf", o, buffer, out, stats).status == ReadStatus::ok);
  CHECK(out.empty());
  CHECK(buffer.view() == plain);  // the hot path: no pass over an ordinary file's bytes

  REQUIRE(scan_file(key_file, "id.pem", o, buffer, out, stats).status == ReadStatus::ok);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == Kind::private_key);
  REQUIRE(buffer.size() == key.size() + 13);
  CHECK(all_zero(buffer.data(), buffer.size()));
}

TEST_CASE("the window buffer of a large file that held a private key is wiped") {
  t::TempTree tree;
  const std::string key = t::pkcs8_pem(t::ec_p256());
  std::string big(kWindowThreshold + (1u << 20), '\n');
  big.replace(kWindowThreshold - 4096, key.size(), key);  // ends in the first window's shared tail
  const std::string file = tree.write("big.log", big);
  ScanOptions o;
  ReadBuffer buffer;
  std::vector<Finding> out;
  ScanStats stats;
  const auto r = scan_file(file, "big.log", o, buffer, out, stats);
  REQUIRE(r.status == ReadStatus::ok);
  REQUIRE(r.windows >= 2);
  REQUIRE(out.size() == 1);
  CHECK(all_zero(buffer.data(), kWindowLayout.size));  // the whole window, not only the last one's bytes
}
