// SPDX-License-Identifier: Apache-2.0
// Micro benchmarks of the scanner's hot paths, in bytes per second of input:
// - the prefilter (one vectorscan pass for every text anchor) on keyless source text;
// - the whole text path (prefilter + detectors) on the same text with a key every megabyte;
// - each detector on one valid block (per call), to see what a hit costs.
#include "detectors/binary.hpp"
#include "detectors/parsers.hpp"
#include "encoding.hpp"
#include "prefilter.hpp"
#include "support/keygen.hpp"
#include "text_detect.hpp"

#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <sstream>

namespace d = keyward::scanner::detail;
namespace t = keyward::test;

namespace {

// About 8 MiB of real C/C++ headers (keyless text, with the '-' and '"' bytes code is full of).
const std::string& keyless_text() {
  static const std::string text = [] {
    std::string out;
    for (const char* f : {"/usr/include/stdio.h", "/usr/include/stdlib.h", "/usr/include/string.h",
                          "/usr/include/unistd.h", "/usr/include/fcntl.h", "/usr/include/signal.h",
                          "/usr/include/openssl/evp.h", "/usr/include/openssl/ssl.h", "/usr/include/openssl/x509.h"}) {
      std::ifstream in(f);
      std::stringstream ss;
      ss << in.rdbuf();
      out += ss.str();
    }
    if (out.empty()) out = std::string(1 << 20, 'x');
    std::string big;
    while (big.size() < (8u << 20)) big += out;
    return big;
  }();
  return text;
}

std::string with_keys() {
  std::string text = keyless_text();
  const std::string key = t::pkcs8_pem(t::ec_p256());
  for (std::size_t at = 1 << 20; at < text.size(); at += 1 << 20) text.insert(at, "\n" + key);
  return text;
}

void BM_Prefilter(benchmark::State& state) {
  const std::string& text = keyless_text();
  std::vector<d::AnchorHit> hits;
  for (auto _ : state) {
    d::find_anchors(text, hits);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Prefilter)->Unit(benchmark::kMillisecond);

void BM_TextPathKeyless(benchmark::State& state) {
  const std::string& text = keyless_text();
  std::vector<d::TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  for (auto _ : state) {
    hits.clear();
    d::detect_text(text, hits, rejected);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_TextPathKeyless)->Unit(benchmark::kMillisecond);

void BM_TextPathKeyPerMiB(benchmark::State& state) {
  const std::string text = with_keys();
  std::vector<d::TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  for (auto _ : state) {
    hits.clear();
    d::detect_text(text, hits, rejected);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["keys"] = static_cast<double>(hits.size());
}
BENCHMARK(BM_TextPathKeyPerMiB)->Unit(benchmark::kMillisecond);

// The whole text path on one block: how many objects it found.
std::size_t detect_count(const std::string& block) {
  std::vector<d::TextHit> hits;
  std::map<std::string, std::uint64_t> rejected;
  d::detect_text(block, hits, rejected);
  return hits.size();
}

template <class F>
void per_block(benchmark::State& state, const std::string& block, F&& f) {
  for (auto _ : state) benchmark::DoNotOptimize(f(block));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * block.size()));
}

void BM_PemPkcs8Ec(benchmark::State& state) {
  const std::string block = t::pkcs8_pem(t::ec_p256());
  per_block(state, block, detect_count);
}
BENCHMARK(BM_PemPkcs8Ec);

void BM_PemRsa2048(benchmark::State& state) {
  const std::string block = t::traditional_pem(t::rsa_2048());
  per_block(state, block, detect_count);
}
BENCHMARK(BM_PemRsa2048);

void BM_PemCertificate(benchmark::State& state) {
  const std::string block = t::certificate_pem(t::ec_p256(), t::rsa_2048(), "Bench", "codeSigning");
  per_block(state, block, detect_count);
}
BENCHMARK(BM_PemCertificate);

void BM_EncryptedPkcs8(benchmark::State& state) {
  const std::string block = t::pkcs8_pem(t::ec_p256(), "bench password");
  per_block(state, block, detect_count);
}
BENCHMARK(BM_EncryptedPkcs8);

void BM_Jwk(benchmark::State& state) {
  // A public EC JWK (the parser builds the key from x and y either way).
  const std::string jwk =
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
  per_block(state, jwk, [](const std::string& b) { return d::parse_jwk(b).has_value(); });
}
BENCHMARK(BM_Jwk);

void BM_SniffRandomBinary(benchmark::State& state) {
  std::string blob(1 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : blob) c = static_cast<char>(rng());
  blob[0] = 0x30;
  blob[1] = static_cast<char>(0x82);
  per_block(state, blob, [](const std::string& b) {
    return d::sniff_binary({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
  });
}
BENCHMARK(BM_SniffRandomBinary);

}  // namespace

BENCHMARK_MAIN();
