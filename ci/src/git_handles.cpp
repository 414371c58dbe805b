// SPDX-License-Identifier: Apache-2.0
#include "git_handles.hpp"

namespace keyward::ci::detail {

namespace {

// Process-wide libgit2 state: initialised on first use, shut down at exit (after every GitRepo
// that was opened later, since function-local statics are destroyed in reverse order).
struct Libgit2 {
  Libgit2() {
    if (git_libgit2_init() < 0) throw GitError("cannot initialise libgit2: " + last_error_message());
    // Reads need no SHA-1 of every object (git itself does not re-hash on read): a third of a
    // history walk's time otherwise.
    check(git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0), "configuring libgit2");
    // The history walk reads each tree once, so a large object cache only costs memory
    // (libgit2's default is 256 MiB).
    check(git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(kCacheBytes)), "configuring libgit2");
  }
  static constexpr std::size_t kCacheBytes = 64u << 20;
  ~Libgit2() { git_libgit2_shutdown(); }
  Libgit2(const Libgit2&) = delete;
  Libgit2& operator=(const Libgit2&) = delete;
};

}  // namespace

void ensure_libgit2() { static const Libgit2 lib; }

std::string last_error_message() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? std::string(e->message) : std::string("unknown libgit2 error");
}

void check(int rc, std::string_view what) {
  if (rc < 0) throw GitError(std::string(what) + ": " + last_error_message());
}

std::string to_hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return std::string(buf);
}

}  // namespace keyward::ci::detail
