// SPDX-License-Identifier: Apache-2.0
#include <keyward/scanner/scan_cache.hpp>

#include <keyward/common/atomic_file.hpp>

#include <keyward/scanner/scan.hpp>

#include "finding_codec.hpp"
#include "openssl/handles.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace keyward::scanner {
namespace {

// Layout: the magic and fingerprint on a text line padded with NULs to kHead bytes, then four
// counts (files, directories, bytes of names, bytes of findings), the file records (in the order
// the directories list them, so that a rescan reads them in sequence), the directory records
// (sorted by hash), the names (per entry: its d_type byte, the index of its file record or
// kNoFile, the name and a NUL) and the findings (per file: their count, each in finding_codec's
// form, then the counts its scan made). Native byte order: a cache belongs to one host.
constexpr std::string_view kMagic = "keyward-cache v9 ";
constexpr std::size_t kHead = 88;  // kMagic, 64 hex digits, a newline, padding to 8 bytes
constexpr std::size_t kCounts = 4 * sizeof(std::uint64_t);
constexpr std::size_t kEntryHead = 1 + sizeof(std::uint32_t);
static_assert(sizeof(ScanCache::Record) == 64);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first kHead bytes of a cache file for this fingerprint.
std::string head_of(const std::string& fingerprint) {
  std::string head = std::string(kMagic) + fingerprint + "\n";
  head.resize(kHead, '\0');
  return head;
}

void append_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

bool same_key(const ScanCache::Record& r, const FileKey& k) {
  return r.dev == k.dev && r.ino == k.ino && r.size == k.size && r.mtime_ns == k.mtime_ns && r.ctime_ns == k.ctime_ns;
}

ScanCache::Record record_of(std::uint64_t hash, const FileKey& k) {
  ScanCache::Record r;
  r.hash = hash;
  r.dev = k.dev;
  r.ino = k.ino;
  r.size = k.size;
  r.mtime_ns = k.mtime_ns;
  r.ctime_ns = k.ctime_ns;
  return r;
}

void append_entry(std::string& out, unsigned char type, std::uint32_t file, std::string_view name) {
  out.push_back(static_cast<char>(type));
  out.append(reinterpret_cast<const char*>(&file), sizeof file);
  out.append(name);
  out.push_back('\0');
}

// The counts a file's scan made, after its findings: rejected and skipped (each a count of
// names, then name and number), then trust-store certificates.
void write_counts(const ScanStats& stats, std::string& out) {
  for (const auto* m : {&stats.rejected, &stats.skipped}) {
    detail::put_uint(out, m->size());
    for (const auto& [k, v] : *m) {
      detail::put_string(out, k);
      detail::put_uint(out, v);
    }
  }
  detail::put_uint(out, stats.trust_store_certificates);
}

// Whether nothing is at `path` (or an empty file), or a file that starts as every cache file of
// any version does.
bool is_cache_or_absent(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT;
  constexpr std::string_view kAnyVersion = "keyward-cache v";
  char head[kAnyVersion.size()];
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return n == 0 || (n == static_cast<ssize_t>(sizeof head) && std::string_view(head, sizeof head) == kAnyVersion);
}

bool read_counts(std::string_view& in, ScanStats& out) {
  for (auto* m : {&out.rejected, &out.skipped}) {
    std::uint64_t n = 0;
    if (!detail::get_uint(in, n) || n > in.size()) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string k;
      std::uint64_t v = 0;
      if (!detail::get_string(in, k) || !detail::get_uint(in, v)) return false;
      (*m)[k] += v;
    }
  }
  return detail::get_uint(in, out.trust_store_certificates);
}

}  // namespace

std::uint64_t ScanCache::path_hash(std::string_view path, std::uint64_t from) {
  // FNV-1a, 64 bits: a rescan hashes every path, and a cryptographic hash was 6% of it. A
  // collision costs a rescan, never a wrong result: a hit must also match device and inode.
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
  for (const auto& p : o.passwords) material += "|p=" + detail::sha256_hex(p.bytes());
  for (const auto& g : o.trust_store_globs) material += "|t=" + g;
  return detail::sha256_hex(material);
}

ScanCache ScanCache::empty(const std::string& fp) {
  ScanCache cache;
  cache.fingerprint_ = fp;
  cache.started_ns_ = now_ns();
  cache.dir_index_.assign(3, 0);
  return cache;
}

ScanCache ScanCache::parse(std::string bytes, const std::string& fp) {
  auto buffer = std::make_unique_for_overwrite<std::uint64_t[]>(bytes.size() / 8 + 1);
  std::memcpy(buffer.get(), bytes.data(), bytes.size());
  return from_buffer(std::move(buffer), bytes.size(), fp);
}

