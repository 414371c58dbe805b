// SPDX-License-Identifier: Apache-2.0
// The walker: worker threads that take directories and files from one queue, list directories
// through a FileSource (walk/source.hpp), turn each entry into a directory to descend into, a
// file to scan or a typed skip (SkipReason), and scan files with file_scan.hpp under the scan's
// memory budget. Used by: scan.cpp. Every item has an exception boundary: an exception from one
// file or directory is a counted error for it, never the end of the scan or the process. The
// walker never touches the file system except through its source.
#pragma once

#include <keyward/scanner/skip_reason.hpp>
#include "file_source.hpp"
#include "item_scan.hpp"
#include "memory_budget.hpp"
#include "mounts.hpp"
#include "walk/source.hpp"

#include <keyward/scanner/finding.hpp>
#include <keyward/scanner/scan.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// An exclude glob, compiled once.
struct Glob {
  std::string pattern;
  bool on_name = false;  // no '/': match the file or directory name
  bool literal = false;  // no wildcard: a plain comparison
  bool suffix = false;   // "*/rest" with no other wildcard: the path ends with "/rest"
};

// Compiles exclude patterns ("dir/sub" means anywhere in the tree, "/abs" is anchored).
std::vector<Glob> compile_globs(const std::vector<std::string>& patterns);

// Whether an entry base + name matches a glob (the joined path is built only for globs that need it).
bool matches(const std::vector<Glob>& globs, std::string_view base, std::string_view name);

// The error message of an exception caught at an item's boundary: its type, never its text
// (an exception's text could quote the bytes being parsed).
std::string describe_exception(const std::exception_ptr& e);

// What one worker collects; merged into the result when the walk ends.
struct WalkWorker {
  ScanStats stats;                // its counts
  std::vector<Finding> findings;  // what it found, in no order
  std::vector<ScanError> errors;  // bounded by ScanOptions::max_errors_listed
  ReadBuffer buffer;              // file bytes, kept between files up to a window's size
  OpenDir dir;                    // the directory it lists, one at a time
  std::string path;               // a path buffer
};

// One walk over roots and files, through one source. Its idle workers also take parts of items
// that another worker shares (WorkShare, item_scan.hpp: the members of a large zip), before new
// files: finishing an open archive first frees its bytes first.
class Walker final : public WorkShare {
 public:
  // `options` and `source` outlive the walker.
  Walker(const ScanOptions& options, FileSource& source);

  // A root directory (followed if a symlink), on device `dev`.
  void add_dir(std::string path, std::uint64_t dev);
  // A root file, or one of an explicit list, named `rel` in ids and reports.
  void add_file(std::string path, std::string rel, std::uint64_t dev);
  // Walks everything added, one thread per worker; returns when all is done or cancelled.
  void run(std::vector<WalkWorker>& workers);
  // Whether the scan was asked to stop, or its source can give nothing more.
  bool cancelled() const noexcept;

  // WorkShare: the workers of this walk.
  unsigned runners() const noexcept override { return workers_; }
  void run_parts(std::size_t count, const std::function<void(unsigned, std::size_t)>& part) override;

 private:
  // A directory on the path from a root, for loop detection without following symlinks (bind
  // mounts can still make a directory its own ancestor).
  struct DirNode {
    std::uint64_t dev, ino;
    std::shared_ptr<const DirNode> parent;
  };
  struct Item {
    std::string path;
    std::string rel;
    bool is_dir = false;
    std::uint64_t root_dev = 0;
    std::shared_ptr<const DirNode> parent;
    unsigned depth = 0;
    bool is_root = false;
    FileKey key;  // a file's stat when its lister took one for the cache (ino 0: none)
  };
  // Parts shared by run_parts: claimed one index at a time by whoever runs them.
  struct Job {
    const std::function<void(unsigned, std::size_t)>* part;
    std::size_t count;
    std::atomic<std::size_t> next = 0;
    unsigned helpers = 0;  // workers running parts besides the owner (under mu_)
    std::condition_variable helpers_done;
    std::mutex mu;              // guards what follows
    std::vector<bool> runners;  // runner ids in use: one thread each, at most one per worker
    std::exception_ptr error;   // the first exception a part threw
  };
  // Runs the job's parts until none is left, as one runner.
  static void work_on(Job& job);
  // The first shared job with parts left to claim, or null (under mu_): a job whose parts are all
  // claimed stays listed until its owner finishes, and must not keep idle workers spinning.
  Job* open_job() const;
  // Runs the parts of the first open shared job, if there is one; false when there is none.
  bool help_one();
  // Takes `n` bytes of the memory budget for a file's buffer, helping shared items while there is
  // no room (the bytes it waits for are often those of the archive being shared).
  std::uint64_t reserve(std::uint64_t n);
  // What becomes of one directory entry.
  enum class Step { descend, scan, skip };

  void loop(WalkWorker& w);
  void error(WalkWorker& w, const std::string& path, std::string what);
  void process_dir(const Item& item, WalkWorker& w);
  bool admit_dir(const Item& item, DirStatus status, int err, WalkWorker& w);
  void list(const Item& item, WalkWorker& w);
  Step classify(const Item& item, const CachedEntry& entry, WalkWorker& w, SkipReason& reason);
  void dispatch_file(const Item& item, std::string_view name, const FileKey& key, WalkWorker& w);
  void queue_subdirs(std::vector<Item>& subdirs);
  void scan_one(const std::string& path, const std::string& rel, WalkWorker& w, const FileKey& listed);
  void process_file(const std::string& path, const std::string& rel, WalkWorker& w, const FileKey& listed);
  void count_file_done(std::uint64_t bytes, std::uint64_t findings);

  const ScanOptions& opts_;
  FileSource& source_;
  MountTable mounts_;  // the source's
  std::vector<Glob> excludes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // directories at the back (depth first), files at the front
  std::vector<Job*> jobs_;  // shared parts with indices left to claim
  unsigned workers_ = 1;
  MemoryBudget budget_;
  std::size_t pending_ = 0;
};

// scan() over any source (defined in scan.cpp; scan() passes the local file system, tests a
// source that injects faults). With options.cache, the cache layer goes over `source`.
ScanResult scan_source(const ScanOptions& options, FileSource& source);

}  // namespace keyward::scanner::detail
