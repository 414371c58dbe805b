// SPDX-License-Identifier: Apache-2.0
// keyward::common: hex, SHA-256, base64 and UTF-8 against published vectors and malformed input.
#include <doctest/doctest.h>

#include <keyward/common/base64.hpp>
#include <keyward/common/hex.hpp>
#include <keyward/common/random.hpp>
#include <keyward/common/terminal.hpp>
#include <keyward/common/utf8.hpp>

#include <set>
#include <string>
#include <vector>

using namespace keyward::common;

namespace {

std::string as_string(const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); }

}  // namespace

TEST_CASE("hex writes two lowercase digits a byte, uppercase when asked") {
  const std::vector<std::uint8_t> bytes{0x00, 0x0f, 0xa5, 0xff};
  CHECK(to_hex(bytes) == "000fa5ff");
  CHECK(to_hex(bytes, true) == "000FA5FF");
  CHECK(to_hex(std::string_view("\x01\xfe", 2)) == "01fe");
  CHECK(to_hex(std::string_view()).empty());
}

TEST_CASE("SHA-256 of abc and of nothing are the FIPS 180-2 values") {
  CHECK(sha256_hex(std::string_view("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex(std::string_view()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string raw = sha256_raw(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("abc"), 3));
  CHECK(raw.size() == 32);
  CHECK(to_hex(raw) == sha256_hex(std::string_view("abc")));
}

TEST_CASE("base64 encodes and decodes the RFC 4648 section 10 vectors") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CAPTURE(plain);
    CHECK(base64_encode(std::string_view(plain)) == encoded);
    const auto back = base64_decode(encoded);
    REQUIRE(back);
    CHECK(as_string(*back) == plain);
  }
  CHECK(base64_encode(std::string_view("fo"), false) == "Zm8");
}

TEST_CASE("base64url uses - and _ and leaves padding out unless asked") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(base64_encode(std::string_view(bytes)) == "+/+/");
  CHECK(base64url_encode(std::string_view(bytes)) == "-_-_");
  CHECK(base64url_encode(std::string_view("\xfb\xff", 2)) == "-_8");
  CHECK(base64url_encode(std::string_view("\xfb\xff", 2), true) == "-_8=");
  const auto back = base64url_decode("-_8");
  REQUIRE(back);
  CHECK(as_string(*back) == "\xfb\xff");
  CHECK_FALSE(base64url_decode("+/8="));  // the standard alphabet is not base64url
  CHECK_FALSE(base64_decode("-_8="));
}

TEST_CASE("base64 decoding skips whitespace and refuses what is not base64") {
  const auto wrapped = base64_decode("Zm9v\r\nYmFy\n");
  REQUIRE(wrapped);
  CHECK(as_string(*wrapped) == "foobar");
  const auto unpadded = base64_decode("Zm9vYg");
  REQUIRE(unpadded);
  CHECK(as_string(*unpadded) == "foob");
  CHECK_FALSE(base64_decode("Zm9v!"));     // not in the alphabet
  CHECK_FALSE(base64_decode("Zg==Zg=="));  // data after padding
  CHECK_FALSE(base64_decode("Z"));         // one character cannot be a byte
  CHECK_FALSE(base64_decode("Zg==="));     // too much padding
  CHECK_FALSE(base64_decode("Zm8=="));     // padding that does not fit the length
}

TEST_CASE("base64 round-trips every byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    const auto std_back = base64_decode(base64_encode(std::string_view(part)));
    const auto url_back = base64url_decode(base64url_encode(std::string_view(part)));
    REQUIRE(std_back);
    REQUIRE(url_back);
    CHECK(as_string(*std_back) == part);
    CHECK(as_string(*url_back) == part);
  }
}

TEST_CASE("the UTF-8 decoder returns the length and code point of well-formed sequences") {
  char32_t cp = 0;
  CHECK(utf8_sequence("A", 0, cp) == 1);
  CHECK(cp == U'A');
  CHECK(utf8_sequence("\xC3\xA9", 0, cp) == 2);  // U+00E9
  CHECK(cp == 0xE9);
  CHECK(utf8_sequence("\xE2\x82\xAC", 0, cp) == 3);  // U+20AC
  CHECK(cp == 0x20AC);
  CHECK(utf8_sequence("\xF0\x9F\x94\x91", 0, cp) == 4);  // U+1F511
  CHECK(cp == 0x1F511);
  CHECK(utf8_sequence("x\xF4\x8F\xBF\xBF", 1) == 4);  // U+10FFFF, the last code point
  CHECK(utf8_sequence("", 0) == 0);
}

