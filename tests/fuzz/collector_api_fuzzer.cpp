// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the collector's API v1 dispatcher (collector/src/server/api.hpp), without
// the network: routing, query and duration parsing, bearer tokens, roles, gzip bodies through
// the inflate cap, report ingest and enrollment, against one SQLite store per process in a
// temporary directory (a CA, an approved, a pending and a revoked agent, a token per role).
// Every input must be answered with a 2xx/4xx status and a JSON body; a 500 (an exception or a
// store failure on bad input) or a crash is a bug.
//
// Input: byte 0 selects who calls and how the body is encoded, then four lines (method, target,
// raw Authorization, raw Content-Encoding) and the rest is the body.
//   bits 0-2  authorization: 0 none, 1 admin, 2 viewer, 3 analyst, 4 approver token,
//             5 a fresh enrollment token, 6 the raw line, 7 a revoked token
//   bits 3-4  client certificate: 0 none, 1 approved agent, 2 pending agent, 3 revoked agent
//   bits 5-6  body encoding: 0 none, 1 gzip made here (valid), 2 "gzip" on the raw bytes,
//             3 the raw Content-Encoding line
// Seeds: tests/fuzz/make_seeds.py (a real report, a CSR, one request per route).
#include "server/api.hpp"
#include "server/ca.hpp"

#include <keyward/collector/store.hpp>

#include <nlohmann/json.hpp>

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace keyward::collector;

const Actor kCli{"cli:fuzz", std::nullopt};

struct Fleet {
  std::string dir;
  Config config;
  Metrics metrics;
  std::unique_ptr<Store> store;
  std::unique_ptr<CertificateAuthority> ca;
  std::unique_ptr<Api> api;
  std::string tokens[4];  // by Role
  std::string revoked_token;
  AgentInfo approved, pending, revoked;
  int agents = 0;

  Fleet() {
    char tmpl[] = "/tmp/keyward-api-fuzz-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    make_ca(dir + "/ca.pem", dir + "/ca.key", "fuzz");
    config.data_dir = dir;
    config.limits.max_request_bytes = 256 << 10;  // small, so that bombs are cheap
    config.limits.reports_per_minute = 1u << 30;
    store = open_sqlite_store(dir + "/keyward.db", dir + "/events.jsonl", FleetOptions{});
    ca = std::make_unique<CertificateAuthority>(dir + "/ca.pem", dir + "/ca.key");
    api = std::make_unique<Api>(*store, *ca, config, metrics);
    for (Role r : {Role::viewer, Role::analyst, Role::approver, Role::admin}) fresh_token(r);
    auto t = store->create_token(Role::admin, "revoked", "", 0, kCli).value();
    revoked_token = t.secret;
    (void)store->revoke_token(t.info.id, kCli);
    approved = agent(true);
    pending = agent(false);
    revoked = agent(true);
    (void)store->revoke_agent(revoked.id, kCli, std::time(nullptr));
  }
  ~Fleet() {
    api.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void fresh_token(Role r) { tokens[static_cast<int>(r)] = store->create_token(r, "fuzz", "", 0, kCli).value().secret; }

  AgentInfo agent(bool approve) {
    const auto now = std::time(nullptr);
    const auto tok = store->create_enrollment_token(now + 3600, kCli);
    ++agents;
    Enrollment e;
    char id[17];
    std::snprintf(id, sizeof id, "%016x", 0xf0000000u + static_cast<unsigned>(agents));
    e.agent_id = id;
    e.hostname = "fuzz-" + std::to_string(agents);
    e.os = "linux";
    e.cert_sha256 = sha256_hex(id, 16);
    e.cert_serial = std::to_string(agents);
    e.spki_sha256 = sha256_hex(e.cert_sha256.data(), e.cert_sha256.size());
    auto a = store->enroll_agent(tok.secret, e, now);
    if (!a) std::abort();
    if (!approve) return *a;
    auto ok = store->approve_agent(a->id, kCli, now);
    if (!ok) std::abort();
    return *ok;
  }

  // Inputs may revoke the agent or the tokens the next inputs rely on: bring them back.
  void heal() {
    const auto now = std::time(nullptr);
    auto a = store->agent(approved.id);
    if (!a || a->status != AgentStatus::approved) approved = agent(true);
    a = store->agent(pending.id);
    if (!a || a->status != AgentStatus::pending) pending = agent(false);
    for (Role r : {Role::viewer, Role::analyst, Role::approver, Role::admin})
      if (!store->find_token(tokens[static_cast<int>(r)], now)) fresh_token(r);
  }
};

Fleet& fleet() {
  static Fleet* f = new Fleet;  // lives for the process; the temp dir goes at exit
  static const bool cleanup = [] {
    std::atexit([] { delete f; });
    return true;
  }();
  (void)cleanup;
  return *f;
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string_view line(std::string_view& in) {
  const auto nl = in.find('\n');
  std::string_view l = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Fleet& f = fleet();
  f.heal();
  const unsigned flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  ApiRequest req;
  req.method = std::string(line(in));
  req.target = std::string(line(in));
  const std::string_view raw_auth = line(in);
  const std::string_view raw_encoding = line(in);
  const std::string_view body = in;

  switch (flags & 7) {
    case 0:
      break;
    case 1:
      req.authorization = "Bearer " + f.tokens[static_cast<int>(Role::admin)];
      break;
    case 2:
      req.authorization = "Bearer " + f.tokens[static_cast<int>(Role::viewer)];
      break;
    case 3:
      req.authorization = "Bearer " + f.tokens[static_cast<int>(Role::analyst)];
      break;
    case 4:
      req.authorization = "Bearer " + f.tokens[static_cast<int>(Role::approver)];
      break;
    case 5:
      req.authorization = "Bearer " + f.store->create_enrollment_token(std::time(nullptr) + 600, kCli).secret;
      break;
    case 6:
      req.authorization = std::string(raw_auth);
      break;
    case 7:
      req.authorization = "Bearer " + f.revoked_token;
      break;
  }
  switch ((flags >> 3) & 3) {
    case 0:
      break;
    case 1:
      req.peer_cert_sha256 = f.approved.cert_sha256;
      break;
    case 2:
      req.peer_cert_sha256 = f.pending.cert_sha256;
      break;
    case 3:
      req.peer_cert_sha256 = f.revoked.cert_sha256;
      break;
  }
  switch ((flags >> 5) & 3) {
    case 0:
      req.body = std::string(body);
      break;
    case 1:
      req.body = gzip(body), req.content_encoding = "gzip";
      break;
    case 2:
      req.body = std::string(body), req.content_encoding = "gzip";
      break;
    case 3:
      req.body = std::string(body), req.content_encoding = std::string(raw_encoding);
      break;
  }

  const ApiResponse r = f.api->handle(req);
  static const bool trace = std::getenv("KEYWARD_FUZZ_TRACE") != nullptr;  // to check what seeds reach
  if (trace)
    std::fprintf(stderr, "%u %s %.80s %.120s\n", r.status, req.method.c_str(), req.target.c_str(), r.body.c_str());
  if (r.status < 200 || r.status >= 500) __builtin_trap();
  if (r.content_type == "application/json" &&
      nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false).is_discarded())
    __builtin_trap();
  return 0;
}
