// SPDX-License-Identifier: Apache-2.0
// ScoreContext: what the risk engine needs to know besides the findings: the time, where homes,
// CI workspaces, shared directories and test fixtures are, extra publicly known keys, where the
// package database is and whether provenance caps severity.
// Globs use fnmatch without FNM_PATHNAME ('*' crosses '/'), like the scanner's --exclude, and are
// matched against the absolute path of the file (relative scan paths are made absolute from
// base_dir, or the process's working directory).
// Used by: the CLI and the agent (build one per run), tests, `keyward rules test`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace keyward::rules {

// Everything the engine reads besides findings and rules.
struct ScoreContext {
  // Now, in seconds since the epoch (certificate validity, expiry, allowlist dates).
  std::int64_t now = current_time();
  // Home directories; the path component matched by the last glob component is the user name
  // (so /home/alice/x has user alice; "/root" is root's home).
  std::vector<std::string> home_globs = default_home_globs();
  // CI workspaces, build agents and shared directories.
  std::vector<std::string> shared_globs = default_shared_globs();
  // Test and fixture paths (negative points).
  std::vector<std::string> test_globs = default_test_globs();
  // Extra publicly known keys (SPKI SHA-256 hex), beyond the rule set's list.
  std::vector<std::string> known_keys;
  // Makes relative location paths absolute; empty: the process's working directory.
  std::string base_dir;
  // Match "/" + the root-relative path instead of the absolute path (rule examples in a temp
  // tree, remote scans whose root stands for "/").
  bool virtual_root = false;
  // A certificate expiring within this many days is "expiring".
  int expiring_days = 30;
  // dpkg's info directory, whose *.list files say which package owns a path (factor
  // package-owned); read once per score() call when the result has findings. Empty: no lookup.
  std::string package_db_dir = default_package_db_dir();
  // --show-vendor: do not apply policy_ids::kProvenanceCap, so package-owned, vendored and
  // publicly known keys keep the severity of their score.
  bool show_vendor = false;
  // The trust store for publicly-trusted: a PEM file of root certificates; empty (production):
  // the system store, through OpenSSL's default paths. Read once per scoring run, and only when
  // some key has a CA-issued certificate.
  std::string trust_store_file;
  // A key file modified within this many days (before now) is "recently-modified".
  int recent_days = 30;
  // Whether the file at an absolute path is tracked by git (in its repository's index); empty:
  // only findings from git history are "in-git-repository". The CLI sets it (keyward::ci's
  // TrackedFiles, one per run); the engine asks once per file holding a private key.
  std::function<bool(const std::string& absolute_path)> git_tracked;

  // Seconds since the epoch, now.
  static std::int64_t current_time();
  // /home/*, /root, /Users/*
  static std::vector<std::string> default_home_globs();
  // */jenkins/workspace/*, /var/lib/jenkins/*, /home/runner/work/*, */actions-runner/_work/*,
  // /builds/*, /var/lib/buildkite-agent/*, /opt/atlassian/pipelines/*, /tmp/*, /srv/shared/*
  static std::vector<std::string> default_shared_globs();
  // */test/*, */tests/*, */testdata/*, */fixtures/*, */__tests__/*, *_test.*, */spec/*
  static std::vector<std::string> default_test_globs();
  // /var/lib/dpkg/info
  static std::string default_package_db_dir();
};

}  // namespace keyward::rules
