// SPDX-License-Identifier: Apache-2.0
#include <keyward/ci/tracked_files.hpp>

#include "git_handles.hpp"

#include <filesystem>
#include <system_error>

namespace keyward::ci {

using detail::IndexPtr;
using detail::RepoPtr;

TrackedFiles::TrackedFiles() = default;
TrackedFiles::~TrackedFiles() = default;

namespace {

// The repo-relative paths of an index file; empty when it cannot be read.
std::set<std::string> index_paths(git_index* index) {
  std::set<std::string> out;
  const std::size_t n = git_index_entrycount(index);
  for (std::size_t i = 0; i < n; ++i)
    if (const git_index_entry* e = git_index_get_byindex(index, i)) out.insert(e->path);
  return out;
}

}  // namespace

// The nearest directory at or above `dir` with a `.git` decides. A `.git` directory's index is
// read directly: no repository is opened, so its configuration is not read and a repository that
// another user owns (a root scan of /home) counts like one's own. A `.git` file (a linked worktree
// or a submodule) is resolved by libgit2.
const TrackedFiles::Index* TrackedFiles::index_for(const std::string& dir) {
  if (auto it = by_dir_.find(dir); it != by_dir_.end()) return it->second;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dot_git = fs::path(dir) / ".git";
  const auto kind = fs::symlink_status(dot_git, ec).type();
  const Index* found = nullptr;
  if (kind == fs::file_type::directory || kind == fs::file_type::regular) {
    detail::ensure_libgit2();
    std::string workdir = dir.back() == '/' ? dir : dir + "/";
    git_index* raw = nullptr;
    if (kind == fs::file_type::directory) {
      if (git_index_open(&raw, (dot_git / "index").c_str()) != 0) raw = nullptr;
    } else {
      git_repository* repo_raw = nullptr;
      if (git_repository_open_ext(&repo_raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) == 0) {
        RepoPtr repo(repo_raw);
        if (git_repository_index(&raw, repo.get()) != 0) raw = nullptr;
      }
    }
    IndexPtr index(raw);
    git_error_clear();
    auto entry = std::make_unique<Index>();
    entry->workdir = std::move(workdir);
    if (index) entry->paths = index_paths(index.get());
    found = entry.get();
    repos_.emplace(entry->workdir, std::move(entry));
  } else if (dir != "/" && !dir.empty()) {
    const auto slash = dir.rfind('/');
    found = index_for(slash == 0 || slash == std::string::npos ? std::string("/") : dir.substr(0, slash));
  }
  by_dir_.emplace(dir, found);
  return found;
}

bool TrackedFiles::tracked(const std::string& absolute_path) {
  const auto slash = absolute_path.rfind('/');
  if (slash == std::string::npos) return false;
  const std::string dir = slash == 0 ? std::string("/") : absolute_path.substr(0, slash);
  const Index* index = index_for(dir);
  if (index == nullptr || absolute_path.compare(0, index->workdir.size(), index->workdir) != 0) return false;
  return index->paths.count(absolute_path.substr(index->workdir.size())) != 0;
}

}  // namespace keyward::ci
