// SPDX-License-Identifier: Apache-2.0
#include "fs_util.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace keyward::agent {
namespace {

// Makes one directory 0700 (mkdir's mode is narrowed by the umask, chmod sets it exactly);
// an existing directory is left alone.
void make_one_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    if (::chmod(dir.c_str(), 0700) != 0)
      throw std::runtime_error("cannot set the mode of directory " + dir + ": " + std::strerror(errno));
    return;
  }
  const int e = errno;
  struct stat st {};
  if (e == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
  throw std::runtime_error("cannot create directory " + dir + ": " + std::strerror(e == EEXIST ? ENOTDIR : e));
}

// `name` is `<base>.<12 hex>.tmp`.
bool is_temporary_of(std::string_view name, std::string_view base) {
  constexpr std::size_t kHex = 12;
  if (name.size() != base.size() + 1 + kHex + 4 || !name.starts_with(base) || name[base.size()] != '.' ||
      !name.ends_with(".tmp"))
    return false;
  const std::string_view hex = name.substr(base.size() + 1, kHex);
  return std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void make_private_dir(const std::string& dir) {
  if (dir.empty()) throw std::runtime_error("cannot create a directory with an empty name");
  // Every prefix that ends before a '/', then the whole path: parents first.
  for (std::size_t slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
    if (dir[slash - 1] != '/') make_one_private_dir(dir.substr(0, slash));
  if (dir.back() != '/') make_one_private_dir(dir);
}

void replace_files_together(std::span<const NewFile> files) {
  std::vector<std::unique_ptr<common::AtomicFile>> staged;  // destroyed uncommitted: temporaries removed
  for (const NewFile& f : files) {
    staged.push_back(std::make_unique<common::AtomicFile>(f.path, f.mode));
    staged.back()->write(f.data);
    staged.back()->sync();
  }
  // The files that must not exist go first: when one does, nothing has been replaced yet.
  std::vector<std::string> created;  // by commit_new: ours to remove if a later one fails
  try {
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (files[i].replace) continue;
      staged[i]->commit_new();
      created.push_back(files[i].path);
    }
    for (std::size_t i = 0; i < files.size(); ++i)
      if (files[i].replace) staged[i]->commit();
  } catch (...) {
    for (const auto& p : created) ::unlink(p.c_str());
    throw;
  }
}

int remove_leftover_temporaries(const std::string& path) {
  const std::string dir = dir_of(path);
  const std::string base = path.substr(path.rfind('/') + 1);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return 0;
  int removed = 0;
  while (const dirent* e = ::readdir(d.get()))
    if (is_temporary_of(e->d_name, base) && ::unlink((dir + "/" + e->d_name).c_str()) == 0) ++removed;
  return removed;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace keyward::agent
