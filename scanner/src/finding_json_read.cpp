// SPDX-License-Identifier: Apache-2.0
// Reading findings back from their JSON form (keyward.findings/v1): the scan cache, and later
// the collector's ingest. Lenient about absent fields (absent facts are omitted by design),
// strict about types: a field of the wrong type makes the whole finding invalid.
#include <keyward/scanner/finding_json.hpp>

#include "encoding.hpp"

#include <ctime>
#include <limits>

namespace keyward::scanner {
namespace {

using nlohmann::json;

struct Bad {};  // thrown inside this file only, turned into an error at the boundary

const json* field(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

std::string str(const json& j, const char* name) {
  const json* v = field(j, name);
  if (v == nullptr) return {};
  if (!v->is_string()) throw Bad{};
  return v->get<std::string>();
}

// A string written with put_bytes: the exact bytes from <name>_b64 when present.
std::string bytes_field(const json& j, const char* name) {
  const std::string b64 = str(j, (std::string(name) + "_b64").c_str());
  if (!b64.empty()) {
    auto raw = detail::base64_decode(b64);
    if (!raw) throw Bad{};
    return std::string(raw->begin(), raw->end());
  }
  return str(j, name);
}

template <class T>
T num(const json& j, const char* name, T fallback = 0) {
  const json* v = field(j, name);
  if (v == nullptr) return fallback;
  if (!v->is_number()) throw Bad{};
  if (v->is_number_float()) {
    // Converting a float outside T's range is undefined behaviour ("bits": 1e20 from the wire).
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min()) - 1.0;
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max()) + 1.0;
    const double d = v->get<double>();
    if (!(d > lo && d < hi)) throw Bad{};
    return v->get<T>();
  }
  // An integer outside T's range is refused, not wrapped: "bits": -1 became 4294967295.
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) throw Bad{};
    return static_cast<T>(u);
  }
  const auto i = v->get<std::int64_t>();
  if (i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
      (i > 0 && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())))
    throw Bad{};
  return static_cast<T>(i);
}

bool flag(const json& j, const char* name) {
  const json* v = field(j, name);
  if (v == nullptr) return false;
  if (!v->is_boolean()) throw Bad{};
  return v->get<bool>();
}

std::vector<std::string> strings(const json& j, const char* name) {
  const json* v = field(j, name);
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (!v->is_array()) throw Bad{};
  for (const auto& x : *v) {
    if (!x.is_string()) throw Bad{};
    out.push_back(x.get<std::string>());
  }
  return out;
}

std::int64_t time_field(const json& j, const char* name) {
  const std::string s = str(j, name);
  if (s.empty()) return 0;
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') throw Bad{};
  return static_cast<std::int64_t>(timegm(&tm));
}

Protection protection_from(const json& j) {
  if (!j.is_object()) throw Bad{};
  Protection p;
  p.cipher = str(j, "cipher");
  p.kdf = str(j, "kdf");
  if (field(j, "kdf_iterations")) p.kdf_iterations = num<std::uint64_t>(j, "kdf_iterations");
  return p;
}

KeyFacts key_from(const json& j) {
  if (!j.is_object()) throw Bad{};
  KeyFacts k;
  k.algorithm = str(j, "algorithm");
  if (field(j, "bits")) k.bits = num<std::uint32_t>(j, "bits");
  k.curve = str(j, "curve");
  k.encrypted = flag(j, "encrypted");
  if (const json* p = field(j, "protection")) k.protection = protection_from(*p);
  k.weak_password = flag(j, "weak_password");
  k.password_exposed_in = str(j, "password_exposed_in");
  k.spki_sha256 = str(j, "spki_sha256");
  k.ssh_fingerprint = str(j, "ssh_fingerprint");
  k.pgp_fingerprint = str(j, "pgp_fingerprint");
  k.comment = bytes_field(j, "comment");
  return k;
}

CertFacts cert_from(const json& j) {
  if (!j.is_object()) throw Bad{};
  CertFacts c;
  c.subject = bytes_field(j, "subject");
  c.issuer = bytes_field(j, "issuer");
  c.serial = str(j, "serial");
  c.not_before = time_field(j, "not_before");
  c.not_after = time_field(j, "not_after");
  c.self_signed = flag(j, "self_signed");
  c.is_ca = flag(j, "is_ca");
  c.key_usage = strings(j, "key_usage");
  c.extended_key_usage = strings(j, "extended_key_usage");
  c.signature_algorithm = str(j, "signature_algorithm");
  c.sha256 = str(j, "sha256");
  c.spki_sha256 = str(j, "spki_sha256");
  c.key_algorithm = str(j, "key_algorithm");
  if (field(j, "key_bits")) c.key_bits = num<std::uint32_t>(j, "key_bits");
  c.key_curve = str(j, "key_curve");
  c.trust_store = flag(j, "trust_store");
  return c;
}

