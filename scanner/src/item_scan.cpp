// SPDX-License-Identifier: Apache-2.0
#include "item_scan.hpp"

#include "detectors/bare_der.hpp"
#include "detectors/detector.hpp"
#include "detectors/memo.hpp"
#include "file_source.hpp"
#include "text_detect.hpp"

#include <keyward/scanner/scan_memo.hpp>

#include <fnmatch.h>
#include <openssl/err.h>

#include <algorithm>
#include <span>
#include <unordered_map>

namespace keyward::scanner::detail {
namespace {

// How many self-signed CA certificates (and no private key) make a file a trust bundle.
constexpr std::size_t kTrustBundleRoots = 5;

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool matches_any(const std::vector<std::string>& globs, const std::string& path) {
  for (const auto& g : globs)
    if (::fnmatch(g.c_str(), path.c_str(), 0) == 0) return true;
  return false;
}

std::uint64_t line_at(std::string_view data, std::size_t offset, std::size_t& cursor, std::uint64_t& line) {
  offset = std::min(offset, data.size());
  if (offset < cursor) {
    cursor = 0;
    line = 1;
  }
  line += static_cast<std::uint64_t>(std::count(data.begin() + static_cast<std::ptrdiff_t>(cursor),
                                                data.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
  cursor = offset;
  return line;
}

// Binary formats announced by the head, each offered to the detectors whose head accepts it
// until one takes it; returns true when the item was an archive whose members were scanned.
bool detect_binary(const DetectContext& context, std::string_view data, const ItemContext& ctx,
                   std::vector<Finding>& found, std::vector<Finding>& out, ScanStats& stats) {
  const DetectorRegistry& registry = context.registry();
  const auto b = bytes(data);
  const Detector* d = registry.sniff(b, b.size(), ctx.options);
  if (d == nullptr) return false;  // most files: no OpenSSL call, nothing to clear
  struct ClearErrors {             // parsers may leave OpenSSL errors behind; never let them pile up
    ~ClearErrors() { ERR_clear_error(); }
  } clear;
  BinaryItem item{data, ctx, context, found, out, stats};
  for (; d != nullptr; d = registry.sniff(b, b.size(), ctx.options, d))
    if (d->binary(item)) break;
  return item.members_scanned;
}

}  // namespace

std::string owner_of(const ItemContext& ctx) {
  if (!ctx.local || !ctx.facts.owner.empty()) return ctx.facts.owner;
  const std::uint32_t uid = ctx.facts.uid;
  if (ctx.options->memo == nullptr) return owner_name(uid);
  return ctx.options->memo->memos().owners.get(uid, [uid] { return owner_name(uid); });
}

void finish_item(std::vector<TextHit>& hits, std::vector<Finding>& binary, const ItemContext& ctx,
                 std::vector<Finding>& out, ScanStats& stats) {
  if (hits.empty() && binary.empty()) return;
  const ScanOptions& o = *ctx.options;
  bool in_trust_store = matches_any(o.trust_store_globs, ctx.path);
  if (!in_trust_store) {
    // A vendored CA bundle (botocore's cacert.pem, grpc's roots.pem, httplib2's cacerts.txt):
    // many self-signed CA certificates and no private key. A trust store wherever it is.
    std::size_t roots = 0;
    bool has_private = false;
    for (const auto& h : hits) {
      if (h.finding.kind == Kind::private_key) has_private = true;
      if (h.finding.certificate && h.finding.certificate->is_ca && h.finding.certificate->self_signed) ++roots;
    }
    in_trust_store = !has_private && roots >= kTrustBundleRoots;
  }
  std::unordered_map<std::string, std::uint64_t> ordinals;
  const std::string owner = owner_of(ctx);
  auto finish = [&](Finding f, std::size_t offset, std::uint64_t line) {
    f.location.path = ctx.path;
    f.location.member = ctx.member;
    f.location.offset = offset;
    f.location.line = line;
    f.file = ctx.facts;
    f.file.owner = owner;
    f.relative_path = ctx.relative_path;
    if (f.certificate && in_trust_store) {
      f.certificate->trust_store = true;
      ++stats.trust_store_certificates;
    }
    if (f.store && in_trust_store && !f.holds_private_key()) f.store->truststore = true;
    if (f.store && f.store->truststore) {
      // A trust store's certificates are inventory, like those in /etc/ssl/certs.
      for (auto& e : f.entries)
        if (e.certificate) e.certificate->trust_store = true;
    }
    f.id = finding_id(ctx.relative_path, ctx.member, f.identity, ordinals[f.identity]++);
    out.push_back(std::move(f));
  };
  for (auto& h : hits) finish(std::move(h.finding), h.offset, h.line);
  for (auto& f : binary) finish(std::move(f), 0, 0);
}

void scan_item(std::string_view data, const ItemContext& ctx, std::vector<Finding>& out, ScanStats& stats) {
  thread_local std::vector<TextHit> hits_buffer;
  std::vector<TextHit> hits;
  hits.swap(hits_buffer);  // reuse capacity; recursion into archives gets its own vector
  hits.clear();
  const DetectContext context(*ctx.options);
  detect_text(context, data, hits, stats.rejected);

  std::vector<Finding> binary;
  const bool was_archive = detect_binary(context, data, ctx, binary, out, stats);
  // An archive's members were scanned one by one: text hits in its raw bytes (a stored member)
  // would be the same keys again, without their member names.
  if (was_archive) hits.clear();
  // A key store's entries (an unencrypted PKCS#12 key bag) are its detector's: the same key found
  // as raw DER inside the store's bytes would be reported twice.
  if (std::any_of(binary.begin(), binary.end(), [](const Finding& f) { return f.kind == Kind::keystore; }))
    std::erase_if(hits, [](const TextHit& h) { return h.finding.encoding == bare_der::kEncodingEmbedded; });

  std::size_t cursor = 0;
  std::uint64_t line = 1;
  for (auto& h : hits) h.line = line_at(data, h.offset, cursor, line);
  finish_item(hits, binary, ctx, out, stats);
  hits.clear();
  hits.swap(hits_buffer);
}

}  // namespace keyward::scanner::detail
