// SPDX-License-Identifier: Apache-2.0
// Append-only JSON lines file of events, with catch-up after a crash.
#include "store/event_file.hpp"

#include <keyward/collector/audit_key.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace keyward::collector::detail {
namespace {

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  throw StoreError(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// Reads [from, to) of the file.
std::string read_range(int fd, off_t from, off_t to, const std::string& path) {
  std::string buf(static_cast<std::size_t>(to - from), '\0');
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, from + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot read the events file", path);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  buf.resize(done);
  return buf;
}

// Position just after the last '\n' strictly before `end`; 0 if none.
off_t line_start_before(int fd, off_t end, const std::string& path) {
  constexpr off_t kChunk = 4096;
  off_t pos = end;
  while (pos > 0) {
    const off_t from = pos > kChunk ? pos - kChunk : 0;
    const std::string chunk = read_range(fd, from, pos, path);
    const auto nl = chunk.rfind('\n');
    if (nl != std::string::npos) return from + static_cast<off_t>(nl) + 1;
    pos = from;
  }
  return 0;
}

// The seq of the last event line in [0, end) (end just after a '\n'), skipping the signed
// checkpoint lines of the audit log (which have no seq); 0 when there is none.
std::uint64_t last_event_seq(int fd, off_t end, const std::string& path) {
  while (end > 0) {
    const off_t start = line_start_before(fd, end - 1, path);
    const std::string line = read_range(fd, start, end - 1, path);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == kCheckpointType && !j.contains("seq")) {
      end = start;
      continue;
    }
    if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned())
      throw StoreError(fmt::format("the last line of the events file {} is not an event: move the file aside", path));
    return j["seq"].get<std::uint64_t>();
  }
  return 0;
}

}  // namespace

nlohmann::json event_to_json(const Event& e) {
  return {{"seq", e.seq},
          {"time", e.time},
          {"type", e.type},
          {"agent_id", e.agent_id},
          {"hostname", e.hostname},
          {"identity", e.identity},
          {"finding_id", e.finding_id},
          {"detail", e.detail.is_null() ? nlohmann::json::object() : e.detail}};
}

EventFile::EventFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) fail_errno("cannot open the events file", path);
  if (::fchmod(fd_, 0600) != 0) {
    ::close(fd_);
    fail_errno("cannot chmod 0600 the events file", path);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    fail_errno("cannot stat the events file", path);
  }
  off_t end = st.st_size;
  if (end == 0) return;
  // A torn last line (a crash during a write) is cut; its event is written again below.
  if (read_range(fd_, end - 1, end, path) != "\n") {
    const off_t start = line_start_before(fd_, end, path);
    if (::ftruncate(fd_, start) != 0) {
      ::close(fd_);
      fail_errno("cannot cut a torn line from the events file", path);
    }
    end = start;
  }
  try {
    last_seq_ = last_event_seq(fd_, end, path);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

EventFile::~EventFile() {
  if (fd_ >= 0) ::close(fd_);
}

void EventFile::append(const std::vector<Event>& events) {
  std::string out;
  std::uint64_t last = last_seq_;
  for (const auto& e : events) {
    if (e.seq <= last) continue;
    out += event_to_json(e).dump();
    out += '\n';
    last = e.seq;
  }
  if (out.empty()) return;
  write_all(out);
  last_seq_ = last;
}

void EventFile::append_line(const std::string& line) { write_all(line + '\n'); }

void EventFile::write_all(const std::string& out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write the events file", path_);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd_) != 0) fail_errno("cannot fsync the events file", path_);
}

}  // namespace keyward::collector::detail
