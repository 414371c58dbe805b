#include <keyward/scanner/scan_cache.hpp>

#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>

#include "openssl/handles.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace keyward::scanner {
namespace {

constexpr std::string_view kMagic = "keyward-cache v1 ";

}  // namespace

std::uint64_t ScanCache::path_hash(std::string_view path) {
  const std::string raw = detail::sha256_raw(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(path.data()), path.size()));
  std::uint64_t h = 0;
  std::memcpy(&h, raw.data(), sizeof h);
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
    if (std::sscanf(line.c_str(), "%llx %llu %llu %llu %lld %lld %llu", &hash, &dev, &ino, &size, &mtime, &ctime,
                    &count) != 7 || count > 100000) {
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
  return cache;
}

void ScanCache::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot write the scan cache " + tmp + ": " + std::strerror(errno) +
                             "; check that its directory exists and is writable");
  ::fchmod(fd, 0600);
  std::string out = std::string(kMagic) + fingerprint_ + "\n";
  {
    std::lock_guard lock(*mu_);
    for (const auto& [hash, e] : seen_) {
      char head[160];
      std::snprintf(head, sizeof head, "%016llx %llu %llu %llu %lld %lld %zu\n", static_cast<unsigned long long>(hash),
                    static_cast<unsigned long long>(e.key.dev), static_cast<unsigned long long>(e.key.ino),
                    static_cast<unsigned long long>(e.key.size), static_cast<long long>(e.key.mtime_ns),
                    static_cast<long long>(e.key.ctime_ns), e.findings.size());
      out += head;
      for (const auto& f : e.findings) out += f + "\n";
    }
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
  const std::uint64_t hash = path_hash(path);
  const auto it = old_.find(hash);
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
  std::lock_guard lock(*mu_);
  seen_[hash] = it->second;
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
