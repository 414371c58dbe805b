// SPDX-License-Identifier: Apache-2.0
// A temporary directory tree for tests, removed when it goes out of scope.
#pragma once

#include <boost/filesystem.hpp>

#include <fstream>
#include <string>

#include <sys/stat.h>

namespace keyward::test {

class TempTree {
 public:
  TempTree() {
    root_ = boost::filesystem::temp_directory_path() / boost::filesystem::unique_path("keyward-test-%%%%-%%%%");
    boost::filesystem::create_directories(root_);
  }
  ~TempTree() {
    boost::system::error_code ec;
    boost::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  std::string path() const { return root_.string(); }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

  // Writes a file (parents created) with a mode.
  std::string write(const std::string& rel, const std::string& content, unsigned mode = 0644) const {
    const auto p = root_ / rel;
    boost::filesystem::create_directories(p.parent_path());
    std::ofstream(p.string(), std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p.string();
  }

 private:
  boost::filesystem::path root_;
};

}  // namespace keyward::test
