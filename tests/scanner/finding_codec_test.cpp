// SPDX-License-Identifier: Apache-2.0
#include "finding_codec.hpp"
#include "support/full_finding.hpp"

#include <keyward/scanner/finding_json.hpp>

#include <doctest/doctest.h>

using namespace keyward::scanner;
using namespace keyward::scanner::detail;

namespace {

void check_same(const Finding& a, const Finding& b) {
  const auto replace = nlohmann::json::error_handler_t::replace;
  CHECK(to_json(a).dump(-1, ' ', false, replace) == to_json(b).dump(-1, ' ', false, replace));
  CHECK(a.identity == b.identity);
  CHECK(a.relative_path == b.relative_path);
}

}  // namespace

TEST_CASE("the cache codec gives back every field of a finding") {
  const Finding full = keyward::test::full_finding();
  const Finding minimal;
  std::string bytes;
  encode_finding(full, bytes);
  encode_finding(minimal, bytes);
  std::string_view in = bytes;
  Finding a, b;
  REQUIRE(decode_finding(in, a));
  REQUIRE(decode_finding(in, b));
  CHECK(in.empty());
  check_same(a, full);
  check_same(b, minimal);
  CHECK(a.paired_with == full.paired_with);
  CHECK(a.key->protection->kdf_iterations == 600000u);
  CHECK(a.certificate->not_before == -86400);
  CHECK(a.risk->factors.at(1).points == -5);
  // Bytes the JSON text would replace, compared as bytes.
  CHECK(a.entries.at(0).alias == full.entries.at(0).alias);
  CHECK(a.entries.at(0).certificate->subject == full.entries.at(0).certificate->subject);
  CHECK(a.location.member == full.location.member);
}

TEST_CASE("the cache codec refuses every cut, a bad enum and a count beyond the input") {
  std::string bytes;
  encode_finding(keyward::test::full_finding(), bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::string_view cut(bytes.data(), n);
    Finding f;
    CHECK_FALSE(decode_finding(cut, f));
  }
  // The kind, right after two strings (id, rule): one byte each for their lengths here.
  Finding f;
  f.id = "a";
  f.rule = "b";
  std::string small;
  encode_finding(f, small);
  REQUIRE(small.at(4) == static_cast<char>(Kind::private_key));
  small[4] = 0x7f;
  std::string_view in = small;
  CHECK_FALSE(decode_finding(in, f));
  // A string length of 2^62 in ten bytes of input.
  std::string huge;
  put_uint(huge, 1ull << 62);
  huge += "xx";
  std::string_view h = huge;
  std::string s;
  CHECK_FALSE(get_string(h, s));
}
