// SPDX-License-Identifier: Apache-2.0
#include <keyward/ci/git_repo.hpp>

#include "git_handles.hpp"
#include "oid_set.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace keyward::ci {

using namespace detail;

struct GitRepo::Impl {
  RepoPtr repo;
  std::string where;  // the path open() was given, for messages
};

namespace {

bool is_file_mode(std::uint16_t mode) { return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE; }

// Paths ending in '/' are untracked directories git does not descend into (nested repositories).
bool is_directory_entry(const char* path) {
  const std::string_view p(path);
  return p.empty() || p.back() == '/';
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());  // char_traits<char> compares as unsigned bytes, like git
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void require_worktree(git_repository* repo, const std::string& what) {
  if (git_repository_is_bare(repo) != 0)
    throw GitError(what + " needs a working tree but '" + std::string(git_repository_path(repo)) +
                   "' is a bare repository: run it in a checkout, or scan history instead");
}

// True when a ref name looks like a commit id or a revision expression rather than a branch.
bool is_revision_expression(const std::string& ref) {
  if (ref.find_first_of("~^:@{ ") != std::string::npos) return true;
  if (ref == "HEAD" || ref == "FETCH_HEAD" || ref == "ORIG_HEAD") return true;
  if (ref.size() >= 4 && ref.size() <= GIT_OID_HEXSZ &&
      std::all_of(ref.begin(), ref.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
    return true;
  return false;
}

// The repository's remote names (none when they cannot be listed).
std::vector<std::string> remote_names(git_repository* repo) {
  std::vector<std::string> remotes;
  git_strarray list{};
  if (git_remote_list(&list, repo) == 0) {
    for (std::size_t i = 0; i < list.count; ++i) remotes.emplace_back(list.strings[i]);
    git_strarray_dispose(&list);
  }
  return remotes;
}

// The remote a fetch should name: origin when there is one, else the first, else a placeholder.
std::string fetch_remote(git_repository* repo) {
  const std::vector<std::string> remotes = remote_names(repo);
  if (std::find(remotes.begin(), remotes.end(), "origin") != remotes.end()) return "origin";
  return remotes.empty() ? "<remote-url>" : remotes.front();
}

// The fetch that brings ref into a shallow clone, as a message for ShallowHistory.
std::string shallow_message(git_repository* repo, const std::string& ref) {
  const std::vector<std::string> remotes = remote_names(repo);
  std::string remote = fetch_remote(repo);

  std::string fetch;
  if (!is_revision_expression(ref)) {
    std::string name = ref;
    const std::string kRemotes = "refs/remotes/";
    if (name.rfind(kRemotes, 0) == 0) name.erase(0, kRemotes.size());
    std::string branch, dest;
    for (const auto& r : remotes) {  // "origin/main": a remote-tracking branch of a known remote
      if (name.size() > r.size() + 1 && name.compare(0, r.size(), r) == 0 && name[r.size()] == '/') {
        remote = r;
        branch = name.substr(r.size() + 1);
        dest = "refs/remotes/" + name;
        break;
      }
    }
    if (branch.empty() && ref.rfind("refs/", 0) != 0) {  // "main": a local branch or tag name
      branch = ref;
      dest = ref;
    } else if (branch.empty()) {  // "refs/heads/main", "refs/tags/v1"
      branch = ref;
      dest = ref;
    }
    // A single-branch clone's refspec does not cover other branches: name the destination.
    fetch = "git fetch --depth=50 " + remote + " " + branch + ":" + dest;
  } else {
    fetch = "git fetch --deepen=50 " + remote;
  }
  return "'" + ref + "' is not in the history of this shallow clone: run `" + fetch + "` (or `git fetch --unshallow " +
         remote + "` for all of it), then run again";
}

// Resolves ref to a tree, with the shallow-clone diagnosis.
TreePtr resolve_tree(git_repository* repo, const std::string& ref) {
  git_object* raw = nullptr;
  const int rc = git_revparse_single(&raw, repo, ref.c_str());
  ObjectPtr obj(raw);
  if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS) {
    const std::string why = last_error_message();  // before another call resets it
    if (git_repository_is_shallow(repo) == 1) throw ShallowHistory(shallow_message(repo, ref));
    throw GitError("unknown git ref '" + ref + "' (" + why + "): check the name with `git rev-parse --verify " + ref +
                   "`, or fetch it first");
  }
  check(rc, "resolving git ref '" + ref + "'");
  git_object* tree = nullptr;
  const int prc = git_object_peel(&tree, obj.get(), GIT_OBJECT_TREE);
  if (prc == GIT_ENOTFOUND && git_repository_is_shallow(repo) == 1) throw ShallowHistory(shallow_message(repo, ref));
  check(prc, "'" + ref + "' does not name a commit or tree");
  return TreePtr(reinterpret_cast<git_tree*>(tree));
}

// The history walker: one pass over every commit, each distinct blob loaded once.
class HistoryWalk {
 public:
  HistoryWalk(git_repository* repo, std::uint64_t max_size, const std::function<void(const GitBlob&)>& fn,
              HistoryStats& stats)
      : repo_(repo), max_size_(max_size), fn_(fn), stats_(stats) {
    git_odb* odb = nullptr;
    check(git_repository_odb(&odb, repo_), "opening the git object database");
    odb_.reset(odb);
  }

  void run() {
    git_revwalk* walk = nullptr;
    check(git_revwalk_new(&walk, repo_), "starting the git history walk");
    RevwalkPtr walker(walk);
    // Parents before children, so the first commit that shows a blob is the one that added it.
    check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME | GIT_SORT_REVERSE),
          "sorting the git history walk");
    push_tips(walk);

    git_oid id;
    int rc;
    while ((rc = git_revwalk_next(&id, walk)) == 0) visit_commit(id);
    if (rc != GIT_ITEROVER) check(rc, "walking git history");

    // Trees and blobs that refs point at directly (a tag on a blob), after every commit.
    for (const auto& [tree_id, name] : ref_trees_) visit_tree(tree_id, std::string(), 0);
    for (const auto& [blob_id, name] : ref_blobs_) visit_blob(blob_id, name, std::string(), 0);
  }

