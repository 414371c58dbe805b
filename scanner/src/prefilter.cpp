// SPDX-License-Identifier: Apache-2.0
#include "prefilter.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

namespace keyward::scanner::detail {
namespace {

struct ScratchDeleter {
  void operator()(hs_scratch_t* s) const noexcept { hs_free_scratch(s); }
};

// This thread's scratch, grown to fit `db`. One scratch serves every database a thread scans
// with; hs_alloc_scratch only reallocates when `db` needs more room than it has.
hs_scratch_t* thread_scratch(const hs_database_t* db, bool refit) {
  thread_local std::unique_ptr<hs_scratch_t, ScratchDeleter> scratch;
  thread_local const hs_database_t* fitted = nullptr;
  if (!scratch || fitted != db || refit) {
    hs_scratch_t* s = scratch.release();
    if (hs_alloc_scratch(db, &s) != HS_SUCCESS) {
      scratch.reset(s);
      throw std::bad_alloc();
    }
    scratch.reset(s);
    fitted = db;
  }
  return scratch.get();
}

struct MatchContext {
  std::vector<AnchorHit>* out;
  const void* entries;
};

}  // namespace

Prefilter::Prefilter(std::span<const AnchorLiteral> literals) {
  if (literals.empty()) return;
  std::vector<const char*> exprs;
  std::vector<std::size_t> lens;
  std::vector<unsigned> flags(literals.size(), 0);
  std::vector<unsigned> ids;
  for (const AnchorLiteral& l : literals) {
    exprs.push_back(l.text.data());
    lens.push_back(l.text.size());
    ids.push_back(static_cast<unsigned>(entries_.size()));
    entries_.push_back({l.detector, static_cast<std::uint32_t>(l.text.size())});
    longest_ = std::max(longest_, l.text.size());
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(), static_cast<unsigned>(exprs.size()),
                           HS_MODE_BLOCK, nullptr, &db_, &err) != HS_SUCCESS) {
    std::string what = err && err->message ? err->message : "unknown";
    hs_free_compile_error(err);
    throw std::runtime_error("vectorscan: cannot compile the anchor database: " + what);
  }
}

Prefilter::~Prefilter() { hs_free_database(db_); }

void Prefilter::find(std::string_view data, std::vector<AnchorHit>& out) const {
  out.clear();
  if (data.empty() || db_ == nullptr) return;
  auto on_match = [](unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* c) -> int {
    const auto* ctx = static_cast<const MatchContext*>(c);
    const Entry& e = static_cast<const Entry*>(ctx->entries)[id];
    ctx->out->push_back({e.detector, static_cast<std::size_t>(to - e.length)});
    return 0;
  };
  // hs_scan takes an unsigned int length: scan in chunks that overlap by the longest literal.
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  std::size_t base = 0;
  while (base < data.size()) {
    const std::size_t len = std::min(kChunk, data.size() - base);
    std::vector<AnchorHit> part;
    MatchContext ctx{base == 0 ? &out : &part, entries_.data()};
    hs_error_t rc =
        hs_scan(db_, data.data() + base, static_cast<unsigned>(len), 0, thread_scratch(db_, false), on_match, &ctx);
    // A scratch fitted to a database freed since, whose address this one reuses, may be too small.
    if (rc == HS_INVALID)
      hs_scan(db_, data.data() + base, static_cast<unsigned>(len), 0, thread_scratch(db_, true), on_match, &ctx);
    if (base != 0) {
      for (auto h : part) {
        h.at += base;
        if (out.empty() || h.at > out.back().at) out.push_back(h);
      }
    }
    if (base + len >= data.size()) break;
    base += len - (longest_ - 1);
  }
  std::stable_sort(out.begin(), out.end(), [](const AnchorHit& a, const AnchorHit& b) { return a.at < b.at; });
}

void Prefilter::find_in(std::string_view data, std::size_t from, std::size_t to, std::vector<AnchorHit>& out) const {
  out.clear();
  to = std::min(to, data.size());
  if (from >= to) return;
  // A literal that starts before `to` ends at most longest - 1 bytes after it.
  const std::size_t end = std::min(data.size(), to + (longest_ > 0 ? longest_ - 1 : 0));
  find(data.substr(from, end - from), out);
  std::size_t kept = 0;
  for (const AnchorHit& h : out)
    if (h.at + from < to) out[kept++] = {h.detector, h.at + from};
  out.resize(kept);
}

}  // namespace keyward::scanner::detail
