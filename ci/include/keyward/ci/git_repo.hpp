// SPDX-License-Identifier: Apache-2.0
// A git repository seen the way a CI gate needs it: the working-tree file list, the files changed
// since a ref, the blobs staged for commit, and every blob in history, once each, attributed to the
// commit that introduced it. Used by: keyward ci (worktree, diff, pre-commit and history modes).
// Backed by libgit2 (no git process is run); no libgit2 type appears here. Never prints, never
// writes to the repository, never loads a blob twice. Not thread-safe: one GitRepo per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace keyward::ci {

// One blob handed to a callback: where it was, its bytes, and (history only) which commit added it.
struct GitBlob {
  std::string path;              // repo-relative, '/' separated (a ref name for a blob a ref points at)
  std::string content;           // the blob's bytes (text or binary)
  std::string commit;            // 40-hex id of the commit that introduced it; empty unless from history
  std::int64_t author_date = 0;  // that commit's author time, seconds since the epoch; 0 unless from history
};

// What a history walk covered.
struct HistoryStats {
  std::uint64_t commits = 0;        // commits walked
  std::uint64_t blobs = 0;          // distinct blobs handed to the callback
  std::uint64_t bytes = 0;          // their total size
  std::uint64_t skipped_large = 0;  // distinct blobs not loaded because bigger than max_size
  std::uint64_t missing = 0;        // distinct blobs named by a tree but absent (partial clone)
};

// A setup error (no repository, unknown ref, unreadable object store); the message says what to do.
class GitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A ref that cannot be resolved because the clone is shallow; the message names the fetch to run.
class ShallowHistory : public GitError {
 public:
  using GitError::GitError;
};

// An open repository (movable, not copyable).
class GitRepo {
 public:
  // Finds the repository containing path (like git rev-parse); GitError if there is none.
  static GitRepo open(const std::string& path);

  GitRepo(GitRepo&&) noexcept;
  GitRepo& operator=(GitRepo&&) noexcept;
  GitRepo(const GitRepo&) = delete;
  GitRepo& operator=(const GitRepo&) = delete;
  ~GitRepo();

  // The working tree, absolute with a trailing '/'; empty for a bare repository.
  std::string workdir() const;

  // True when the clone is shallow (history stops at grafted commits).
  bool is_shallow() const;

  // Tracked plus untracked-not-ignored files (git ls-files -co --exclude-standard), repo-relative,
  // sorted, submodules and nested repositories skipped. GitError for a bare repository.
  std::vector<std::string> worktree_files() const;

  // Files added, modified, renamed, copied or type-changed between ref's tree and the working tree
  // (committed, staged and unstaged changes, and untracked-not-ignored files); deletions excluded;
  // sorted. ShallowHistory when ref is missing from a shallow clone, GitError for an unknown ref.
  std::vector<std::string> changed_since(const std::string& ref) const;

  // Each blob staged for commit (HEAD's tree against the index; content from the index, not the
  // working tree), skipping deletions, submodules, symlinks and blobs bigger than max_size.
  void for_each_staged(std::uint64_t max_size, const std::function<void(const GitBlob&)>& fn) const;

  // Each distinct blob reachable from HEAD and every ref (branches, tags, remotes, stash, notes),
  // once, attributed to the oldest commit introducing it (reverse topological order, each commit
  // diffed against its first parent, roots and shallow boundaries against the empty tree), with
  // that commit's path. Blobs bigger than max_size are counted, not loaded. Symlinks and
  // submodules are skipped; binary blobs are included.
  void for_each_history_blob(std::uint64_t max_size, const std::function<void(const GitBlob&)>& fn,
                             HistoryStats& stats) const;

 private:
  struct Impl;
  explicit GitRepo(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::ci
