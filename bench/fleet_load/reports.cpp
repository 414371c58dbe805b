// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load: synthetic reports (keyward.findings/v1 plus report_id) with findings
// shaped like a real `keyward scan --format json` of keys and certificates: each host has a
// stable set of findings that follows from (seed, host index), some of its key identities
// shared across the fleet (the same SPKI hash on many hosts), the rest its own.
// Facts and fingerprints only, all made up: no report ever carries key bytes.
#include "fleet_load.hpp"

#include <fmt/format.h>

#include <libdeflate.h>

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <iterator>
#include <stdexcept>

namespace keyward::fleet_load {
namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0, std::uint64_t d = 0) {
  return mix(a ^ mix(b ^ mix(c ^ mix(d))));
}

// `digits` lowercase hex digits that follow from `key` (a made-up fingerprint).
std::string hex_of(std::uint64_t key, std::size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  for (std::uint64_t i = 0; out.size() < digits; ++i) {
    std::uint64_t v = mix(key + i * 0x632be59bd9b4e019ULL);
    for (int n = 0; n < 16 && out.size() < digits; ++n, v >>= 4) out.push_back(kHex[v & 15]);
  }
  return out;
}

std::string rfc3339(std::int64_t t) {
  std::tm tm{};
  const std::time_t tt = static_cast<std::time_t>(t);
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A certificate's validity: it ends 40 days ago to 360 days ahead of a reference time that
// moves once every 30 days (so a run sees the same dates, and some expire soon or have expired).
struct Validity {
  std::int64_t not_before = 0, not_after = 0;
};

Validity validity_of(std::uint64_t tag) {
  constexpr std::int64_t kDay = 86400;
  const std::int64_t reference = static_cast<std::int64_t>(std::time(nullptr)) / (30 * kDay) * (30 * kDay);
  Validity v;
  v.not_after = reference + (static_cast<std::int64_t>((tag >> 8) % 400) - 40) * kDay;
  v.not_before = v.not_after - (tag % 4 == 0 ? 398 : 90) * kDay;
  return v;
}

// A key identity: the tag its fingerprints follow from and its algorithm.
struct KeyId {
  std::uint64_t tag = 0;
  bool rsa = false;
  std::uint32_t bits = 256;
};

KeyId key_id(std::uint64_t tag) {
  KeyId k{tag, tag % 3 == 0, 256};
  if (k.rsa) k.bits = tag % 9 == 0 ? 3072 : 2048;
  return k;
}

// Where slot `slot` of a host keeps its key and certificate.
struct Place {
  std::string dir;
  bool shared_location = false;  // a CI workspace or shared directory: scores critical
};

Place place_of(std::uint64_t host_tag, std::uint32_t slot) {
  static const char* kDirs[] = {"/etc/ssl/private",
                                "/etc/pki/tls/private",
                                "/etc/nginx/ssl",
                                "/opt/app/conf/tls",
                                "/var/lib/jenkins/workspace/deploy",
                                "/srv/shared/certs"};
  const std::size_t d = hash(host_tag, slot, 0xd1) % 6;
  return {kDirs[d], d >= 4};
}

// The identity of slot `slot` on a host at a generation (see report_json).
KeyId slot_identity(const ReportShape& s, std::uint64_t host_tag, std::uint32_t slot, std::uint64_t generation) {
  if (s.changing > 0) return key_id(hash(host_tag, slot, 0xc4a, generation));
  const bool shared =
      s.shared_keys > 0 && static_cast<double>(hash(host_tag, slot, 0x5a) % 10000) < s.shared_fraction * 10000.0;
  if (shared) return key_id(hash(s.seed, 0x5348415245ULL, hash(host_tag, slot, 0x5b) % s.shared_keys));
  // Churn: generation g replaces the unique keys of the slots with slot % 10 == g % 10.
  const std::uint64_t r = slot % 10;
  const std::uint64_t version = r == 0 ? generation / 10 : (generation >= r ? (generation - r) / 10 + 1 : 0);
  return key_id(hash(host_tag, slot, 0x0e, version));
}

void append_key(std::string& out, const KeyId& k, const Place& p, std::uint64_t host_tag, std::uint32_t slot,
                const std::string& cert_id) {
  const bool encrypted = k.tag % 5 == 0;
  const std::int64_t mtime = validity_of(k.tag).not_before;
  int score = 35;
  std::string factors =
      R"({"id":"private-key","points":30,"why":"A private key sits in a file (pem-pkcs8), outside any hardware module: whoever copies the file holds the key."},{"id":"valid-now","points":5,"why":"Its certificate is valid: the key is in use today."})";
  if (!encrypted) {
    score += 40;
    factors +=
        R"(,{"id":"unencrypted-private-key","points":40,"why":"The key is not encrypted: anyone who can read the file can use it."})";
  }
  if (!encrypted && p.shared_location) {
    score += 15;
    factors +=
        R"(,{"id":"shared-location","points":15,"why":"In a CI workspace, build agent or shared directory: many jobs and people can reach it."})";
  }
  const char* sev = score >= 90 ? "critical" : score >= 70 ? "high" : "low";
  const std::string curve = k.rsa ? "" : R"("curve":"P-256",)";
  const std::string paired = cert_id.empty() ? "" : R"("paired_with":[")" + cert_id + R"("],)";
  fmt::format_to(
      std::back_inserter(out),
      R"({{"id":"{}","rule":"private-key/pkcs8","kind":"private_key","format":"{}","location":{{"path":"{}/svc-{}.key","line":1,"offset":0}},)"
      R"("file":{{"mode":"0600","uid":0,"gid":0,"owner":"root","size":{},"mtime":"{}"}},)"
      R"("key":{{"algorithm":"{}","bits":{},{}"encrypted":{},"spki_sha256":"{}"}},{})"
      R"("risk":{{"score":{},"raw":{},"severity":"{}","factors":[{}],"remediation":"Move the key into an HSM or a managed key store and delete the file; rotate the key if the file was ever readable by others."}}}})",
      hex_of(hash(k.tag, host_tag, slot, 0x4b), 32), encrypted ? "pem-pkcs8-encrypted" : "pem-pkcs8", p.dir, slot,
      k.rsa ? 1704 : 241, rfc3339(mtime), k.rsa ? "rsa" : "ec", k.bits, curve, encrypted ? "true" : "false",
      hex_of(hash(k.tag, 0x53), 64), paired, score, score, sev, factors);
}

void append_cert(std::string& out, const KeyId& k, const Place& p, const std::string& id, std::uint32_t slot,
                 const std::string& key_id_hex) {
  const auto [not_before, not_after] = validity_of(k.tag);
  const std::string curve = k.rsa ? "" : R"("key_curve":"P-256",)";
  fmt::format_to(
      std::back_inserter(out),
      R"({{"id":"{}","rule":"certificate/x509","kind":"certificate","format":"pem-cert","location":{{"path":"{}/svc-{}.crt","line":1,"offset":0}},)"
      R"("file":{{"mode":"0644","uid":0,"gid":0,"owner":"root","size":{},"mtime":"{}"}},)"
      R"("certificate":{{"subject":"CN=svc-{}.{:x}.bench.example","issuer":"CN=Keyward Bench Issuing CA","serial":"{}",)"
      R"("not_before":"{}","not_after":"{}","self_signed":false,"is_ca":false,"key_usage":["digitalSignature"],)"
      R"("extended_key_usage":["serverAuth"],"signature_algorithm":"{}","sha256":"{}","spki_sha256":"{}",)"
      R"("key_algorithm":"{}","key_bits":{},{}"trust_store":false}},"paired_with":["{}"],)"
      R"("risk":{{"score":0,"raw":0,"severity":"info","factors":[{{"id":"certificate-inventory","points":0,"why":"A certificate: public information, kept as inventory (expiry and algorithm strength)."}}],)"
      R"("remediation":"Renew certificates before they expire and replace those with weak keys or SHA-1 signatures."}}}})",
      id, p.dir, slot, k.rsa ? 1200 : 583, rfc3339(not_before), slot, k.tag & 0xffffff, hex_of(hash(k.tag, 0x4e), 40),
      rfc3339(not_before), rfc3339(not_after), k.rsa ? "sha256WithRSAEncryption" : "ecdsa-with-SHA256",
      hex_of(hash(k.tag, 0x43), 64), hex_of(hash(k.tag, 0x53), 64), k.rsa ? "rsa" : "ec", k.bits, curve, key_id_hex);
}

// The report's head: everything but its findings and report_id.
void append_head(std::string& out, const std::string& hostname, std::size_t findings) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  fmt::format_to(
      std::back_inserter(out),
      R"({{"schema":"keyward.findings/v1","tool":{{"name":"keyward","version":"0.1.0"}},)"
      R"j("host":{{"hostname":"{}","os":"Debian GNU/Linux 12 (bookworm) (Linux 6.1.0-bench)"}},)j"
      R"("scan":{{"id":"{}","started_at":"{}","finished_at":"{}","roots":["/"],"complete":true,"errors":[],)"
      R"("stats":{{"files_seen":{},"files_scanned":{},"files_cached":0,"bytes_scanned":{},"dirs_seen":{},)"
      R"("errors":0,"skipped":{{}},"rejected":{{}},"trust_store_certificates":0,"archives":0,"archive_members":0}}}},)",
      hostname, random_hex32(), rfc3339(now - 30), rfc3339(now), 40000 + findings * 3, 4000 + findings,
      50000000 + findings * 1500, 3000 + findings);
}

}  // namespace

