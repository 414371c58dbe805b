// SPDX-License-Identifier: Apache-2.0
#include "walk/walker.hpp"

#include "file_scan.hpp"

#include <boost/core/demangle.hpp>

#include <dirent.h>
#include <fnmatch.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <thread>
#include <typeinfo>

namespace keyward::scanner::detail {
namespace {

constexpr std::size_t kMaxQueuedFiles = 4096;
// A worker keeps a buffer that holds a window (file_scan.hpp), or a whole file below the
// window threshold, plus the byte that notices growth: large text files cost no allocation.
constexpr std::size_t kKeepBuffer = kWindowLayout.size + 1;
static_assert(kWindowThreshold + 1 <= kKeepBuffer);
// Whole reads (files up to the window threshold, large archives and stores) and windows share
// this: four windows, or a few files, at once. A file larger than it is read alone.
constexpr std::uint64_t kBufferBudget = 32ull << 20;

// Whether base + name ends with suffix, without joining them.
bool joined_ends_with(std::string_view base, std::string_view name, std::string_view suffix) {
  if (suffix.size() <= name.size()) return name.substr(name.size() - suffix.size()) == suffix;
  const std::size_t from_base = suffix.size() - name.size();
  return base.size() >= from_base && suffix.substr(from_base) == name &&
         base.substr(base.size() - from_base) == suffix.substr(0, from_base);
}

std::string joined_rel(const std::string& dir_rel, std::string_view name) {
  return dir_rel.empty() ? std::string(name) : dir_rel + "/" + std::string(name);
}

}  // namespace

std::vector<Glob> compile_globs(const std::vector<std::string>& patterns) {
  std::vector<Glob> out;
  for (const auto& p : patterns) {
    if (p.empty()) continue;
    Glob g;
    g.on_name = p.find('/') == std::string::npos;
    g.pattern = p;
    // "dir/sub" means anywhere in the tree, as .gitignore users expect; "/abs" is anchored.
    if (!g.on_name && p[0] != '/' && p[0] != '*') g.pattern = "*/" + p;
    while (g.pattern.size() > 1 && g.pattern.back() == '/') g.pattern.pop_back();
    g.literal = g.pattern.find_first_of("*?[\\") == std::string::npos;
    g.suffix = !g.on_name && g.pattern.size() > 2 && g.pattern.compare(0, 2, "*/") == 0 &&
               g.pattern.find_first_of("*?[\\", 2) == std::string::npos;
    if (g.suffix) g.pattern.erase(0, 1);  // keep "/rest"
    out.push_back(std::move(g));
  }
  return out;
}

bool matches(const std::vector<Glob>& globs, std::string_view base, std::string_view name) {
  for (const auto& g : globs) {
    if (g.on_name) {
      if (g.literal ? name == g.pattern : ::fnmatch(g.pattern.c_str(), std::string(name).c_str(), 0) == 0) return true;
    } else if (g.suffix) {
      if (joined_ends_with(base, name, g.pattern)) return true;
    } else {
      std::string path(base);
      path += name;
      if (g.literal ? path == g.pattern : ::fnmatch(g.pattern.c_str(), path.c_str(), 0) == 0) return true;
    }
  }
  return false;
}

std::string describe_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return "out of memory while scanning it; the scan went on without it";
  } catch (const std::exception& ex) {
    return "internal error while scanning it (" + boost::core::demangle(typeid(ex).name()) +
           "); the scan went on without it";
  } catch (...) {
    return "internal error while scanning it (unknown exception); the scan went on without it";
  }
}

void merge(ScanStats& into, const ScanStats& from) {
  into.files_seen += from.files_seen;
  into.files_scanned += from.files_scanned;
  into.files_cached += from.files_cached;
  into.bytes_scanned += from.bytes_scanned;
  into.dirs_seen += from.dirs_seen;
  into.dirs_cached += from.dirs_cached;
  into.errors += from.errors;
  into.trust_store_certificates += from.trust_store_certificates;
  into.archives += from.archives;
  into.archive_members += from.archive_members;
  for (const auto& [k, v] : from.skipped) into.skipped[k] += v;
  for (const auto& [k, v] : from.rejected) into.rejected[k] += v;
}

