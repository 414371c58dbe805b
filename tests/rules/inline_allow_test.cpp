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

TEST_CASE("only the line just before the block counts") {
  std::string reason;
  const std::string text = "# keyward:allow two lines up\n\n-----BEGIN PRIVATE KEY-----\n";
  CHECK_FALSE(inline_allowed(text, 3, reason));
  CHECK_FALSE(inline_allowed("-----BEGIN PRIVATE KEY-----\n", 1, reason));                 // no line before
  CHECK_FALSE(inline_allowed("# keyward:allow\n", 5, reason));                             // past the end
  CHECK(inline_allowed("# keyward:allow\r\n-----BEGIN PRIVATE KEY-----\r\n", 2, reason));  // CRLF
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
