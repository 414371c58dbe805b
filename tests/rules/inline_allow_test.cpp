// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/inline_allow.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/keygen.hpp>
#include <support/temp_tree.hpp>

using keyward::rules::inline_allowed;

namespace {

bool allowed(const std::string& comment_line, std::string& reason) {
  const std::string text =
      "first line\n" + comment_line + "\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  return inline_allowed(text, 3, reason);
}

}  // namespace

TEST_CASE("a keyward:allow comment on the line before a block allows it in any comment syntax") {
  struct Case {
    const char* line;
    const char* reason;
  };
  for (const Case& c :
       {Case{"# keyward:allow test fixture for the TLS tests", "test fixture for the TLS tests"},
        Case{"// keyward:allow: unit test key", "unit test key"},
        Case{"-- keyward:allow seeded test data", "seeded test data"}, Case{"; keyward:allow", ""},
        Case{"/* keyward:allow sample for docs */", "sample for docs"},
        Case{"<!-- keyward:allow demo key -->", "demo key"}, Case{"    ## keyward:allow indented", "indented"},
        Case{" * keyward:allow inside a block comment", "inside a block comment"},
        Case{"key = '''  # keyward:allow trailing comment", "trailing comment"}}) {
    CAPTURE(c.line);
    std::string reason = "stale";
    CHECK(allowed(c.line, reason));
    CHECK(reason == c.reason);
  }
}

TEST_CASE("keyward:allow outside a comment or in another word does not allow") {
  std::string reason;
  CHECK_FALSE(allowed("keyward:allow not in a comment", reason));
  CHECK_FALSE(allowed("# keyward:allowed is another word", reason));
  CHECK_FALSE(allowed("x=a#keyward:allow", reason));
  CHECK_FALSE(allowed("# some other comment", reason));
  CHECK_FALSE(allowed("", reason));
}

TEST_CASE("a comment within the 3 lines before the block counts, the nearest first, one further up does not") {
  std::string reason;
  const std::string block = "-----BEGIN PRIVATE KEY-----\n";
  CHECK(inline_allowed("# keyward:allow two up\n\n" + block, 3, reason) == 1);
  CHECK(reason == "two up");
  CHECK(inline_allowed("# keyward:allow three up\nKEY = (\n    '''\n" + block, 4, reason) == 1);
  CHECK_FALSE(inline_allowed("# keyward:allow four up\n\n\n\n" + block, 5, reason));
  CHECK(inline_allowed("# keyward:allow far\n# keyward:allow near\n" + block, 3, reason) == 2);
  CHECK(reason == "near");
  // A block that starts between the comment and this one takes the comment.
  CHECK_FALSE(inline_allowed("# keyward:allow\n" + block + block, 3, reason, 2));
  CHECK_FALSE(inline_allowed("-----BEGIN PRIVATE KEY-----\n", 1, reason));                 // no line before
  CHECK_FALSE(inline_allowed("# keyward:allow\n", 5, reason));                             // past the end
  CHECK(inline_allowed("# keyward:allow\r\n-----BEGIN PRIVATE KEY-----\r\n", 2, reason));  // CRLF
}

TEST_CASE("a scanned comment allows the first block within 3 lines after it, not the one after that") {
  using namespace keyward::test;
  TempTree tree;
  // The escaped keys sit on one line each: lines 3 and 4 are both within 3 lines of the comment.
  const auto escaped = [](const std::string& pem) {
    std::string out;
    for (char c : pem) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
  };
  tree.write("src/keys.py", "import ssl\n# keyward:allow the demo key\nA = \"" + escaped(pkcs8_pem(ec_p256())) +
                                "\"\nB = \"" + escaped(pkcs8_pem(rsa_2048())) + "\"\n");
  tree.write("src/gap.py",
             "# keyward:allow after a blank line and an opener\n\nKEY = '''" + pkcs8_pem(ec_p256()) + "'''\n");
  auto r = scan_tree(tree.path());
  REQUIRE(r.findings.size() == 3);
  CHECK(keyward::rules::apply_inline_allows(r) == 2);
  std::size_t in_keys = 0;
  for (const auto& f : r.findings)
    if (f.location.path.find("keys.py") != std::string::npos && f.suppressed) {
      ++in_keys;
      CHECK(f.location.line == 3);
    }
  CHECK(in_keys == 1);
  const auto* gap = find(r, "gap.py");
  REQUIRE(gap != nullptr);
  REQUIRE(gap->suppressed);
  CHECK(gap->suppressed->justification.find("gap.py:1: after a blank line") != std::string::npos);
}

TEST_CASE("inline allows mark scanned findings with the comment's place and reason") {
  using namespace keyward::test;
  TempTree tree;
  tree.write("src/app.py",
             "import ssl\n# keyward:allow throwaway key for the demo\nKEY = '''" + pkcs8_pem(ec_p256()) + "'''\n");
  tree.write("src/other.pem", "# a comment that allows nothing\n" + pkcs8_pem(rsa_2048()));
  auto r = scan_tree(tree.path());
  REQUIRE(r.findings.size() == 2);
  CHECK(keyward::rules::apply_inline_allows(r) == 1);
  const auto* app = find(r, "app.py");
  REQUIRE(app != nullptr);
  REQUIRE(app->suppressed);
  CHECK(app->suppressed->kind == "inline");
  CHECK(app->suppressed->justification.find("app.py:2: throwaway key for the demo") != std::string::npos);
  CHECK_FALSE(find(r, "other.pem")->suppressed);
}