Walker::Walker(const ScanOptions& o, FileSource& source)
    : opts_(o),
      source_(source),
      mounts_(source.mount_table(o.skip_pseudo_fs, o.skip_network_fs)),
      excludes_(compile_globs(o.excludes)),
      budget_(kBufferBudget) {
  if (o.default_excludes) {
    auto d = compile_globs(ScanOptions::default_exclude_globs());
    excludes_.insert(excludes_.end(), d.begin(), d.end());
  }
}

void Walker::add_dir(std::string path, std::uint64_t dev) {
  queue_.push_back({std::move(path), "", true, dev, nullptr, 0, true, {}});
}

void Walker::add_file(std::string path, std::string rel, std::uint64_t dev) {
  queue_.push_back({std::move(path), std::move(rel), false, dev, nullptr, 0, true, {}});
}

void Walker::run(std::vector<WalkWorker>& workers) {
  pending_ = queue_.size();
  workers_ = static_cast<unsigned>(std::max<std::size_t>(1, workers.size()));
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& w : workers) threads.emplace_back([this, &w] { loop(w); });
  for (auto& t : threads) t.join();
}

bool Walker::cancelled() const noexcept {
  return (opts_.cancel != nullptr && opts_.cancel->load(std::memory_order_relaxed)) || source_.stopped();
}

void Walker::loop(WalkWorker& w) {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return open_job() != nullptr || !queue_.empty() || pending_ == 0; });
      if (open_job() != nullptr) {  // help with an item another worker shared (its exceptions are its owner's)
        lock.unlock();
        help_one();
        continue;
      }
      if (queue_.empty()) return;
      item = std::move(queue_.back());
      queue_.pop_back();
    }
    // The worker's exception boundary: whatever one item throws is that item's error, and the
    // item still counts as done (else the walk would wait for it forever).
    try {
      if (opts_.pace && !cancelled()) opts_.pace();
      if (!cancelled()) {
        if (item.is_dir) process_dir(item, w);
        else scan_one(item.path, item.rel, w, item.key);
      }
    } catch (...) {
      error(w, item.path, describe_exception(std::current_exception()));
    }
    std::lock_guard lock(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }
}

void Walker::work_on(Job& job) {
  // A free runner id: a worker may come back to a job it left, but never runs it twice at once,
  // so there are never more runners at once than workers.
  unsigned runner = 0;
  {
    std::lock_guard lock(job.mu);
    while (runner < job.runners.size() && job.runners[runner]) ++runner;
    if (runner == job.runners.size()) throw std::logic_error("more runners than workers on a shared item");
    job.runners[runner] = true;
  }
  for (std::size_t i; (i = job.next++) < job.count;) {
    try {
      (*job.part)(runner, i);
    } catch (...) {
      std::lock_guard lock(job.mu);
      if (!job.error) job.error = std::current_exception();
      job.next = job.count;  // the item is an error now: leave the rest
    }
  }
  std::lock_guard lock(job.mu);
  job.runners[runner] = false;
}

Walker::Job* Walker::open_job() const {
  for (Job* job : jobs_)
    if (job->next.load(std::memory_order_relaxed) < job->count) return job;
  return nullptr;
}

bool Walker::help_one() {
  Job* job = nullptr;
  {
    std::lock_guard lock(mu_);
    job = open_job();
    if (job == nullptr) return false;
    ++job->helpers;
  }
  work_on(*job);
  std::lock_guard lock(mu_);
  if (--job->helpers == 0) job->helpers_done.notify_all();
  return true;
}

std::uint64_t Walker::reserve(std::uint64_t n) {
  constexpr std::chrono::milliseconds kPoll{2};
  std::uint64_t got = 0;
  while (!budget_.try_acquire(n, kPoll, got))
    if (!cancelled()) help_one();
  return got;
}

void Walker::run_parts(std::size_t count, const std::function<void(unsigned, std::size_t)>& part) {
  Job job;
  job.part = &part;
  job.count = count;
  job.runners.assign(workers_, false);
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(&job);
  }
  cv_.notify_all();
  work_on(job);
  {
    // Every index is claimed: no one else may join, and those who did finish what they took.
    std::unique_lock lock(mu_);
    std::erase(jobs_, &job);
    job.helpers_done.wait(lock, [&] { return job.helpers == 0; });
  }
  if (job.error) std::rethrow_exception(job.error);
}

