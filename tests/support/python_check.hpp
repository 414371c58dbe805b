// SPDX-License-Identifier: Apache-2.0
// Runs a small Python check on a text the test made (schema validation, XML parsing) with
// Debian's python3, which has python3-jsonschema (KEYWARD_PYTHON, else /usr/bin/python3).
// Used by: reporter tests. Writes only into a temporary directory it removes.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_tree.hpp"

namespace keyward::test {

inline std::string python() {
  const char* p = std::getenv("KEYWARD_PYTHON");
  return p != nullptr && *p != '\0' ? p : "/usr/bin/python3";
}

// The source tree: KEYWARD_SOURCE when set, else the one this suite was built from.
inline std::string source_dir() {
  const char* p = std::getenv("KEYWARD_SOURCE");
  return p != nullptr && *p != '\0' ? p : KEYWARD_TEST_SOURCE_DIR;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What a check printed and how it ended.
struct PythonRun {
  int status = -1;     // 0 when the script exited 0
  std::string output;  // its stdout and stderr
};

// Writes `input` to a file, runs `script` with the file as argv[1] (then `args`), returns the
// exit status and output.
inline PythonRun run_python(const std::string& script, const std::string& input,
                            const std::vector<std::string>& args = {}) {
  TempTree dir;
  const auto script_path = dir.write("check.py", script);
  const auto input_path = dir.write("input", input);
  const auto out_path = dir.path("output.txt");
  std::string cmd = shell_quote(python()) + " " + shell_quote(script_path) + " " + shell_quote(input_path);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + shell_quote(out_path) + " 2>&1";
  PythonRun r;
  const int rc = std::system(cmd.c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

}  // namespace keyward::test