 private:
  // HEAD and every ref, peeled through tags; commits go to the walk, trees and blobs to lists.
  void push_tips(git_revwalk* walk) {
    git_oid head;
    if (git_reference_name_to_id(&head, repo_, "HEAD") == 0) push_object(walk, head, "HEAD");

    git_reference_iterator* it = nullptr;
    check(git_reference_iterator_new(&it, repo_), "listing git refs");
    ReferenceIteratorPtr iter(it);
    git_reference* raw = nullptr;
    int rc;
    while ((rc = git_reference_next(&raw, it)) == 0) {
      ReferencePtr ref(raw);
      if (git_reference_type(raw) != GIT_REFERENCE_DIRECT) continue;  // symbolic refs point at another ref
      push_object(walk, *git_reference_target(raw), git_reference_name(raw));
    }
    if (rc != GIT_ITEROVER) check(rc, "listing git refs");
  }

  void push_object(git_revwalk* walk, const git_oid& target, const std::string& name) {
    git_object* raw = nullptr;
    check(git_object_lookup(&raw, repo_, &target, GIT_OBJECT_ANY),
          "reading " + to_hex(target) + " that ref " + name + " points at (is the repository complete? `git fsck`)");
    ObjectPtr obj(raw);
    if (git_object_type(obj.get()) == GIT_OBJECT_TAG) {
      git_object* peeled = nullptr;
      check(git_object_peel(&peeled, obj.get(), GIT_OBJECT_ANY), "peeling tag " + name);
      obj.reset(peeled);
    }
    const git_oid& id = *git_object_id(obj.get());
    switch (git_object_type(obj.get())) {
      case GIT_OBJECT_COMMIT:
        check(git_revwalk_push(walk, &id), "adding " + name + " to the git history walk");
        break;
      case GIT_OBJECT_TREE:
        ref_trees_.emplace_back(id, name);
        break;
      case GIT_OBJECT_BLOB:
        ref_blobs_.emplace_back(id, name);
        break;
      default:
        break;
    }
  }

  void visit_commit(const git_oid& id) {
    git_commit* raw = nullptr;
    check(git_commit_lookup(&raw, repo_, &id), "reading commit " + to_hex(id));
    CommitPtr commit(raw);
    ++stats_.commits;
    const git_signature* author = git_commit_author(commit.get());
    visit_tree(*git_commit_tree_id(commit.get()), to_hex(id), author != nullptr ? author->when.time : 0);
  }