void Walker::error(WalkWorker& w, const std::string& path, std::string what) {
  ++w.stats.errors;
  if (w.errors.size() < opts_.max_errors_listed) w.errors.push_back({path, std::move(what)});
}

void Walker::process_dir(const Item& item, WalkWorker& w) {
  OpenDir& dir = w.dir;
  dir.path = item.path;
  dir.base = item.path;
  if (dir.base.empty() || dir.base.back() != '/') dir.base += '/';
  dir.is_root = item.is_root;
  dir.from_cache = false;
  dir.entries.clear();
  struct Closer {
    FileSource& source;
    OpenDir& dir;
    ~Closer() { source.close_dir(dir); }
  } closer{source_, dir};
  int err = 0;
  const DirStatus status = source_.open_dir(dir, err);
  if (!admit_dir(item, status, err, w)) return;
  list(item, w);

  auto node = std::make_shared<const DirNode>(DirNode{dir.key.dev, dir.key.ino, item.parent});
  std::vector<Item> subdirs;
  for (const CachedEntry& ent : dir.entries) {
    if (cancelled()) break;
    SkipReason reason{};
    switch (classify(item, ent, w, reason)) {
      case Step::skip:
        count_skip(w.stats, reason);
        continue;
      case Step::descend:
        subdirs.push_back(
            {w.path, joined_rel(item.rel, ent.name), true, item.root_dev, node, item.depth + 1, false, {}});
        continue;
      case Step::scan:
        break;
    }
    // A rescan settles an unchanged file here, through the cache layer: no path made, no queueing.
    FileKey key;
    if (source_.reuse_entry(dir, ent, key, w.findings, w.stats)) {
      ++w.stats.files_cached;
      count_file_done(0, 0);
      continue;
    }
    dispatch_file(item, ent.name, key, w);
  }
  queue_subdirs(subdirs);
}

// Whether an opened (or unopenable) directory is walked: counts why not, and a directory seen.
bool Walker::admit_dir(const Item& item, DirStatus status, int err, WalkWorker& w) {
  switch (status) {
    case DirStatus::changed_type:
      count_skip(w.stats, SkipReason::changed_type);
      return false;
    case DirStatus::vanished:
      count_skip(w.stats, SkipReason::vanished);
      return false;
    case DirStatus::failed:
      error(w, item.path, std::strerror(err));
      return false;
    case DirStatus::ok:
    case DirStatus::unreadable:
      break;
  }
  const FileKey& key = w.dir.key;
  for (auto p = item.parent; p; p = p->parent) {
    if (p->dev == key.dev && p->ino == key.ino) {
      count_skip(w.stats, SkipReason::directory_loop);
      return false;
    }
  }
  if (!item.is_root && opts_.one_file_system && key.dev != item.root_dev) {
    count_skip(w.stats, SkipReason::other_file_system);
    return false;
  }
  ++w.stats.dirs_seen;
  if (w.dir.from_cache) ++w.stats.dirs_cached;
  if (status == DirStatus::unreadable) {
    if (err == EACCES || err == EPERM) count_skip(w.stats, SkipReason::permission_denied);
    error(w, item.path, std::strerror(err));
    return false;
  }
  return true;
}

// Lists the open directory; what was listed is walked even when the listing broke off.
void Walker::list(const Item& item, WalkWorker& w) {
  int err = 0;
  if (source_.list_dir(w.dir, w.stats, err) || err == 0) return;
  if (err == EACCES || err == EPERM) count_skip(w.stats, SkipReason::permission_denied);
  error(w, item.path, std::strerror(err));
}

