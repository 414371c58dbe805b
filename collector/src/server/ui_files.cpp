// SPDX-License-Identifier: Apache-2.0
// The dashboard's file server: load once, answer from memory (docs/dashboard.md).
#include "server/ui_files.hpp"

#include "server/security_headers.hpp"

#include <keyward/protocol/protocol.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace keyward::collector {
namespace {

namespace fs = std::filesystem;

// The media type of a file the dashboard may hold, by its extension; "" for any other.
std::string_view content_type_of(std::string_view name) {
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},              {".png", "image/png"},
      {".ico", "image/x-icon"},               {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes)
    if (name.size() > t.ext.size() && name.substr(name.size() - t.ext.size()) == t.ext) return t.type;
  return {};
}

// A name a request may ask for: letters, digits, '.', '-', '_', not starting with '.'.
bool servable_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 128) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_'))
      return false;
  return true;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) throw std::runtime_error(path.string() + ": cannot read this dashboard file");
  return body;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// An answer with the dashboard's headers; errors are never cached.
ApiResponse dashboard_answer(unsigned status, std::string body, std::string_view content_type) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::string(content_type);
  for (const auto& [name, value] : kDashboardHeaders) r.headers.emplace_back(name, value);
  if (status != 200)
    for (auto& [name, value] : r.headers)
      if (name == "Cache-Control") value = "no-store";
  return r;
}

ApiResponse dashboard_error(unsigned status, std::string_view code, std::string_view message) {
  return dashboard_answer(status, protocol::error_body(code, message).dump() + "\n", "application/json");
}

}  // namespace

UiFiles::UiFiles(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot read the dashboard directory (ui_dir): " + ec.message());
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    const std::string_view type = content_type_of(name);
    if (!servable_name(name) || type.empty() || !entry.is_regular_file(ec)) continue;
    if (files_.size() == kMaxFiles)
      throw std::runtime_error(dir + ": more than " + std::to_string(kMaxFiles) + " dashboard files");
    if (entry.file_size(ec) > kMaxFileBytes)
      throw std::runtime_error(entry.path().string() + ": a dashboard file over " +
                               std::to_string(kMaxFileBytes >> 20) + " MiB");
    files_.emplace(name, File{read_file(entry.path()), type});
  }
  if (!files_.count("index.html")) throw std::runtime_error(dir + ": not a dashboard directory (no index.html)");
}

bool UiFiles::serves(std::string_view target) {
  const std::string_view path = path_of(target);
  return path == "/ui" || path.substr(0, 4) == "/ui/";
}

ApiResponse UiFiles::answer(std::string_view method, std::string_view target) const {
  if (method != "GET" && method != "HEAD") {
    ApiResponse r = dashboard_error(405, "method_not_allowed", "the dashboard's files are read with GET or HEAD");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string_view path = path_of(target);
  if (path == "/ui") {
    ApiResponse r = dashboard_answer(301, "", "text/plain; charset=utf-8");
    r.headers.emplace_back("Location", "/ui/");
    return r;
  }
  // Everything after "/ui/" is one name, looked up as it is: a name with '/', '%' or ".." was
  // never loaded, so it is a 404 whatever it would decode or normalise to.
  std::string_view name = path.substr(4);
  if (name.empty()) name = "index.html";
  const auto it = files_.find(name);
  if (it == files_.end()) return dashboard_error(404, "not_found", "no such dashboard file");
  return dashboard_answer(200, it->second.body, it->second.content_type);
}

std::string default_ui_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (self.parent_path() / ".." / "share" / "keyward" / "ui").lexically_normal().string();
}

std::optional<UiFiles> load_dashboard(const UiSettings& settings) {
  if (!settings.enabled) return std::nullopt;
  if (!settings.dir.empty()) return UiFiles(settings.dir);
  const std::string dir = default_ui_dir();
  std::error_code ec;
  if (dir.empty() || !fs::is_regular_file(fs::path(dir) / "index.html", ec)) {
    std::fprintf(stderr,
                 "keyward-collector: no dashboard files in %s: /ui/ is not served (set ui_dir, or ui: false)\n",
                 dir.empty() ? "share/keyward/ui" : dir.c_str());
    return std::nullopt;
  }
  return UiFiles(dir);
}

}  // namespace keyward::collector