ScanCache ScanCache::from_buffer(std::unique_ptr<std::uint64_t[]> buffer, std::size_t size, const std::string& fp) {
  ScanCache cache = empty(fp);
  const char* base = reinterpret_cast<const char*>(buffer.get());
  if (fp.size() != 64 || size < kHead + kCounts || std::string_view(base, kHead) != head_of(fp))
    return cache;  // absent, another version or other options
  const std::uint64_t* counts = buffer.get() + kHead / 8;
  const std::uint64_t n_files = counts[0], n_dirs = counts[1], n_names = counts[2], n_findings = counts[3];
  const std::uint64_t rest = size - kHead - kCounts, rec = sizeof(Record);
  // Each count is checked against what is left before it is multiplied: a corrupt count
  // cannot overflow the sum.
  if (n_files > rest / rec || n_dirs > (rest - n_files * rec) / rec) return cache;
  const std::uint64_t areas = rest - (n_files + n_dirs) * rec;
  if (n_names > areas || n_findings != areas - n_names) return cache;
  const std::size_t at = kHead + kCounts;
  const Record* files = reinterpret_cast<const Record*>(base + at);
  const Record* dirs = files + n_files;
  // Directories are looked up on every rescan: index them on the top bits of their hashes.
  const unsigned bits = std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(n_dirs)), 1, 20);
  std::vector<std::uint32_t> index((std::size_t{1} << bits) + 1, 0);
  for (std::size_t i = 0; i < n_dirs; ++i) {
    if (i != 0 && dirs[i - 1].hash > dirs[i].hash) return cache;  // corrupt: start over
    ++index[(dirs[i].hash >> (64 - bits)) + 1];
  }
  for (std::size_t b = 1; b < index.size(); ++b) index[b] += index[b - 1];
  cache.bytes_ = std::move(buffer);
  cache.files_ = files;
  cache.dirs_ = dirs;
  cache.n_files_ = n_files;
  cache.n_dirs_ = n_dirs;
  cache.names_ = std::string_view(base + at + (n_files + n_dirs) * rec, n_names);
  cache.findings_ = std::string_view(cache.names_.data() + n_names, n_findings);
  cache.dir_index_ = std::move(index);
  cache.dir_shift_ = 64 - bits;
  cache.file_used_ = std::make_unique<std::atomic<bool>[]>(n_files);
  cache.dir_used_ = std::make_unique<std::atomic<bool>[]>(n_dirs);
  return cache;
}

ScanCache ScanCache::load(const std::string& path, const std::string& fp) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return empty(fp);
  struct stat st {};
  std::size_t size = 0, got = 0;
  std::unique_ptr<std::uint64_t[]> buffer;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) >= kHead;
  if (ok) {
    size = static_cast<std::size_t>(st.st_size);
    buffer = std::make_unique_for_overwrite<std::uint64_t[]>(size / 8 + 1);  // read into, not zeroed
    // The head first: a file of another version or options, or not a cache at all, is not read.
    ok = ::pread(fd, buffer.get(), kHead, 0) == static_cast<ssize_t>(kHead) &&
         std::string_view(reinterpret_cast<const char*>(buffer.get()), kHead) == head_of(fp);
    got = ok ? kHead : 0;
    while (ok && got < size) {
      const ssize_t n = ::pread(fd, reinterpret_cast<char*>(buffer.get()) + got, size - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) got += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  if (!ok) return empty(fp);
  ScanCache cache = from_buffer(std::move(buffer), size, fp);
  if (cache.n_files_ != 0 || cache.n_dirs_ != 0) cache.loaded_from_ = path;
  return cache;
}

// The remembered directory of this hash (and key, when given).
const ScanCache::Record* ScanCache::find_dir(std::uint64_t hash, const FileKey* key) const {
  const std::size_t b = hash >> dir_shift_;
  if (b + 1 >= dir_index_.size()) return nullptr;
  for (std::uint32_t i = dir_index_[b]; i < dir_index_[b + 1] && dirs_[i].hash <= hash; ++i)
    if (dirs_[i].hash == hash && (key == nullptr || same_key(dirs_[i], *key))) return &dirs_[i];
  return nullptr;
}

bool ScanCache::has_listing(std::uint64_t hash) const { return find_dir(hash, nullptr) != nullptr; }

const ScanCache::Record* ScanCache::find_file(std::uint64_t hash, const FileKey& key) const {
  std::call_once(*file_index_once_, [this] {
    file_index_.reserve(n_files_);
    for (std::size_t i = 0; i < n_files_; ++i) file_index_.emplace_back(files_[i].hash, static_cast<std::uint32_t>(i));
    std::sort(file_index_.begin(), file_index_.end());
  });
  auto it = std::lower_bound(file_index_.begin(), file_index_.end(), std::make_pair(hash, std::uint32_t{0}));
  for (; it != file_index_.end() && it->first == hash; ++it)
    if (same_key(files_[it->second], key)) return &files_[it->second];
  return nullptr;
}

bool ScanCache::decode_listing(std::string_view names, const Record& r, std::vector<CachedEntry>& out) {
  out.clear();
  if (r.offset > names.size() || r.length > names.size() - r.offset) return false;
  std::string_view area = names.substr(r.offset, r.length);
  for (std::uint32_t i = 0; i < r.count; ++i) {
    if (area.size() < kEntryHead + 2) return false;
    const auto end = area.find('\0', kEntryHead);
    if (end == std::string_view::npos) return false;
    CachedEntry e;
    e.type = static_cast<unsigned char>(area[0]);
    std::memcpy(&e.file, area.data() + 1, sizeof e.file);
    e.name = area.substr(kEntryHead, end - kEntryHead);
    // A name is one path component: a damaged cache must not lead the walk out of its tree.
    if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string_view::npos) return false;
    out.push_back(e);
    area.remove_prefix(end + 1);
  }
  return area.empty();
}

