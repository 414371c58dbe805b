// SPDX-License-Identifier: Apache-2.0
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_memo.hpp>

#include "item_scan.hpp"
#include "openssl/handles.hpp"
#include "walk/cached_source.hpp"
#include "walk/local_source.hpp"
#include "walk/walker.hpp"

#include <keyward/common/random.hpp>
#include <keyward/scanner/scan_cache.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace keyward::scanner {

std::vector<std::string> ScanOptions::default_trust_store_globs() {
  return {"/etc/ssl/certs/*",
          "/usr/share/ca-certificates/*",
          "/usr/local/share/ca-certificates/*",
          "/etc/ca-certificates/*",
          "/etc/pki/ca-trust/*",
          "/etc/pki/tls/certs/*",
          "/usr/share/pki/*",
          "*/lib/security/cacerts",
          "/etc/ssl/certs/java/cacerts",
          "*/certifi/cacert.pem",
          "*/pip/_vendor/certifi/cacert.pem",
          "/usr/lib/ssl/cert.pem",
          "/etc/ssl/cert.pem"};
}

std::vector<std::string> ScanOptions::default_exclude_globs() {
  return {"*/.git/objects",         "__pycache__",      "*/.ccache",         "*/.npm/_cacache",
          "*/.cache/pip",           "*/.cache/mozilla", "*/.cache/chromium", "*/.cache/google-chrome",
          "*/.cargo/registry/cache"};
}

std::string finding_id(std::string_view relative_path, std::string_view member, std::string_view identity,
                       std::uint64_t ordinal) {
  std::string material;
  material.reserve(relative_path.size() + member.size() + identity.size() + 24);
  material.append(relative_path).push_back('\0');
  material.append(member).push_back('\0');
  material.append(identity).push_back('\0');
  material.append(std::to_string(ordinal));
  return detail::sha256_hex(material).substr(0, 32);
}

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string random_id() { return common::random_hex(16); }

HostInfo host_info() {
  HostInfo h;
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  struct utsname u {};
  if (::uname(&u) == 0) h.os = std::string(u.sysname) + " " + u.release;
  std::ifstream os_release("/etc/os-release");
  std::string line;
  while (std::getline(os_release, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      h.os = v + " (" + h.os + ")";
    }
  }
  return h;
}

}  // namespace

void scan_buffer(std::string_view data, const std::string& path, const std::string& relative_path,
                 const FileFacts& facts, const ScanOptions& options, std::vector<Finding>& out, ScanStats& stats) {
  detail::ItemContext ctx;
  ctx.options = &options;
  ctx.path = path;
  ctx.relative_path = relative_path;
  ctx.facts = facts;
  detail::scan_top_item(data, std::move(ctx), out, stats);
}

namespace detail {

void scan_top_item(std::string_view data, ItemContext ctx, std::vector<Finding>& out, ScanStats& stats) {
  ++stats.files_scanned;
  stats.bytes_scanned += data.size();
  ArchiveBudget budget;
  budget.compressed = data.size();
  ctx.budget = &budget;
  scan_item(data, ctx, out, stats);
}

}  // namespace detail

void pair_findings(std::vector<Finding>& findings) {
  // SPKI -> findings holding that private key (a key file, or a store with that key entry) and
  // findings holding a certificate for it. A store's own key and certificate are paired inside
  // the store (StoreEntry carries both); across files they are linked here.
  std::unordered_map<std::string, std::vector<std::size_t>> keys, certs;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    if (f.kind == Kind::private_key) {
      if (const std::string spki = f.spki(); !spki.empty()) keys[spki].push_back(i);
    } else if (f.kind == Kind::certificate && !(f.certificate && f.certificate->trust_store)) {
      if (const std::string spki = f.spki(); !spki.empty()) certs[spki].push_back(i);
    } else if (f.kind == Kind::keystore && !(f.store && f.store->truststore)) {
      for (const auto& e : f.entries) {
        if (e.kind == Kind::private_key && e.key && !e.key->spki_sha256.empty()) keys[e.key->spki_sha256].push_back(i);
        else if (e.kind == Kind::certificate && e.certificate && !e.certificate->spki_sha256.empty())
          certs[e.certificate->spki_sha256].push_back(i);
      }
    }
  }
  for (const auto& [spki, key_idx] : keys) {
    auto it = certs.find(spki);
    if (it == certs.end()) continue;
    for (std::size_t k : key_idx) {
      for (std::size_t c : it->second) {
        if (k == c) continue;
        findings[k].paired_with.push_back(findings[c].id);
        findings[c].paired_with.push_back(findings[k].id);
      }
    }
  }
  for (auto& f : findings) {
    std::sort(f.paired_with.begin(), f.paired_with.end());
    f.paired_with.erase(std::unique(f.paired_with.begin(), f.paired_with.end()), f.paired_with.end());
  }
}