  // Every blob under a tree not seen before, skipping subtrees already seen: their blobs were
  // all handed over with an older commit. Iterative, so a deeply nested tree cannot overflow.
  void visit_tree(const git_oid& root, const std::string& commit, std::int64_t when) {
    if (!seen_trees_.insert(root)) return;
    struct Frame {
      TreePtr tree;
      std::string prefix;  // "" or "dir/sub/"
      std::size_t next = 0;
    };
    std::vector<Frame> stack;
    auto push = [&](const git_oid& tree_id, std::string prefix) {
      git_tree* raw = nullptr;
      check(git_tree_lookup(&raw, repo_, &tree_id), "reading tree " + to_hex(tree_id) + " (" + prefix + ")");
      stack.push_back(Frame{TreePtr(raw), std::move(prefix), 0});
    };
    push(root, std::string());
    std::string path;
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next == git_tree_entrycount(top.tree.get())) {
        stack.pop_back();
        continue;
      }
      const git_tree_entry* e = git_tree_entry_byindex(top.tree.get(), top.next++);
      const git_oid& id = *git_tree_entry_id(e);
      const git_filemode_t mode = git_tree_entry_filemode(e);
      if (mode == GIT_FILEMODE_TREE) {
        if (seen_trees_.insert(id)) push(id, top.prefix + git_tree_entry_name(e) + "/");  // invalidates top
      } else if (is_file_mode(mode)) {
        path.assign(top.prefix).append(git_tree_entry_name(e));
        visit_blob(id, path, commit, when);
      }
    }
  }

  void visit_blob(const git_oid& id, const char* path, const std::string& commit, std::int64_t when) {
    if (!seen_.insert(id)) return;
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    const int rc = git_odb_read_header(&size, &type, odb_.get(), &id);
    if (rc == GIT_ENOTFOUND) {  // a partial clone leaves blobs out
      ++stats_.missing;
      return;
    }
    check(rc, "reading the header of blob " + to_hex(id) + " (" + path + ")");
    if (size > max_size_) {
      ++stats_.skipped_large;
      return;
    }
    git_odb_object* raw = nullptr;
    check(git_odb_read(&raw, odb_.get(), &id), "reading blob " + to_hex(id) + " (" + path + ")");
    OdbObjectPtr obj(raw);
    blob_.path = path;
    blob_.content.assign(static_cast<const char*>(git_odb_object_data(raw)), git_odb_object_size(raw));
    blob_.commit = commit;
    blob_.author_date = when;
    ++stats_.blobs;
    stats_.bytes += blob_.content.size();
    obj.reset();  // release libgit2's copy before the callback runs
    fn_(blob_);
  }

  void visit_blob(const git_oid& id, const std::string& path, const std::string& commit, std::int64_t when) {
    visit_blob(id, path.c_str(), commit, when);
  }

  git_repository* repo_;
  OdbPtr odb_;
  std::uint64_t max_size_;
  const std::function<void(const GitBlob&)>& fn_;
  HistoryStats& stats_;
  OidSet seen_;        // blobs handed over, skipped or missing
  OidSet seen_trees_;  // trees whose blobs have all been visited
  GitBlob blob_;       // reused so its buffer is allocated once (bounded by max_size)
  std::vector<std::pair<git_oid, std::string>> ref_trees_;
  std::vector<std::pair<git_oid, std::string>> ref_blobs_;
};

}  // namespace

GitRepo::GitRepo(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GitRepo::GitRepo(GitRepo&&) noexcept = default;
GitRepo& GitRepo::operator=(GitRepo&&) noexcept = default;
GitRepo::~GitRepo() = default;

GitRepo GitRepo::open(const std::string& path) {
  ensure_libgit2();
  git_repository* raw = nullptr;
  const int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
  RepoPtr repo(raw);
  if (rc == GIT_ENOTFOUND)
    throw GitError("no git repository at or above '" + path +
                   "': run inside a git checkout (git clone or git init one first)");
  check(rc, "cannot open the git repository at '" + path + "'");
  auto impl = std::make_unique<Impl>();
  impl->repo = std::move(repo);
  impl->where = path;
  return GitRepo(std::move(impl));
}

std::string GitRepo::workdir() const {
  const char* wd = git_repository_workdir(impl_->repo.get());
  if (wd == nullptr) return {};
  std::string out(wd);
  if (out.empty() || out.back() != '/') out.push_back('/');
  return out;
}

bool GitRepo::is_shallow() const { return git_repository_is_shallow(impl_->repo.get()) == 1; }

std::vector<std::string> GitRepo::worktree_files() const {
  git_repository* repo = impl_->repo.get();
  require_worktree(repo, "listing the working tree");

  git_index* index_raw = nullptr;
  check(git_repository_index(&index_raw, repo), "opening the git index");
  IndexPtr index(index_raw);
  check(git_index_read(index.get(), 0), "reading the git index");

  std::vector<std::string> files;
  const std::size_t n = git_index_entrycount(index.get());
  files.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const git_index_entry* e = git_index_get_byindex(index.get(), i);
    if (e->mode == GIT_FILEMODE_COMMIT) continue;  // a submodule
    files.emplace_back(e->path);
  }

  // Untracked files that no .gitignore, info/exclude or core.excludesFile covers.
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_IGNORE_SUBMODULES |
               GIT_DIFF_SKIP_BINARY_CHECK;
  git_diff* diff_raw = nullptr;
  check(git_diff_index_to_workdir(&diff_raw, repo, index.get(), &opts), "listing untracked files");
  DiffPtr diff(diff_raw);
  const std::size_t deltas = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < deltas; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    if (d->status == GIT_DELTA_UNTRACKED && !is_directory_entry(d->new_file.path)) files.emplace_back(d->new_file.path);
  }
  sort_unique(files);
  return files;
}