bool ScanCache::listing(std::uint64_t dir_hash, const FileKey& key, std::vector<CachedEntry>& out) {
  const Record* r = find_dir(dir_hash, &key);
  if (r == nullptr || !decode_listing(names_, *r, out)) return false;
  dir_used_[static_cast<std::size_t>(r - dirs_)].store(true, std::memory_order_relaxed);
  return true;
}

void ScanCache::add(std::uint64_t hash, const FileKey& key, std::string_view data, std::uint32_t count, bool dir) {
  Shard& shard = shards_[hash % kShards];
  std::lock_guard lock(shard.mu);
  std::string& arena = dir ? shard.dir_data : shard.file_data;
  Record r = record_of(hash, key);
  r.offset = arena.size();
  r.length = static_cast<std::uint32_t>(data.size());
  r.count = count;
  arena.append(data);
  (dir ? shard.dirs : shard.files).push_back(r);
}

void ScanCache::store_listing(std::uint64_t dir_hash, const FileKey& key, const std::vector<CachedEntry>& entries) {
  std::string data;
  for (const auto& e : entries) append_entry(data, e.type, CachedEntry::kNoFile, e.name);
  add(dir_hash, key, data, static_cast<std::uint32_t>(entries.size()), true);
}

bool ScanCache::reuse(const std::string& path, const FileKey& key, std::vector<Finding>& out, ScanStats& stats) {
  return reuse(path_hash(path), key, out, stats);
}

bool ScanCache::reuse(std::uint64_t hash, const FileKey& key, std::vector<Finding>& out, ScanStats& stats,
                      std::uint32_t hint) {
  const Record* r = hint < n_files_ && files_[hint].hash == hash && same_key(files_[hint], key) ? &files_[hint]
                                                                                                : find_file(hash, key);
  if (r == nullptr || r->offset > findings_.size() || r->length > findings_.size() - r->offset) return false;
  std::string_view area = findings_.substr(r->offset, r->length);
  std::uint64_t n = 0;
  if (!area.empty() && (!detail::get_uint(area, n) || n > area.size())) return false;
  std::vector<Finding> found;  // grown as findings decode, not allocated from the count
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!detail::decode_finding(area, found.emplace_back())) return false;
    found.back().paired_with.clear();  // pairing is redone over the whole scan
  }
  ScanStats counts;
  if (r->length != 0 && (!read_counts(area, counts) || !area.empty())) return false;
  std::move(found.begin(), found.end(), std::back_inserter(out));
  for (const auto& [k, v] : counts.rejected) stats.rejected[k] += v;
  for (const auto& [k, v] : counts.skipped) stats.skipped[k] += v;
  stats.trust_store_certificates += counts.trust_store_certificates;
  file_used_[static_cast<std::size_t>(r - files_)].store(true, std::memory_order_relaxed);
  return true;
}