Location location_from(const json& l) {
  if (!l.is_object()) throw Bad{};
  Location loc;
  loc.path = bytes_field(l, "path");
  loc.member = bytes_field(l, "member");
  loc.line = num<std::uint64_t>(l, "line");
  loc.offset = num<std::uint64_t>(l, "offset");
  loc.host = str(l, "host");
  return loc;
}

FileFacts file_from(const json& fi) {
  if (!fi.is_object()) throw Bad{};
  FileFacts file;
  const std::string mode = str(fi, "mode");
  file.mode = mode.empty() ? 0 : static_cast<std::uint32_t>(std::stoul(mode, nullptr, 8));
  file.uid = num<std::uint32_t>(fi, "uid");
  file.gid = num<std::uint32_t>(fi, "gid");
  file.owner = str(fi, "owner");
  file.size = num<std::uint64_t>(fi, "size");
  file.mtime = time_field(fi, "mtime");
  return file;
}

StoreFacts store_from(const json& s) {
  if (!s.is_object()) throw Bad{};
  StoreFacts st;
  st.opened = flag(s, "opened");
  st.weak_password = flag(s, "weak_password");
  st.password_exposed_in = bytes_field(s, "password_exposed_in");
  st.mac = str(s, "mac");
  if (field(s, "mac_iterations")) st.mac_iterations = num<std::uint64_t>(s, "mac_iterations");
  if (const json* e = field(s, "encryption")) {
    if (!e->is_array()) throw Bad{};
    for (const auto& p : *e) st.encryption.push_back(protection_from(p));
  }
  st.weaknesses = strings(s, "weaknesses");
  st.contents = strings(s, "contents");
  st.truststore = flag(s, "truststore");
  st.certificates = num<std::uint32_t>(s, "certificates");
  return st;
}

StoreEntry entry_from(const json& e) {
  if (!e.is_object()) throw Bad{};
  StoreEntry entry;
  const auto ek = kind_from_string(str(e, "kind"));
  if (!ek) throw Bad{};
  entry.kind = *ek;
  entry.alias = bytes_field(e, "alias");
  if (const json* k = field(e, "key")) entry.key = key_from(*k);
  if (const json* c = field(e, "certificate")) entry.certificate = cert_from(*c);
  entry.chain_length = num<std::uint32_t>(e, "chain_length");
  entry.created = time_field(e, "created");
  return entry;
}

RiskFacts risk_from(const json& r) {
  if (!r.is_object()) throw Bad{};
  RiskFacts risk;
  risk.score = num<int>(r, "score");
  risk.raw = num<int>(r, "raw", risk.score);  // reports from before raw existed: the score
  risk.severity = str(r, "severity");
  risk.remediation = str(r, "remediation");
  if (const json* fs = field(r, "factors")) {
    if (!fs->is_array()) throw Bad{};
    for (const auto& x : *fs) {
      if (!x.is_object()) throw Bad{};
      risk.factors.push_back({str(x, "id"), num<int>(x, "points"), str(x, "why")});
    }
  }
  return risk;
}

Finding finding_from(const json& j) {
  if (!j.is_object()) throw Bad{};
  Finding f;
  f.id = str(j, "id");
  f.rule = str(j, "rule");
  const auto kind = kind_from_string(str(j, "kind"));
  const auto format = format_from_string(str(j, "format"));
  if (!kind || !format) throw Bad{};
  f.kind = *kind;
  f.format = *format;
  f.encoding = str(j, "encoding");
  if (field(j, "trailing_bytes")) f.trailing_bytes = num<std::uint64_t>(j, "trailing_bytes");
  if (const json* l = field(j, "location")) f.location = location_from(*l);
  if (const json* fi = field(j, "file")) f.file = file_from(*fi);
  if (const json* k = field(j, "key")) f.key = key_from(*k);
  if (const json* c = field(j, "certificate")) f.certificate = cert_from(*c);
  if (const json* s = field(j, "store")) f.store = store_from(*s);
  if (const json* es = field(j, "entries")) {
    if (!es->is_array()) throw Bad{};
    for (const auto& e : *es) f.entries.push_back(entry_from(e));
  }
  f.paired_with = strings(j, "paired_with");
  if (const json* g = field(j, "git")) {
    if (!g->is_object()) throw Bad{};
    f.git = GitFacts{str(*g, "commit"), time_field(*g, "author_date")};
  }
  if (const json* r = field(j, "risk")) f.risk = risk_from(*r);
  if (const json* s = field(j, "suppressed")) {
    if (!s->is_object()) throw Bad{};
    f.suppressed = Suppression{str(*s, "kind"), str(*s, "justification")};
  }
  return f;
}

}  // namespace

Result<Finding> finding_from_json(const nlohmann::json& j) {
  try {
    return finding_from(j);
  } catch (const Bad&) {
    return make_error_code(Errc::bad_structure);
  } catch (const nlohmann::json::exception&) {
    return make_error_code(Errc::bad_structure);
  } catch (const std::invalid_argument&) {
    return make_error_code(Errc::bad_structure);
  } catch (const std::out_of_range&) {
    return make_error_code(Errc::bad_structure);
  }
}

}  // namespace keyward::scanner
