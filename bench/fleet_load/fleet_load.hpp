// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load: a load generator for the collector (issue 19, bench/). Declarations
// shared by its files: the options of each subcommand, the synthetic reports, latency
// summaries and the agents' identities. A benchmark, not a test: bounded in time and count,
// loopback only, it stops by itself.
// Must never print, log or write anywhere but the fleet directory a token or a private key.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::fleet_load {

// --- options of the subcommands -----------------------------------------------------------

struct CommonOptions {
  std::string url;      // https://127.0.0.1:PORT (loopback only)
  std::string ca_file;  // the collector's CA (PEM)
};

struct EnrollOptions {
  CommonOptions common;
  std::string admin_token_file;
  std::string out_dir;
  std::size_t agents = 0;
  std::size_t connections = 8;
};

struct RunOptions {
  CommonOptions common;
  std::string fleet_dir;
  std::size_t agents = 0;
  double seconds = 10;
  std::uint64_t max_reports = 0;  // 0: no cap but the time
  std::size_t connections = 8;
  std::size_t threads = 1;
  std::uint32_t findings_min = 10;
  std::uint32_t findings_max = 200;
  std::uint32_t shared_keys = 50;
  double shared_fraction = 0.25;
  double churn = 0.0;
  std::uint32_t changing = 0;  // >0: every report carries this many findings, all new each time
  std::uint64_t seed = 1;
  double health_interval_ms = 10;
  double rate = 0;  // >0: reports begun per second (paced); 0: as fast as C connections go
  int gzip_level = 1;
  bool keep_alive = false;
  bool resume = true;  // TLS session resumption per agent
  bool json = false;
};

struct QueryOptions {
  CommonOptions common;
  std::string token_file;
  std::size_t rounds = 5;
  bool cbom = false;
  bool json = false;
};

// `sample`: one host's report as `run` would send it (uncompressed), to read or check.
struct SampleOptions {
  RunOptions shape;  // the findings options of `run`
  std::size_t index = 0;
  std::uint64_t generation = 0;
};

int run_enroll(const EnrollOptions& o);
int run_sample(const SampleOptions& o);
int run_load(const RunOptions& o);
int run_query(const QueryOptions& o);

// --- synthetic reports (reports.cpp) -------------------------------------------------------

// The shape of every host's findings; a host's own set follows from (seed, host index).
struct ReportShape {
  std::uint64_t seed = 1;
  std::uint32_t findings_min = 10;
  std::uint32_t findings_max = 200;
  std::uint32_t shared_keys = 50;
  double shared_fraction = 0.25;
  std::uint32_t changing = 0;
};

// One report of host `index` at `generation` (0: its first snapshot; each churn adds one and
// replaces about a tenth of its findings; in changing mode every generation is all new).
// Returns the JSON text; `findings` gets its number of findings.
std::string report_json(const ReportShape& shape, std::size_t index, const std::string& hostname,
                        std::uint64_t generation, std::size_t& findings);

// gzip (libdeflate, level 1 to 12) of a body.
std::string gzip(std::string_view body, int level);

// 32 random lowercase hex digits (a report id, a scan id).
std::string random_hex32();

// --- latency summaries (stats.cpp) --------------------------------------------------------

struct Summary {
  std::size_t count = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};
// Sorts `samples_us` (microseconds) and summarises them.
Summary summarise(std::vector<double>& samples_us);

// What a run counted (one per thread, added up at the end).
struct Tally {
  std::uint64_t sent = 0, ok = 0, findings_ok = 0, bytes_sent = 0;
  std::uint64_t handshakes = 0, resumed = 0, reconnects = 0, held = 0, duplicate = 0;
  std::map<std::string, std::uint64_t> errors;  // "429", "read", "handshake", ...
  std::vector<double> ingest_us, handshake_us, health_us;
  std::uint64_t health_errors = 0;
  void add(Tally&& t);
};
// The run's results: a few lines, or one JSON object with --json.
void print_run(const RunOptions& o, Tally& t, double seconds, double cpu_seconds);

// --- agent identities (identity.cpp) ------------------------------------------------------

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// One enrolled agent as the fleet directory holds it.
struct AgentRecord {
  std::string id;
  std::string hostname;
  std::string cert_file;  // relative to the fleet directory
  std::string key_file;
};

// A new EC P-256 key and a CSR (PEM) for it with CN `cn`; throws on an OpenSSL failure.
PkeyPtr new_agent_key();
std::string make_csr_pem(EVP_PKEY* key, const std::string& cn);
// Writes the key as PKCS#8 PEM to `path`, mode 0600 from its creation; throws on failure.
void write_key_file(EVP_PKEY* key, const std::string& path);
// Writes `text` to `path` (mode 0644); throws on failure.
void write_text_file(const std::string& path, const std::string& text);

// The records of DIR/agents.json (at least `count` of them, else throws).
std::vector<AgentRecord> read_fleet(const std::string& dir, std::size_t count);
void write_fleet(const std::string& dir, const std::vector<AgentRecord>& agents);
X509Ptr load_cert(const std::string& path);
PkeyPtr load_key(const std::string& path);

// A bearer token from a file (first line, trimmed); throws if empty. The caller wipes it.
std::string read_token_file(const std::string& path);
// OPENSSL_cleanse of a string's bytes, then clear().
void wipe(std::string& s);

}  // namespace keyward::fleet_load