void ScanCache::store(const std::string& path, const FileKey& key, const std::vector<Finding>& findings,
                      const ScanStats& stats) {
  // A file that held nothing (most) takes no bytes: its record says it all.
  std::string data;
  if (!findings.empty() || !stats.rejected.empty() || !stats.skipped.empty() || stats.trust_store_certificates != 0) {
    detail::put_uint(data, findings.size());
    for (const auto& f : findings) {
      Finding copy = f;
      copy.paired_with.clear();
      detail::encode_finding(copy, data);
    }
    write_counts(stats, data);
  }
  add(path_hash(path), key, data, static_cast<std::uint32_t>(findings.size()), false);
}

std::string_view ScanCache::data_of(const Ref& r, bool dir) const {
  const Record& rec = ref_record(r, dir);
  const std::string_view area = r.src == kOld
                                    ? (dir ? names_ : findings_)
                                    : std::string_view(dir ? shards_[r.src].dir_data : shards_[r.src].file_data);
  return area.substr(rec.offset, rec.length);
}

const ScanCache::Record& ScanCache::ref_record(const Ref& r, bool dir) const {
  if (r.src == kOld) return (dir ? dirs_ : files_)[r.index];
  return (dir ? shards_[r.src].dirs : shards_[r.src].files)[r.index];
}

// What save() writes: the files and directories kept, the files numbered in the order their
// directories list them (the rest after), and the sizes of the areas.
struct ScanCache::SavePlan {
  std::vector<Ref> files, dirs;         // by hash, one a hash
  std::vector<std::uint32_t> index_of;  // file -> its number in the file written
  std::vector<std::uint32_t> order;     // number -> file
  std::vector<std::uint32_t> listing_bytes;
  std::vector<bool> keep_dir;
  std::uint64_t names_size = 0, findings_size = 0;
  std::size_t n_dirs = 0;

  // The file of this hash, or files.size().
  std::size_t file_of(std::uint64_t hash) const {
    auto it =
        std::lower_bound(files.begin(), files.end(), hash, [](const Ref& r, std::uint64_t h) { return r.hash < h; });
    return it != files.end() && it->hash == hash ? static_cast<std::size_t>(it - files.begin()) : files.size();
  }
};

// The cache file being written: through one 1 MiB buffer (the joined file was as large again at
// the peak) into an AtomicFile, put in place once it reached the disk.
class ScanCache::Writer {
 public:
  explicit Writer(const std::string& path) : file_(open(path)) {}

  void put(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= (1u << 20)) flush();
  }
  void put_record(const Record& r) { put(std::string_view(reinterpret_cast<const char*>(&r), sizeof r)); }
  // Flushes, syncs (a full disk may only show here) and puts the file in place.
  void commit() {
    flush();
    file_.commit();
  }

 private:
  static common::AtomicFile open(const std::string& path) {
    try {
      return common::AtomicFile(path, 0600);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string("cannot write the scan cache: ") + e.what() +
                               "; check that its directory exists and is writable");
    }
  }
  void flush() {
    file_.write(buffer_);
    buffer_.clear();
  }

  common::AtomicFile file_;
  std::string buffer_;
};

// A rescan that changed nothing (every remembered file and directory seen unchanged, none new
// or gone) leaves the file as it is: rewriting the same bytes was 8% of such a rescan.
bool ScanCache::unchanged_since_load(const std::string& path) const {
  if (loaded_from_.empty() || loaded_from_ != path) return false;
  for (std::size_t i = 0; i < kShards; ++i)
    if (!shards_[i].files.empty() || !shards_[i].dirs.empty()) return false;
  auto all_used = [](const std::unique_ptr<std::atomic<bool>[]>& used, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (!used[i].load(std::memory_order_relaxed)) return false;
    return true;
  };
  return all_used(file_used_, n_files_) && all_used(dir_used_, n_dirs_);
}

// What is kept: every remembered entry seen unchanged, and every new one but those seen in the
// tick they changed; a new one replaces a remembered one of the same path. Only references
// (16 bytes each) are gathered: records and bytes are copied straight to the file.
std::vector<ScanCache::Ref> ScanCache::gather(bool dir) const {
  const std::int64_t racy_from = started_ns_ - kRacyNs;
  std::vector<Ref> refs;
  for (std::uint32_t s = 0; s < kShards; ++s) {
    const auto& recs = dir ? shards_[s].dirs : shards_[s].files;
    for (std::uint32_t i = 0; i < recs.size(); ++i)
      if (std::max(recs[i].mtime_ns, recs[i].ctime_ns) < racy_from) refs.push_back({recs[i].hash, s, i});
  }
  const auto& used = dir ? dir_used_ : file_used_;
  const Record* old = dir ? dirs_ : files_;
  for (std::uint32_t i = 0; i < (dir ? n_dirs_ : n_files_); ++i)
    if (used[i].load(std::memory_order_relaxed)) refs.push_back({old[i].hash, kOld, i});
  // By hash, new before remembered, then one a hash (a new look supersedes the old one).
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    return a.hash != b.hash ? a.hash < b.hash : (a.src != kOld && b.src == kOld);
  });
  refs.erase(std::unique(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.hash == b.hash; }),
             refs.end());
  return refs;
}