TEST_CASE("the UTF-8 decoder refuses overlong forms, surrogates, truncation and stray bytes") {
  CHECK(utf8_sequence("\xC0\xAF", 0) == 0);          // overlong '/'
  CHECK(utf8_sequence("\xC1\xBF", 0) == 0);          // overlong
  CHECK(utf8_sequence("\xE0\x80\xAF", 0) == 0);      // overlong, three bytes
  CHECK(utf8_sequence("\xF0\x80\x80\xAF", 0) == 0);  // overlong, four bytes
  CHECK(utf8_sequence("\xED\xA0\x80", 0) == 0);      // U+D800, a surrogate
  CHECK(utf8_sequence("\xED\xBF\xBF", 0) == 0);      // U+DFFF
  CHECK(utf8_sequence("\xF4\x90\x80\x80", 0) == 0);  // above U+10FFFF
  CHECK(utf8_sequence("\xE2\x82", 0) == 0);          // truncated
  CHECK(utf8_sequence("\x80", 0) == 0);              // a continuation byte alone
  CHECK(utf8_sequence("\xC3\x41", 0) == 0);          // a lead byte without its continuation
  CHECK(utf8_sequence("\xFF", 0) == 0);
}

TEST_CASE("valid UTF-8 is well-formed throughout and the loose check lets overlong forms and surrogates by") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ASCII"));
  CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91"));
  CHECK_FALSE(valid_utf8("caf\xC3"));         // truncated at the end
  CHECK_FALSE(valid_utf8("a\xED\xA0\x80z"));  // surrogate
  CHECK_FALSE(valid_utf8("a\xE0\x80\xAFz"));  // overlong
  CHECK_FALSE(valid_utf8(std::string_view("\xFE", 1)));
  CHECK(loose_utf8("caf\xC3\xA9"));
  CHECK(loose_utf8("a\xED\xA0\x80z"));    // surrogate: the serializer replaces it
  CHECK(loose_utf8("a\xE0\x80\xAFz"));    // overlong three-byte form
  CHECK_FALSE(loose_utf8("a\xC0\xAFz"));  // C0/C1 are never lead bytes
  CHECK_FALSE(loose_utf8("caf\xC3"));     // truncated
  CHECK_FALSE(loose_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(loose_utf8("\x80"));
}

TEST_CASE("random ids are hex of the asked length and differ from call to call") {
  const std::string id = random_hex(16);
  CHECK(id.size() == 32);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) seen.insert(random_hex(8));
  CHECK(seen.size() == 64);
  CHECK(random_hex(0).empty());
}

TEST_CASE("terminal_safe escapes C0, DEL and C1 controls and keeps other UTF-8 as it is") {
  using keyward::common::terminal_safe;
  CHECK(terminal_safe("plain/path é.pem") == "plain/path é.pem");
  CHECK(terminal_safe("a\x1b[2J\nb\x7f") == "a\\x1b[2J\\x0ab\\x7f");
  CHECK(terminal_safe("\xc2\x9b"
                      "31m\xc2\xa0") == "\\u009b31m\xc2\xa0");  // CSI escaped, NBSP kept
  CHECK(terminal_safe(std::string("\0x", 2)) == "\\x00x");
}

TEST_CASE("has_control_characters finds exactly what terminal_safe would escape") {
  using keyward::common::has_control_characters;
  using keyward::common::terminal_safe;
  for (const std::string& s : std::vector<std::string>{"alice", "Zoë Müller", "a\tb", "line\n", "x\x7f", "\xc2\x9b",
                                                       "nbsp\xc2\xa0", std::string("\0", 1), ""})
    CHECK(has_control_characters(s) == (terminal_safe(s) != s));
  CHECK(has_control_characters("a\x1b[2J"));
  CHECK_FALSE(has_control_characters("release key, moving to HSM"));
}
