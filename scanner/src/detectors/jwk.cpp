// SPDX-License-Identifier: Apache-2.0
// JSON Web Keys (RFC 7517, RFC 7518 section 6, RFC 8037 for OKP): RSA, EC and OKP keys, public
// or private. Public members build the key facts; private members ("d", RSA "p") are only
// checked for presence, never decoded.
#include "detectors/parsers.hpp"

#include "encoding.hpp"
#include "openssl/key_info.hpp"

#include <nlohmann/json.hpp>

namespace keyward::scanner::detail {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxObject = 1024 * 1024;

// A member that must be a string when present; `present` says whether it exists.
Result<const std::string*> string_member(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) return static_cast<const std::string*>(nullptr);
  if (!it->is_string()) return make_error_code(Errc::bad_structure);
  return &it->get_ref<const std::string&>();
}

// A required base64url public member.
Result<ByteVec> public_member(const json& j, const char* name) {
  auto s = string_member(j, name);
  if (!s) return s.error();
  if (*s == nullptr || (*s)->empty()) return make_error_code(Errc::bad_structure);
  auto bytes = base64url_decode(**s);
  if (!bytes) return make_error_code(Errc::bad_encoding);
  return std::move(*bytes);
}

// Sets `found` when a private member is present (a non-empty string); never decodes it.
Result<void> has_private(const json& j, std::initializer_list<const char*> names, bool& found) {
  found = false;
  for (const char* name : names) {
    auto s = string_member(j, name);
    if (!s) return s.error();
    if (*s != nullptr && !(*s)->empty()) found = true;
  }
  return {};
}

// Field size in bytes of the JOSE curves OpenSSL builds (RFC 7518 section 6.2.1).
std::size_t field_size(std::string_view crv) {
  if (crv == "P-256" || crv == "secp256k1") return 32;
  if (crv == "P-384") return 48;
  if (crv == "P-521") return 66;
  return 0;
}

// Left-pads a coordinate to the field size (some writers drop leading zeros).
bool append_coordinate(ByteVec& point, const ByteVec& c, std::size_t size) {
  if (c.size() > size) return false;
  point.insert(point.end(), size - c.size(), 0);
  point.insert(point.end(), c.begin(), c.end());
  return true;
}

}  // namespace

Result<Finding> parse_jwk(std::string_view json_object) {
  if (json_object.size() > kMaxObject) return make_error_code(Errc::too_large);
  const json j = json::parse(json_object.begin(), json_object.end(), nullptr, false);
  if (j.is_discarded()) return make_error_code(Errc::bad_encoding);
  if (!j.is_object()) return make_error_code(Errc::bad_structure);
  auto kty = string_member(j, "kty");
  if (!kty) return kty.error();
  if (*kty == nullptr) return make_error_code(Errc::bad_structure);

  KeyFacts key;
  bool is_private = false;
  const std::string& type = **kty;
  if (type == "RSA") {
    auto n = public_member(j, "n");
    if (!n) return n.error();
    auto e = public_member(j, "e");
    if (!e) return e.error();
    auto priv = has_private(j, {"d", "p"}, is_private);
    if (!priv) return priv.error();
    auto facts = key_facts_from_rsa(*n, *e, key);
    if (!facts) return facts.error();
  } else if (type == "EC") {
    auto crv = string_member(j, "crv");
    if (!crv) return crv.error();
    if (*crv == nullptr) return make_error_code(Errc::bad_structure);
    const std::size_t size = field_size(**crv);
    if (size == 0) return make_error_code(Errc::unsupported);
    auto x = public_member(j, "x");
    if (!x) return x.error();
    auto y = public_member(j, "y");
    if (!y) return y.error();
    auto priv = has_private(j, {"d"}, is_private);
    if (!priv) return priv.error();
    ByteVec point{0x04};
    if (!append_coordinate(point, *x, size) || !append_coordinate(point, *y, size))
      return make_error_code(Errc::bad_structure);
    auto facts = key_facts_from_ec(**crv, point, key);
    if (!facts) return facts.error();
  } else if (type == "OKP") {
    auto crv = string_member(j, "crv");
    if (!crv) return crv.error();
    if (*crv == nullptr) return make_error_code(Errc::bad_structure);
    std::string_view raw_type;
    if (**crv == "Ed25519") raw_type = "ED25519";
    else if (**crv == "Ed448") raw_type = "ED448";
    else if (**crv == "X25519") raw_type = "X25519";
    else if (**crv == "X448") raw_type = "X448";
    else return make_error_code(Errc::unsupported);
    auto x = public_member(j, "x");
    if (!x) return x.error();
    auto priv = has_private(j, {"d"}, is_private);
    if (!priv) return priv.error();
    auto facts = key_facts_from_raw(raw_type, *x, key);
    if (!facts) return facts.error();
  } else {
    return make_error_code(Errc::unsupported);  // "oct" (a shared secret) and unknown types
  }

  Finding finding;
  finding.kind = is_private ? Kind::private_key : Kind::public_key;
  finding.format = Format::jwk;
  finding.rule = is_private ? "private-key/jwk" : "public-key/jwk";
  finding.identity = key_identity(key);
  finding.key = std::move(key);
  return finding;
}

}  // namespace keyward::scanner::detail