// A directory's entries, decoded again per pass (no copy of every name is kept).
bool ScanCache::listing_of(const Ref& d, std::vector<CachedEntry>& entries) const {
  Record r = ref_record(d, true);
  r.offset = 0;
  return decode_listing(data_of(d, true), r, entries);
}

// Pass 1: number the files in the order their directories list them (the rest after), and size
// the areas.
ScanCache::SavePlan ScanCache::plan() const {
  SavePlan p;
  p.files = gather(false);
  p.dirs = gather(true);
  p.index_of.assign(p.files.size(), CachedEntry::kNoFile);
  p.order.reserve(p.files.size());
  p.listing_bytes.assign(p.dirs.size(), 0);
  p.keep_dir.assign(p.dirs.size(), false);
  auto number = [&](std::size_t f) {
    if (p.index_of[f] != CachedEntry::kNoFile) return;
    p.index_of[f] = static_cast<std::uint32_t>(p.order.size());
    p.order.push_back(static_cast<std::uint32_t>(f));
    p.findings_size += ref_record(p.files[f], false).length;
  };
  std::vector<CachedEntry> entries;
  for (std::size_t d = 0; d < p.dirs.size(); ++d) {
    if (!listing_of(p.dirs[d], entries)) continue;  // a listing that does not decode is dropped
    p.keep_dir[d] = true;
    ++p.n_dirs;
    for (const auto& e : entries) {
      if (e.type == DT_REG)
        if (const std::size_t f = p.file_of(path_hash(e.name, p.dirs[d].hash)); f < p.files.size()) number(f);
      p.listing_bytes[d] += static_cast<std::uint32_t>(kEntryHead + e.name.size() + 1);
    }
    p.names_size += p.listing_bytes[d];
  }
  for (std::size_t f = 0; f < p.files.size(); ++f) number(f);  // files given as roots, or in dirs not kept
  return p;
}

// Passes 2 to 5: the file records, the directory records, the names (with their files'
// numbers) and what the files held.
void ScanCache::write_areas(const SavePlan& p, Writer& out) const {
  std::uint64_t offset = 0;
  for (std::uint32_t f : p.order) {
    Record r = ref_record(p.files[f], false);
    r.offset = offset;
    offset += r.length;
    out.put_record(r);
  }
  offset = 0;
  for (std::size_t d = 0; d < p.dirs.size(); ++d) {
    if (!p.keep_dir[d]) continue;
    Record r = ref_record(p.dirs[d], true);
    r.offset = offset;
    r.length = p.listing_bytes[d];
    offset += r.length;
    out.put_record(r);
  }
  std::vector<CachedEntry> entries;
  std::string entry;
  for (std::size_t d = 0; d < p.dirs.size(); ++d) {
    if (!p.keep_dir[d] || !listing_of(p.dirs[d], entries)) continue;
    for (const auto& e : entries) {
      std::uint32_t index = CachedEntry::kNoFile;
      if (e.type == DT_REG)
        if (const std::size_t f = p.file_of(path_hash(e.name, p.dirs[d].hash)); f < p.files.size())
          index = p.index_of[f];
      entry.clear();
      append_entry(entry, e.type, index, e.name);
      out.put(entry);
    }
  }
  for (std::uint32_t f : p.order) out.put(data_of(p.files[f], false));
}

void ScanCache::save(const std::string& path) const {
  std::vector<std::unique_lock<std::mutex>> locks;
  for (std::size_t i = 0; i < kShards; ++i) locks.emplace_back(shards_[i].mu);
  if (unchanged_since_load(path)) return;
  const SavePlan p = plan();
  // --cache pointed at some other file by mistake must not cost the user that file.
  if (!is_cache_or_absent(path))
    throw std::runtime_error("not writing the scan cache: " + path +
                             " exists and is not a keyward cache file; give --cache a new path");
  Writer out(path);
  std::string head = head_of(fingerprint_);
  append_u64(head, p.order.size());
  append_u64(head, p.n_dirs);
  append_u64(head, p.names_size);
  append_u64(head, p.findings_size);
  out.put(head);
  write_areas(p, out);
  out.commit();
}

}  // namespace keyward::scanner
