// SPDX-License-Identifier: Apache-2.0
// .NET RSA keys as XML (RSA.ToXmlString, <RSAKeyValue><Modulus>..</Modulus>...): the modulus and
// exponent build the key facts; <D>/<P> only say whether the private half is there (their
// content is never decoded).
#include "detectors/parsers.hpp"

#include "encoding.hpp"
#include "openssl/key_info.hpp"

namespace keyward::scanner::detail {
namespace {

constexpr std::string_view kOpen = "<RSAKeyValue>";
constexpr std::string_view kClose = "</RSAKeyValue>";
constexpr std::size_t kMaxBlock = 64 * 1024;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The content of <name>...</name> inside `body`; nullopt when the element is absent.
Result<std::optional<std::string_view>> element(std::string_view body, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  const std::size_t start = body.find(open);
  if (start == std::string_view::npos) return std::optional<std::string_view>();
  const std::size_t content = start + open.size();
  const std::size_t end = body.find(close, content);
  if (end == std::string_view::npos) return make_error_code(Errc::bad_structure);
  return std::optional<std::string_view>(body.substr(content, end - content));
}

bool blank(std::string_view s) {
  for (char c : s)
    if (!is_space(c)) return false;
  return true;
}

}  // namespace

Result<Parsed> parse_xml_rsa(std::string_view text) {
  if (!text.starts_with(kOpen)) {
    const bool cut = kOpen.starts_with(text);
    return make_error_code(cut ? Errc::truncated : Errc::bad_magic);
  }
  const std::string_view window = text.substr(0, kMaxBlock);
  const std::size_t close = window.find(kClose);
  if (close == std::string_view::npos)
    return make_error_code(text.size() > kMaxBlock ? Errc::too_large : Errc::truncated);
  const std::string_view body = text.substr(kOpen.size(), close - kOpen.size());

  auto modulus = element(body, "Modulus");
  if (!modulus) return modulus.error();
  auto exponent = element(body, "Exponent");
  if (!exponent) return exponent.error();
  if (!*modulus || !*exponent || blank(**modulus) || blank(**exponent)) return make_error_code(Errc::bad_structure);
  const auto n = base64_decode(**modulus);
  const auto e = base64_decode(**exponent);
  if (!n || !e) return make_error_code(Errc::bad_encoding);

  bool is_private = false;
  for (std::string_view name : {"D", "P"}) {
    auto part = element(body, name);
    if (!part) return part.error();
    if (*part && !blank(**part)) is_private = true;
  }

  KeyFacts key;
  auto facts = key_facts_from_rsa(*n, *e, key);
  if (!facts) return facts.error();
  Parsed parsed;
  parsed.finding.kind = is_private ? Kind::private_key : Kind::public_key;
  parsed.finding.format = Format::xml_rsa;
  parsed.finding.rule = is_private ? "private-key/xml-rsa" : "public-key/xml-rsa";
  parsed.finding.identity = key_identity(key);
  parsed.finding.key = std::move(key);
  parsed.consumed = close + kClose.size();
  return parsed;
}

}  // namespace keyward::scanner::detail