// What becomes of one entry: a directory to descend into (its path left in w.path), a regular
// file to scan, or a skip and its reason. Counts every entry but a directory as a file seen.
Walker::Step Walker::classify(const Item& item, const CachedEntry& ent, WalkWorker& w, SkipReason& reason) {
  const std::string& base = w.dir.base;
  if (ent.type == DT_DIR) {
    w.path.assign(base).append(ent.name);
    if (matches(excludes_, base, ent.name)) reason = SkipReason::excluded;
    else if (auto m = mounts_.skip.find(w.path); m != mounts_.skip.end()) reason = m->second;
    else if (item.depth + 1 > opts_.max_depth) reason = SkipReason::too_deep;
    else return Step::descend;
    return Step::skip;
  }
  ++w.stats.files_seen;
  switch (ent.type) {
    case DT_REG:
      break;
    case DT_LNK:
      reason = SkipReason::symlink;
      return Step::skip;
    case DT_FIFO:
    case DT_SOCK:
    case DT_BLK:
    case DT_CHR:
      reason = SkipReason::special_file;
      return Step::skip;
    default:
      reason = SkipReason::unknown_type;
      return Step::skip;
  }
  if (!matches(excludes_, base, ent.name)) return Step::scan;
  reason = SkipReason::excluded;
  return Step::skip;
}

// Queues a file for any worker, or scans it here when the queue is full (backpressure).
void Walker::dispatch_file(const Item& item, std::string_view name, const FileKey& key, WalkWorker& w) {
  std::string path = w.dir.base;
  path += name;
  std::string rel = joined_rel(item.rel, name);
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() < kMaxQueuedFiles) {
      queue_.push_front({std::move(path), std::move(rel), false, item.root_dev, nullptr, item.depth + 1, false, key});
      ++pending_;
      queued = true;
    }
  }
  if (queued) {
    cv_.notify_one();
    return;
  }
  if (opts_.pace) opts_.pace();
  scan_one(path, rel, w, key);
}

void Walker::queue_subdirs(std::vector<Item>& subdirs) {
  if (subdirs.empty()) return;
  std::lock_guard lock(mu_);
  for (auto& s : subdirs) queue_.push_back(std::move(s));
  pending_ += subdirs.size();
  cv_.notify_all();
}

// A file's exception boundary: what it found before it threw is dropped, the file is an error.
void Walker::scan_one(const std::string& path, const std::string& rel, WalkWorker& w, const FileKey& listed) {
  const std::size_t before = w.findings.size();
  try {
    process_file(path, rel, w, listed);
  } catch (...) {
    w.findings.erase(w.findings.begin() + static_cast<std::ptrdiff_t>(before), w.findings.end());
    error(w, path, describe_exception(std::current_exception()));
  }
}

// `listed`: the stat its lister took, when the cache did not know it (then it is not asked again).
void Walker::process_file(const std::string& path, const std::string& rel, WalkWorker& w, const FileKey& listed) {
  FileKey key = listed;
  if (key.ino == 0 && source_.reuse_file(path, key, w.findings, w.stats)) {  // a rescan only stats it
    ++w.stats.files_cached;
    count_file_done(0, 0);
    return;
  }
  std::uint64_t held = 0;
  struct Release {  // on every way out: drop a large buffer, then give its bytes back
    MemoryBudget& b;
    std::uint64_t& n;
    ReadBuffer& buffer;
    ~Release() {
      buffer.trim(kKeepBuffer);
      b.release(n);
    }
  } release{budget_, held, w.buffer};
  const std::size_t before = w.findings.size();
  ScanStats file_stats;  // this file's counts: added to the worker's, and remembered with its findings
  const auto r = scan_file(
      source_, path, rel, opts_, w.buffer, w.findings, file_stats, [&](std::uint64_t size) { held = reserve(size); },
      [this] { return !cancelled(); }, this);
  merge(w.stats, file_stats);
  if (r.status != ReadStatus::ok) {
    if (r.status == ReadStatus::permission_denied || r.status == ReadStatus::io_error)
      error(w, path, std::strerror(r.err));
    return;
  }
  // A file that changed while read, or whose read was cut short, is not remembered: the next
  // scan reads it again.
  if (key.ino != 0 && !r.changed && r.complete)
    source_.remember(path, key, std::span<const Finding>(w.findings).subspan(before), file_stats);
  count_file_done(r.bytes, w.findings.size() - before);
}

void Walker::count_file_done(std::uint64_t bytes, std::uint64_t findings) {
  if (opts_.progress == nullptr) return;
  opts_.progress->files.fetch_add(1, std::memory_order_relaxed);
  if (bytes != 0) opts_.progress->bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (findings != 0) opts_.progress->findings.fetch_add(findings, std::memory_order_relaxed);
}

}  // namespace keyward::scanner::detail
