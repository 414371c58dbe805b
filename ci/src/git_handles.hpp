// SPDX-License-Identifier: Apache-2.0
// Owned libgit2 handles and the one error path: every return checked, failures turned into
// GitError with libgit2's message and what we were doing. Private to keyward::ci.
#pragma once

#include <keyward/ci/git_repo.hpp>
#include <keyward/common/handle.hpp>

#include <git2.h>
// libgit2 1.8 moved git_error_clear() and git_error_set_str() to git2/sys/errors.h (Debian 13).
#if __has_include(<git2/sys/errors.h>)
#include <git2/sys/errors.h>
#endif

#include <memory>
#include <string>
#include <string_view>

namespace keyward::ci::detail {

// Initialises libgit2 once per process; it is shut down at exit.
void ensure_libgit2();

// libgit2's last error message, or a placeholder when it left none.
std::string last_error_message();

// Throws GitError("<what>: <libgit2 message>") when rc is negative.
void check(int rc, std::string_view what);

// A libgit2 handle freed with Free (keyward::common's deleter).
template <class T, void (*Free)(T*)>
using Handle = common::Owned<T, Free>;

using RepoPtr = Handle<git_repository, git_repository_free>;
using OdbPtr = Handle<git_odb, git_odb_free>;
using OdbObjectPtr = Handle<git_odb_object, git_odb_object_free>;
using ObjectPtr = Handle<git_object, git_object_free>;
using CommitPtr = Handle<git_commit, git_commit_free>;
using TreePtr = Handle<git_tree, git_tree_free>;
using DiffPtr = Handle<git_diff, git_diff_free>;
using IndexPtr = Handle<git_index, git_index_free>;
using RevwalkPtr = Handle<git_revwalk, git_revwalk_free>;
using ReferencePtr = Handle<git_reference, git_reference_free>;
using ReferenceIteratorPtr = Handle<git_reference_iterator, git_reference_iterator_free>;

// The 40-hex form of an id.
std::string to_hex(const git_oid& oid);

}  // namespace keyward::ci::detail
