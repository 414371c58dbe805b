// SPDX-License-Identifier: Apache-2.0
#include "spool.hpp"

#include "fs_util.hpp"
#include "gzip.hpp"

#include <keyward/protocol/protocol.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace keyward::agent {
namespace {

constexpr std::string_view kSuffix = ".json.gz";
constexpr std::size_t kSeqDigits = 16;

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw std::runtime_error("cannot list " + dir + ": " + std::strerror(errno));
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n(e->d_name);
    if (n != "." && n != "..") out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace

bool Spool::parse_name(std::string_view name, std::uint64_t& sequence, std::string& report_id) {
  if (name.size() != kSeqDigits + 1 + 32 + kSuffix.size()) return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix || name[kSeqDigits] != '-') return false;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < kSeqDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  const std::string_view id = name.substr(kSeqDigits + 1, 32);
  if (!protocol::valid_report_id(id)) return false;
  sequence = seq;
  report_id = std::string(id);
  return true;
}

Spool::Spool(std::string dir, std::uint64_t max_bytes, std::size_t max_rejected)
    : dir_(std::move(dir)), max_bytes_(max_bytes), max_rejected_(max_rejected) {
  make_private_dir(dir_);
  make_private_dir(rejected_dir());
  // A temporary file is a report whose writer died before the rename: never complete, and the
  // next scan makes a new full snapshot, so it is removed rather than resent.
  for (const auto& n : names_in(dir_))
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) ::unlink((dir_ + "/" + n).c_str());
}

std::vector<Spool::Entry> Spool::list_dir(const std::string& dir) const {
  std::vector<Entry> out;
  for (const auto& n : names_in(dir)) {
    Entry e;
    if (!parse_name(n, e.sequence, e.report_id)) continue;
    e.name = n;
    e.path = dir + "/" + n;
    struct stat st {};
    if (::stat(e.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    e.bytes = static_cast<std::uint64_t>(st.st_size);
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
  return out;
}

std::vector<Spool::Entry> Spool::list() const { return list_dir(dir_); }
std::vector<Spool::Entry> Spool::rejected() const { return list_dir(rejected_dir()); }

std::uint64_t Spool::bytes() const {
  std::uint64_t n = 0;
  for (const auto& e : list()) n += e.bytes;
  return n;
}

std::uint64_t Spool::next_sequence() const {
  std::uint64_t last = 0;
  for (const auto& e : list()) last = std::max(last, e.sequence);
  for (const auto& e : rejected()) last = std::max(last, e.sequence);
  return last + 1;
}

Spool::Added Spool::add(const std::string& report_id, std::string_view report_json) {
  if (!protocol::valid_report_id(report_id)) throw std::invalid_argument("spool: bad report id");
  return add_compressed(report_id, gzip_compress(report_json));
}

Spool::Added Spool::add_compressed(const std::string& report_id, const std::string& gz) {
  if (!protocol::valid_report_id(report_id)) throw std::invalid_argument("spool: bad report id");
  Added added;
  // Make room first: the oldest reports go (the new one is a newer full snapshot).
  auto waiting = list();
  std::uint64_t total = 0;
  for (const auto& e : waiting) total += e.bytes;
  for (const auto& e : waiting) {
    if (total + gz.size() <= max_bytes_) break;
    if (::unlink(e.path.c_str()) == 0 || errno == ENOENT) {
      total -= e.bytes;
      ++added.dropped;
    }
  }
  Entry& e = added.entry;
  e.sequence = next_sequence();
  e.report_id = report_id;
  e.name = fmt::format("{:0{}}-{}{}", e.sequence, kSeqDigits, report_id, kSuffix);
  e.path = dir_ + "/" + e.name;
  e.bytes = gz.size();
  write_file_atomic(e.path, gz, 0600);
  return added;
}

std::string Spool::read_compressed(const Entry& e) const { return read_file(e.path); }

void Spool::remove(const Entry& e) {
  if (::unlink(e.path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error("cannot remove " + e.path + ": " + std::strerror(errno));
  fsync_dir(dir_);
}

void Spool::reject(const Entry& e) {
  const std::string to = rejected_dir() + "/" + e.name;
  if (::rename(e.path.c_str(), to.c_str()) != 0)
    throw std::runtime_error("cannot move " + e.path + " to " + rejected_dir() + ": " + std::strerror(errno));
  fsync_dir(rejected_dir());
  fsync_dir(dir_);
  auto kept = rejected();
  for (std::size_t i = 0; i + max_rejected_ < kept.size(); ++i) ::unlink(kept[i].path.c_str());
}

}  // namespace keyward::agent
