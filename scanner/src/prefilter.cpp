#include "prefilter.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

namespace keyward::scanner::detail {
namespace {

constexpr std::array<std::string_view, 6> kLiterals{
    "-----BEGIN ",                                // Anchor::pem (also OpenSSH and PGP armor)
    "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----",  // Anchor::sshcom
    "PuTTY-User-Key-File-",                       // Anchor::putty
    "\"kty\"",                                    // Anchor::jwk
    "<RSAKeyValue>",                              // Anchor::xml_rsa
    "LS0tLS1CRUdJTi",                             // Anchor::base64_pem: base64("-----BEGIN")
};

struct Database {
  hs_database_t* db = nullptr;
  Database() {
    std::array<const char*, kLiterals.size()> exprs{};
    std::array<std::size_t, kLiterals.size()> lens{};
    std::array<unsigned, kLiterals.size()> flags{};
    std::array<unsigned, kLiterals.size()> ids{};
    for (std::size_t i = 0; i < kLiterals.size(); ++i) {
      exprs[i] = kLiterals[i].data();
      lens[i] = kLiterals[i].size();
      flags[i] = 0;
      ids[i] = static_cast<unsigned>(i);
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(kLiterals.size()), HS_MODE_BLOCK, nullptr, &db,
                             &err) != HS_SUCCESS) {
      std::string what = err && err->message ? err->message : "unknown";
      hs_free_compile_error(err);
      throw std::runtime_error("vectorscan: cannot compile the anchor database: " + what);
    }
  }
  ~Database() { hs_free_database(db); }
};

const Database& database() {
  static const Database db;
  return db;
}

struct ScratchDeleter {
  void operator()(hs_scratch_t* s) const noexcept { hs_free_scratch(s); }
};

hs_scratch_t* thread_scratch() {
  thread_local std::unique_ptr<hs_scratch_t, ScratchDeleter> scratch;
  if (!scratch) {
    hs_scratch_t* s = nullptr;
    if (hs_alloc_scratch(database().db, &s) != HS_SUCCESS) throw std::bad_alloc();
    scratch.reset(s);
  }
  return scratch.get();
}

int on_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) {
  auto* out = static_cast<std::vector<AnchorHit>*>(ctx);
  out->push_back({static_cast<Anchor>(id), static_cast<std::size_t>(to - kLiterals[id].size())});
  return 0;
}

constexpr std::size_t longest_literal() {
  std::size_t n = 0;
  for (auto l : kLiterals) n = std::max(n, l.size());
  return n;
}

}  // namespace

std::string_view anchor_literal(Anchor a) noexcept { return kLiterals[static_cast<std::size_t>(a)]; }

void find_anchors(std::string_view data, std::vector<AnchorHit>& out) {
  out.clear();
  if (data.empty()) return;
  // hs_scan takes an unsigned int length: scan in chunks that overlap by the longest literal.
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  constexpr std::size_t longest = longest_literal();
  std::size_t base = 0;
  while (base < data.size()) {
    const std::size_t len = std::min(kChunk, data.size() - base);
    std::vector<AnchorHit> part;
    auto* target = base == 0 ? &out : &part;
    hs_scan(database().db, data.data() + base, static_cast<unsigned>(len), 0, thread_scratch(),
            on_match, target);
    if (base != 0) {
      for (auto h : part) {
        h.at += base;
        if (out.empty() || h.at > out.back().at) out.push_back(h);
      }
    }
    if (base + len >= data.size()) break;
    base += len - (longest - 1);
  }
  std::stable_sort(out.begin(), out.end(), [](const AnchorHit& a, const AnchorHit& b) { return a.at < b.at; });
}

void find_anchors_in(std::string_view data, std::size_t from, std::size_t to, std::vector<AnchorHit>& out) {
  out.clear();
  to = std::min(to, data.size());
  if (from >= to) return;
  // An anchor that starts before `to` ends at most longest - 1 bytes after it.
  const std::size_t end = std::min(data.size(), to + longest_literal() - 1);
  find_anchors(data.substr(from, end - from), out);
  std::size_t kept = 0;
  for (const AnchorHit& h : out)
    if (h.at + from < to) out[kept++] = {h.anchor, h.at + from};
  out.resize(kept);
}

}  // namespace keyward::scanner::detail
