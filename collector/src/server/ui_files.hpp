// SPDX-License-Identifier: Apache-2.0
// The dashboard's static files (docs/dashboard.md): every file of its directory read once when
// the server starts, then answered from memory under /ui/ (GET and HEAD), so that a request for
// the dashboard never waits on the disk, and the io thread answers it.
// Used by: the server (server.cpp), which owns one UiFiles for its lifetime and hands it every
// request whose target is /ui or under /ui/; the tests.
// Must never build a file path from a request: a request names a file by an exact match against
// the names loaded at start, so "..", "%2e%2e", "/" and "%2F" can never reach another file.
#pragma once

#include "server/api.hpp"
#include "server/config.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::collector {

// The files of one dashboard directory, in memory.
class UiFiles {
 public:
  // The most files, and the largest file, a dashboard directory may hold.
  static constexpr std::size_t kMaxFiles = 64;
  static constexpr std::size_t kMaxFileBytes = 4u << 20;

  // Reads every regular file of dir (not its subdirectories) whose name is letters, digits, '.',
  // '-' and '_' with a known type (.html .js .mjs .css .svg .png .ico .json .txt); throws
  // std::runtime_error naming the directory or file when one cannot be read, there are too
  // many or one is too large, or there is no index.html.
  explicit UiFiles(const std::string& dir);

  // Whether the request target is the dashboard's: /ui, or under /ui/ (query ignored).
  static bool serves(std::string_view target);

  // The answer to a request serves() accepted: /ui redirects to /ui/ (301), /ui/ is index.html,
  // /ui/NAME a loaded file (200, HEAD the same); an unknown name 404, another method 405. Every
  // answer carries kDashboardHeaders.
  ApiResponse answer(std::string_view method, std::string_view target) const;

  // The directory the files were read from, and how many were loaded.
  const std::string& dir() const { return dir_; }
  std::size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string body;
    std::string_view content_type;
  };
  std::string dir_;
  std::map<std::string, File, std::less<>> files_;
};

// The dashboard directory of an installed or built collector: share/keyward/ui beside the
// running executable's bin/ (both layouts put it at ../share/keyward/ui); "" when the
// executable's path cannot be read.
std::string default_ui_dir();

// The dashboard the settings ask for: none with `ui: false`; the files of `ui_dir` (throws
// std::runtime_error when they cannot be loaded); else those of default_ui_dir(), or none (one
// line on stderr says so) when that directory holds no index.html.
std::optional<UiFiles> load_dashboard(const UiSettings& settings);

}  // namespace keyward::collector