namespace detail {
namespace {

// Queues the roots (or the explicit file list) on the walker; returns how many can be walked.
// A root is stat-ed through the source (following a symlink); one that cannot be is an error of
// the result.
std::size_t add_roots(const ScanOptions& options, FileSource& source, Walker& walker, ScanResult& result) {
  std::size_t usable = 0;
  if (!options.files.empty()) {
    // An explicit list (keyward ci): every file is its own item, named relative to base_dir.
    std::string base = options.base_dir.empty() ? std::string(".") : options.base_dir;
    if (base.back() != '/') base += '/';
    for (const auto& rel : options.files) {
      ++result.stats.files_seen;
      walker.add_file(base + rel, rel, 0);
    }
    usable = options.files.size();
  }
  for (const auto& root : options.roots) {
    RootType type{};
    std::uint64_t dev = 0;
    int err = 0;
    if (!source.stat_root(root, type, dev, err)) {
      ++result.stats.errors;
      result.errors.push_back({root, std::string("cannot scan root: ") + std::strerror(err)});
      continue;
    }
    ++usable;
    if (type == RootType::directory) {
      walker.add_dir(root, dev);
    } else if (type == RootType::regular) {
      ++result.stats.files_seen;
      const auto slash = root.find_last_of('/');
      walker.add_file(root, slash == std::string::npos ? root : root.substr(slash + 1), dev);
    } else {
      ++result.stats.files_seen;
      count_skip(result.stats, SkipReason::special_file);
    }
  }
  return usable;
}

}  // namespace

ScanResult scan_source(const ScanOptions& given, FileSource& base) {
  // The caches of this scan (a store or certificate copied around is parsed once), unless the
  // caller keeps its own across scans.
  ScanMemo memo;
  ScanOptions options = given;
  if (options.memo == nullptr) options.memo = &memo;
  ScanResult result;
  result.tool_version = options.tool_version;
  result.host = host_info();
  result.scan_id = random_id();
  result.started_at = now_seconds();
  result.roots = options.roots;

  // The cache is a layer over the source: the walker asks it first.
  std::optional<CachedSource> cached;
  FileSource& source = options.cache != nullptr ? cached.emplace(base, *options.cache, options.cancel) : base;
  Walker walker(options, source);
  std::vector<WalkWorker> workers(options.threads != 0 ? options.threads
                                                       : std::max(1u, std::thread::hardware_concurrency()));
  if (add_roots(options, source, walker, result) == 0 && !options.roots.empty())
    throw std::runtime_error("no root could be scanned: " + result.errors.front().path + ": " +
                             result.errors.front().what);
  walker.run(workers);

  for (auto& w : workers) {
    merge(result.stats, w.stats);
    for (auto& e : w.errors)
      if (result.errors.size() < options.max_errors_listed) result.errors.push_back(std::move(e));
    std::move(w.findings.begin(), w.findings.end(), std::back_inserter(result.findings));
  }
  std::sort(result.findings.begin(), result.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.location.path != b.location.path) return a.location.path < b.location.path;
    if (a.location.member != b.location.member) return a.location.member < b.location.member;
    if (a.location.offset != b.location.offset) return a.location.offset < b.location.offset;
    return a.id < b.id;
  });
  pair_findings(result.findings);
  result.complete = !walker.cancelled();
  result.finished_at = now_seconds();
  return result;
}

}  // namespace detail

ScanResult scan(const ScanOptions& options) {
  detail::LocalSource local;
  return detail::scan_source(options, local);
}

}  // namespace keyward::scanner
