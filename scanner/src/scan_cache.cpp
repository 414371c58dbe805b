#include <keyward/scanner/scan_cache.hpp>

#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>

#include "openssl/handles.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace keyward::scanner {
namespace {

constexpr std::string_view kMagic = "keyward-cache v2 ";

}  // namespace

std::uint64_t ScanCache::path_hash(std::string_view path, std::uint64_t from) {
  // FNV-1a, 64 bits: a rescan hashes every path, and a cryptographic hash was 6% of it.
  std::uint64_t h = from;
  for (unsigned char c : path) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string ScanCache::fingerprint(const ScanOptions& o) {
  std::string material = o.tool_version;
  material += "|max_size=" + std::to_string(o.max_size);
  material += "|archives=" + std::to_string(o.archives);
  material += "|depth=" + std::to_string(o.archive_limits.max_depth);
  material += "|expanded=" + std::to_string(o.archive_limits.max_expanded);
  material += "|entries=" + std::to_string(o.archive_limits.max_entries);
  material += "|ratio=" + std::to_string(o.archive_limits.max_ratio);
  material += "|nearby=" + std::to_string(o.nearby_passwords);
  material += "|tries=" + std::to_string(o.password_max_tries);
  for (const auto& p : o.passwords) material += "|p=" + detail::sha256_hex(p);
  for (const auto& g : o.trust_store_globs) material += "|t=" + g;
  return detail::sha256_hex(material);
}

ScanCache ScanCache::load(const std::string& path, const std::string& fp) {
  ScanCache cache;
  cache.fingerprint_ = fp;
  std::ifstream in(path, std::ios::binary);
  if (!in) return cache;
  std::string line;
  if (!std::getline(in, line) || line != std::string(kMagic) + fp) return cache;  // other version/options
  while (std::getline(in, line)) {
    unsigned long long hash = 0, dev = 0, ino = 0, size = 0, count = 0;
    long long mtime = 0, ctime = 0;
    const char* p = line.c_str();
    char* end = nullptr;
    bool ok = true;
    auto next_u = [&](unsigned long long& v, int base) {
      errno = 0;
      v = std::strtoull(p, &end, base);
      ok = ok && end != p && errno == 0;
      p = end;
    };
    auto next_s = [&](long long& v) {
      errno = 0;
      v = std::strtoll(p, &end, 10);
      ok = ok && end != p && errno == 0;
      p = end;
    };
    next_u(hash, 16);
    next_u(dev, 10);
    next_u(ino, 10);
    next_u(size, 10);
    next_s(mtime);
    next_s(ctime);
    next_u(count, 10);
    if (!ok || *p != '\0' || count > 100000) {
      cache.old_.clear();  // corrupt: start over rather than trust part of it
      return cache;
    }
    Entry e;
    e.key = {dev, ino, size, mtime, ctime};
    for (unsigned long long i = 0; i < count; ++i) {
      if (!std::getline(in, line)) {
        cache.old_.clear();
        return cache;
      }
      e.findings.push_back(line);
    }
    cache.old_.emplace(hash, std::move(e));
  }
  cache.loaded_from_ = path;  // read whole and valid: save() may leave it as it is
  return cache;
}

void ScanCache::save(const std::string& path) const {
  {
    // A rescan that changed nothing (every remembered file seen unchanged, none new or gone)
    // leaves the file as it is: rewriting the same bytes was 8% of such a rescan.
    std::lock_guard lock(*mu_);
    if (!loaded_from_.empty() && loaded_from_ == path && seen_.empty() && !old_.empty() &&
        std::all_of(old_.begin(), old_.end(), [](const auto& kv) { return kv.second.reused; }))
      return;
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot write the scan cache " + tmp + ": " + std::strerror(errno) +
                             "; check that its directory exists and is writable");
  ::fchmod(fd, 0600);
  std::string out = std::string(kMagic) + fingerprint_ + "\n";
  {
    std::lock_guard lock(*mu_);
    auto write = [&](std::uint64_t hash, const Entry& e) {
      char head[160];
      std::snprintf(head, sizeof head, "%016llx %llu %llu %llu %lld %lld %zu\n", static_cast<unsigned long long>(hash),
                    static_cast<unsigned long long>(e.key.dev), static_cast<unsigned long long>(e.key.ino),
                    static_cast<unsigned long long>(e.key.size), static_cast<long long>(e.key.mtime_ns),
                    static_cast<long long>(e.key.ctime_ns), e.findings.size());
      out += head;
      for (const auto& f : e.findings) out += f + "\n";
    };
    for (const auto& [hash, e] : old_)
      if (e.reused && seen_.find(hash) == seen_.end()) write(hash, e);
    for (const auto& [hash, e] : seen_) write(hash, e);
  }
  std::size_t written = 0;
  while (written < out.size()) {
    const ssize_t n = ::write(fd, out.data() + written, out.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write the scan cache " + tmp + ": " + err);
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot replace the scan cache " + path + ": " + err);
  }
}

bool ScanCache::reuse(const std::string& path, const FileKey& key, std::vector<Finding>& out) {
  return reuse(path_hash(path), key, out);
}

bool ScanCache::reuse(std::uint64_t hash, const FileKey& key, std::vector<Finding>& out) {
  const auto it = old_.find(hash);  // old_ is not modified during a scan: lookups need no lock
  if (it == old_.end() || !(it->second.key == key)) return false;
  std::vector<Finding> found;
  for (const auto& line : it->second.findings) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("f")) return false;
    auto f = finding_from_json(j["f"]);
    if (!f) return false;
    f->identity = j.value("i", "");
    f->relative_path = j.value("r", "");
    f->paired_with.clear();  // pairing is redone over the whole scan
    found.push_back(std::move(*f));
  }
  std::move(found.begin(), found.end(), std::back_inserter(out));
  it->second.reused = true;
  return true;
}

void ScanCache::store(const std::string& path, const FileKey& key, const std::vector<Finding>& findings) {
  Entry e;
  e.key = key;
  for (const auto& f : findings) {
    Finding copy = f;
    copy.paired_with.clear();
    nlohmann::json j = {{"f", to_json(copy)}, {"i", f.identity}, {"r", f.relative_path}};
    e.findings.push_back(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  std::lock_guard lock(*mu_);
  seen_[path_hash(path)] = std::move(e);
}

}  // namespace keyward::scanner
