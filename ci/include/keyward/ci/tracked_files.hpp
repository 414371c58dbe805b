// SPDX-License-Identifier: Apache-2.0
// Which files git tracks, for the in-git-repository risk factor (docs/rules.md): a file is
// tracked when the index of the repository around it lists it. Each repository is found once
// (from the directories asked about, as the nearest one above with a .git) and its index read
// once; one object per scoring run, never a process-wide cache. Used by: the CLI (scan and ci) through
// rules::ScoreContext::git_tracked. Backed by libgit2; never writes to a repository. Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

namespace keyward::ci {

// Tracked-file lookups with per-directory and per-repository caches.
class TrackedFiles {
 public:
  TrackedFiles();
  ~TrackedFiles();
  TrackedFiles(const TrackedFiles&) = delete;
  TrackedFiles& operator=(const TrackedFiles&) = delete;

  // True when the file at `absolute_path` is in the index of the git repository that contains it
  // (a directory without a repository, a bare one, or an unreadable index: false).
  bool tracked(const std::string& absolute_path);

  // How many repository indexes were read so far (each at most once).
  std::size_t repositories_opened() const { return repos_.size(); }

 private:
  struct Index {
    std::string workdir;          // absolute, with a trailing '/'
    std::set<std::string> paths;  // repo-relative paths in the index
  };
  const Index* index_for(const std::string& dir);

  std::map<std::string, const Index*> by_dir_;           // directory -> its repository (or null)
  std::map<std::string, std::unique_ptr<Index>> repos_;  // workdir -> index
};

}  // namespace keyward::ci