std::string random_hex32() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string out;
  for (unsigned char c : b) fmt::format_to(std::back_inserter(out), "{:02x}", c);
  return out;
}

std::string report_json(const ReportShape& shape, std::size_t index, const std::string& hostname,
                        std::uint64_t generation, std::size_t& findings) {
  const std::uint64_t host_tag = hash(shape.seed, 0x486f7374ULL, index);
  const std::uint32_t span = shape.findings_max - shape.findings_min + 1;
  const std::size_t n = shape.changing > 0 ? shape.changing : shape.findings_min + hash(host_tag, 0x6e) % span;
  std::string out;
  out.reserve(512 + n * 1300);
  append_head(out, hostname, n);
  out += R"("report_id":")" + random_hex32() + R"(","findings":[)";
  for (std::uint32_t slot = 0; 2 * slot < n; ++slot) {
    const KeyId k = slot_identity(shape, host_tag, slot, generation);
    const Place p = place_of(host_tag, slot);
    const std::string key_id_hex = hex_of(hash(k.tag, host_tag, slot, 0x4b), 32);
    const std::string cert_id = hex_of(hash(k.tag, host_tag, slot, 0x63), 32);
    if (slot > 0) out += ',';
    const bool with_cert = 2 * slot + 1 < n;
    append_key(out, k, p, host_tag, slot, with_cert ? cert_id : std::string());
    if (with_cert) {
      out += ',';
      append_cert(out, k, p, cert_id, slot, key_id_hex);
    }
  }
  out += "]}";
  findings = n;
  return out;
}

int run_sample(const SampleOptions& o) {
  const RunOptions& r = o.shape;
  const ReportShape shape{r.seed, r.findings_min, r.findings_max, r.shared_keys, r.shared_fraction, r.changing};
  std::size_t findings = 0;
  const std::string host = fmt::format("load-{:05}.bench.invalid", o.index);
  std::printf("%s\n", report_json(shape, o.index, host, o.generation, findings).c_str());
  return 0;
}

std::string gzip(std::string_view body, int level) {
  thread_local int made_at = -1;
  thread_local std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> c(nullptr,
                                                                                          libdeflate_free_compressor);
  if (made_at != level) {
    c.reset(libdeflate_alloc_compressor(level));
    made_at = level;
  }
  if (!c) throw std::runtime_error("libdeflate_alloc_compressor failed");
  std::string out(libdeflate_gzip_compress_bound(c.get(), body.size()), '\0');
  const std::size_t n = libdeflate_gzip_compress(c.get(), body.data(), body.size(), out.data(), out.size());
  if (n == 0) throw std::runtime_error("gzip failed");
  out.resize(n);
  return out;
}

}  // namespace keyward::fleet_load
