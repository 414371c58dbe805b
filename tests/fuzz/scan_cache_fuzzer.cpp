// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the scan cache file (ScanCache::parse in scanner/src/scan_cache.cpp): the
// fingerprint is taken from the input's own header, so a real cache file is a seed whose every
// byte can be mutated. Every record the bytes claim to hold is then looked up as a rescan would:
// the directory listings decoded, the files' findings and counts read back; what was found is
// then saved (the save's passes decode the listings again) and the saved file loaded back.
// Build with clang -fsanitize=fuzzer,address,undefined (KEYWARD_BUILD_FUZZERS=ON).
#include <keyward/scanner/scan_cache.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using keyward::scanner::ScanCache;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMagic = 17, kRecords = 120;  // "keyward-cache v7 ", head and counts
  const std::string fp = size >= kMagic + 64 ? bytes.substr(kMagic, 64) : std::string(64, '0');
  ScanCache cache = ScanCache::parse(bytes, fp);
  std::vector<keyward::scanner::CachedEntry> entries;
  std::vector<keyward::scanner::Finding> findings;
  keyward::scanner::ScanStats stats;
  std::size_t seen = 0;
  bool used = false;
  for (std::size_t at = kRecords, i = 0; at + sizeof(ScanCache::Record) <= size && i < 4096;
       at += sizeof(ScanCache::Record), ++i) {
    ScanCache::Record r;
    std::memcpy(&r, data + at, sizeof r);
    const keyward::scanner::FileKey key{r.dev, r.ino, r.size, r.mtime_ns, r.ctime_ns};
    if (cache.has_listing(r.hash) && cache.listing(r.hash, key, entries)) {
      used = true;
      for (const auto& e : entries) seen += e.name.size() + e.type + (e.file & 1);
    }
    used |= cache.reuse(r.hash, key, findings, stats, static_cast<std::uint32_t>(i));
    used |= cache.reuse(r.hash, key, findings, stats);
  }
  if (used) {
    const std::string path = "/tmp/keyward-scan-cache-fuzz-" + std::to_string(::getpid());
    cache.save(path);
    (void)ScanCache::load(path, fp);
    ::unlink(path.c_str());
  }
  return static_cast<int>(seen & 0);
}