std::vector<std::string> GitRepo::changed_since(const std::string& ref) const {
  git_repository* repo = impl_->repo.get();
  require_worktree(repo, "listing changed files");
  TreePtr base = resolve_tree(repo, ref);

  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_IGNORE_SUBMODULES |
               GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
  git_diff* raw = nullptr;
  check(git_diff_tree_to_workdir_with_index(&raw, repo, base.get(), &opts),
        "diffing '" + ref + "' against the working tree");
  DiffPtr diff(raw);

  std::vector<std::string> files;
  const std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    switch (d->status) {
      case GIT_DELTA_ADDED:
      case GIT_DELTA_MODIFIED:
      case GIT_DELTA_RENAMED:
      case GIT_DELTA_COPIED:
      case GIT_DELTA_TYPECHANGE:
      case GIT_DELTA_UNTRACKED:
      case GIT_DELTA_CONFLICTED:
        if (d->new_file.mode != GIT_FILEMODE_COMMIT && !is_directory_entry(d->new_file.path))
          files.emplace_back(d->new_file.path);
        break;
      default:
        break;
    }
  }
  sort_unique(files);
  return files;
}

void GitRepo::for_each_staged(std::uint64_t max_size, const std::function<void(const GitBlob&)>& fn) const {
  git_repository* repo = impl_->repo.get();
  require_worktree(repo, "checking staged files");

  git_index* index_raw = nullptr;
  check(git_repository_index(&index_raw, repo), "opening the git index");
  IndexPtr index(index_raw);
  check(git_index_read(index.get(), 0), "reading the git index");

  TreePtr head;  // none before the first commit: everything staged is new
  git_object* head_raw = nullptr;
  const int rc = git_revparse_single(&head_raw, repo, "HEAD^{tree}");
  if (rc == 0) {
    head.reset(reinterpret_cast<git_tree*>(head_raw));
  } else if (rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH) {
    check(rc, "reading HEAD");
  }

  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_IGNORE_SUBMODULES | GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
  git_diff* diff_raw = nullptr;
  check(git_diff_tree_to_index(&diff_raw, repo, head.get(), index.get(), &opts), "diffing HEAD against the index");
  DiffPtr diff(diff_raw);

  git_odb* odb_raw = nullptr;
  check(git_repository_odb(&odb_raw, repo), "opening the git object database");
  OdbPtr odb(odb_raw);

  GitBlob blob;
  const std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    switch (d->status) {
      case GIT_DELTA_ADDED:
      case GIT_DELTA_MODIFIED:
      case GIT_DELTA_RENAMED:
      case GIT_DELTA_COPIED:
      case GIT_DELTA_TYPECHANGE:
        break;
      default:
        continue;  // deletions; conflicts cannot be committed
    }
    if (!is_file_mode(d->new_file.mode)) continue;
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    check(git_odb_read_header(&size, &type, odb.get(), &d->new_file.id),
          std::string("reading the staged blob of ") + d->new_file.path);
    if (size > max_size) continue;
    git_odb_object* obj_raw = nullptr;
    check(git_odb_read(&obj_raw, odb.get(), &d->new_file.id),
          std::string("reading the staged blob of ") + d->new_file.path);
    OdbObjectPtr obj(obj_raw);
    blob.path = d->new_file.path;
    blob.content.assign(static_cast<const char*>(git_odb_object_data(obj_raw)), git_odb_object_size(obj_raw));
    obj.reset();
    fn(blob);
  }
}

void GitRepo::for_each_history_blob(std::uint64_t max_size, const std::function<void(const GitBlob&)>& fn,
                                    HistoryStats& stats) const {
  git_repository* repo = impl_->repo.get();
  // A shallow clone's history stops at grafted commits whose parents are absent: a walk would
  // either fail on them or pass a gate on part of the history. Name the fetch that completes it.
  if (git_repository_is_shallow(repo) == 1) {
    const std::string remote = fetch_remote(repo);
    throw ShallowHistory("--history needs the whole history but this clone is shallow: run `git fetch --unshallow " +
                         remote + "` (in GitHub Actions, check out with `fetch-depth: 0`), then run again");
  }
  HistoryWalk(impl_->repo.get(), max_size, fn, stats).run();
}

}  // namespace keyward::ci
