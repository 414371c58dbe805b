#include <keyward/ci/tracked_files.hpp>

#include "git_handles.hpp"

namespace keyward::ci {

using detail::IndexPtr;
using detail::RepoPtr;

TrackedFiles::TrackedFiles() = default;
TrackedFiles::~TrackedFiles() = default;

const TrackedFiles::Index* TrackedFiles::index_for(const std::string& dir) {
  if (auto it = by_dir_.find(dir); it != by_dir_.end()) return it->second;
  detail::ensure_libgit2();
  const Index* found = nullptr;
  git_repository* raw = nullptr;
  // Like git rev-parse: the repository at or above dir.
  if (git_repository_open_ext(&raw, dir.c_str(), 0, nullptr) == 0) {
    RepoPtr repo(raw);
    const char* wd = git_repository_workdir(repo.get());
    std::string workdir = wd == nullptr ? std::string() : std::string(wd);
    if (!workdir.empty() && workdir.back() != '/') workdir.push_back('/');
    if (auto it = repos_.find(workdir); !workdir.empty() && it != repos_.end()) {
      found = it->second.get();
    } else if (!workdir.empty()) {
      auto index = std::make_unique<Index>();
      index->workdir = workdir;
      git_index* index_raw = nullptr;
      if (git_repository_index(&index_raw, repo.get()) == 0) {
        IndexPtr idx(index_raw);
        const std::size_t n = git_index_entrycount(idx.get());
        for (std::size_t i = 0; i < n; ++i)
          if (const git_index_entry* e = git_index_get_byindex(idx.get(), i)) index->paths.insert(e->path);
      }
      found = index.get();
      repos_.emplace(workdir, std::move(index));
    }
  }
  git_error_clear();
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
