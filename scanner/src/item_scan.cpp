#include "item_scan.hpp"

#include "detectors/binary.hpp"
#include "detectors/parsers.hpp"
#include "file_source.hpp"
#include "nearby.hpp"
#include "openssl/handles.hpp"
#include "text_detect.hpp"

#include <fnmatch.h>
#include <openssl/err.h>

#include <algorithm>
#include <mutex>
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

// The passwords to try on a store at ctx: nearby ones first (files on disk only), then the
// empty password, then the common list.
PasswordSet passwords_for(const ItemContext& ctx) {
  const ScanOptions& o = *ctx.options;
  PasswordSet set;
  set.max_tries = o.password_max_tries;
  set.max_time = o.password_max_time;
  if (o.nearby_passwords && ctx.member.empty()) set.candidates = nearby_passwords(ctx.path);
  set.candidates.push_back({"", ""});
  for (const auto& p : o.passwords)
    if (!p.empty()) set.candidates.push_back({p, ""});
  return set;
}

// Opening a store costs one key derivation per password tried (10,000 PBKDF2 rounds for a
// keytool PKCS#12): the same store copied to several places (build outputs, backups) is opened
// once per scan. Keyed on the store's bytes and the nearby passwords offered to it.
class StoreMemo {
 public:
  template <class F>
  Result<Finding> get(std::string_view data, const PasswordSet& pw, F&& parse) {
    std::string key = sha256_hex(data) + "|" + std::to_string(pw.max_tries) + "|" + std::to_string(pw.max_time.count());
    for (const auto& c : pw.candidates) {
      key += '|';
      key += sha256_hex(c.password + '\0' + c.source);
    }
    key = sha256_hex(key);
    {
      std::lock_guard lock(mu_);
      if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    }
    Result<Finding> r = parse();
    std::lock_guard lock(mu_);
    if (memo_.size() < kMaxEntries) memo_.emplace(key, r);
    return r;
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  std::mutex mu_;
  std::unordered_map<std::string, Result<Finding>> memo_;
};

StoreMemo& store_memo() {
  static StoreMemo memo;
  return memo;
}

// The content of a PKCS#12 PFX begins with version INTEGER 3 right after the SEQUENCE header.
bool looks_pkcs12(std::span<const std::uint8_t> d) {
  if (d.size() < 8 || d[0] != 0x30) return false;
  std::size_t p = 2;
  if (d[1] & 0x80) p += d[1] & 0x7f;
  return p + 3 <= d.size() && d[p] == 0x02 && d[p + 1] == 0x01 && d[p + 2] == 0x03;
}

void add(Result<Finding> r, std::vector<Finding>& found, ScanStats& stats, const char* family) {
  if (r) found.push_back(std::move(*r));
  else if (r.error() != make_error_code(Errc::not_private) && r.error() != make_error_code(Errc::unsupported))
    ++stats.rejected[family];
}

// Binary formats announced by the head; returns true when the item was an archive we read.
bool detect_binary(std::string_view data, const ItemContext& ctx, std::vector<Finding>& found,
                   std::vector<Finding>& out, ScanStats& stats) {
  const auto b = bytes(data);
  const BinaryHead head = sniff_binary(b);
  if (head == BinaryHead::none) return false;  // most files: no OpenSSL call, nothing to clear
  struct ClearErrors {  // parsers may leave OpenSSL errors behind; never let them pile up
    ~ClearErrors() { ERR_clear_error(); }
  } clear;
  switch (head) {
    case BinaryHead::none:
      return false;
    case BinaryHead::der:
    case BinaryHead::pkcs12_or_der: {
      if (looks_pkcs12(b)) {
        const PasswordSet pw = passwords_for(ctx);
        auto r = store_memo().get(data, pw, [&] { return parse_pkcs12(b, pw); });
        if (r) {
          found.push_back(std::move(*r));
          return false;
        }
      }
      auto r = parse_der(b);
      if (r) std::move(r->begin(), r->end(), std::back_inserter(found));
      return false;
    }
    case BinaryHead::jks:
    case BinaryHead::jceks:
    {
      const PasswordSet pw = passwords_for(ctx);
      add(store_memo().get(data, pw, [&] { return parse_jks(b, pw); }), found, stats, "jks");
    }
      return false;
    case BinaryHead::pvk:
      add(parse_pvk(b), found, stats, "pvk");
      return false;
    case BinaryHead::snk:
      add(parse_snk(b), found, stats, "snk");
      return false;
    case BinaryHead::pgp_packets: {
      auto r = parse_pgp_keyring(b);
      if (r) {
        for (auto& f : *r) {
          f.format = Format::gpg_binary;
          f.rule = "private-key/gpg-binary";
          found.push_back(std::move(f));
        }
      }
      return false;
    }
    case BinaryHead::gpg_key_file:
      add(parse_gpg_key_file(b), found, stats, "gpg-key-file");
      return false;
    case BinaryHead::archive:
      if (!ctx.options->archives) return false;
      return scan_archive(data, ctx, out, stats);
  }
  return false;
}

}  // namespace

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
  const std::string owner = owner_name(ctx.facts.uid);
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
  detect_text(data, hits, stats.rejected);

  std::vector<Finding> binary;
  const bool was_archive = detect_binary(data, ctx, binary, out, stats);
  // An archive's members were scanned one by one: text hits in its raw bytes (a stored member)
  // would be the same keys again, without their member names.
  if (was_archive) hits.clear();

  std::size_t cursor = 0;
  std::uint64_t line = 1;
  for (auto& h : hits) h.line = line_at(data, h.offset, cursor, line);
  finish_item(hits, binary, ctx, out, stats);
  hits.clear();
  hits.swap(hits_buffer);
}

}  // namespace keyward::scanner::detail
