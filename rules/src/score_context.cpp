// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/score_context.hpp>

#include <chrono>

namespace keyward::rules {

std::int64_t ScoreContext::current_time() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> ScoreContext::default_home_globs() { return {"/home/*", "/root", "/Users/*"}; }

std::vector<std::string> ScoreContext::default_shared_globs() {
  return {"*/jenkins/workspace/*",
          "/var/lib/jenkins/*",
          "/home/runner/work/*",
          "*/actions-runner/_work/*",
          "/builds/*",
          "/var/lib/buildkite-agent/*",
          "/opt/atlassian/pipelines/*",
          "/tmp/*",
          "/srv/shared/*"};
}

std::vector<std::string> ScoreContext::default_test_globs() {
  return {"*/test/*", "*/tests/*", "*/testdata/*", "*/fixtures/*", "*/__tests__/*", "*_test.*", "*/spec/*"};
}

std::string ScoreContext::default_package_db_dir() { return "/var/lib/dpkg/info"; }

}  // namespace keyward::rules
