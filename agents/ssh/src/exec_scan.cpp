// SPDX-License-Identifier: Apache-2.0
#include "exec_scan.hpp"

#include "session.hpp"

#include <keyward/common/secret.hpp>
#include <keyward/protocol/protocol.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keyward::ssh::detail {
namespace {

constexpr std::size_t kMaxOutput = 1ull << 30;  // the findings document a host may send back

// Exit codes of the set-up steps of the remote script (the scan's own are 0, 1 and 2).
constexpr int kNoTempDir = 120, kShortCopy = 121, kCannotRun = 122, kOtherPlatform = 123;

std::string local_platform() {
  struct utsname u {};
  if (::uname(&u) != 0) return {};
  return std::string(u.sysname) + " " + u.machine;
}

// The binary to copy: the given one, else the stripped copy built or installed with this one
// (cli/CMakeLists.txt), else this one.
std::string binary_to_copy(const std::string& given) {
  if (!given.empty()) return given;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& stripped : {self.parent_path() / "keyward-remote",                      // the build tree
                                 self.parent_path() / "../libexec/keyward/keyward-remote"})  // installed
      if (std::filesystem::is_regular_file(stripped, ec)) return stripped.lexically_normal().string();
    return self.string();
  }
  return "/proc/self/exe";
}

bool read_whole(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return static_cast<bool>(in) || in.eof();
}

// Appends a password file and a newline to `out`; its bytes pass through wiped memory only.
bool append_secret_file(const std::string& path, common::SecretBytes& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  common::SecretBytes chunk(64 * 1024);
  while (in) {
    in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
    out.append(std::string_view(reinterpret_cast<const char*>(chunk.data()), static_cast<std::size_t>(in.gcount())));
  }
  if (!in.eof()) return false;
  out.push_back('\n');
  return true;
}

// The script run by /bin/sh on the host (see the top of exec_scan.hpp): everything in one
// session, so one channel and no extra process per step. The platform is checked after the copy
// is read (stdin must be drained either way); a binary the loader cannot start exits 126 or 127.
std::string remote_script(std::size_t binary_size, std::size_t passwords_size, const scanner::ScanOptions& o) {
  const std::string pw = passwords_size != 0 ? "\"$d/passwords\"" : std::string();
  std::string args = remote_scan_arguments(o, passwords_size != 0 ? std::string("PASSWORDS") : std::string());
  if (passwords_size != 0) args.replace(args.find("'PASSWORDS'"), 11, pw);
  return fmt::format(
      "umask 077; d=$(mktemp -d \"${{TMPDIR:-/tmp}}/keyward-remote.XXXXXXXXXX\") || exit {0}\n"
      "trap 'rm -rf \"$d\"' EXIT; trap 'exit 129' HUP INT TERM PIPE\n"
      "head -c {4} > \"$d/keyward\" && [ \"$(wc -c < \"$d/keyward\")\" -eq {4} ] || exit {1}\n"
      "if [ {5} -ne 0 ]; then head -c {5} > \"$d/passwords\" && [ \"$(wc -c < \"$d/passwords\")\" -eq {5} ] || exit "
      "{1}; fi\n"
      "p=$(uname -sm); [ \"$p\" = {6} ] || {{ printf '%s\\n' \"$p\" >&2; exit {3}; }}\n"
      "chmod 700 \"$d/keyward\"\n"
      "\"$d/keyward\" scan --format jsonl --quiet --stop-on-stdin-eof --remove-dir \"$d\" {7}\n"
      "s=$?; [ $s -eq 126 ] || [ $s -eq 127 ] && exit {2}; exit $s\n",
      kNoTempDir, kShortCopy, kCannotRun, kOtherPlatform, binary_size, passwords_size, shell_quote(local_platform()),
      args);
}

// The jsonl the remote keyward printed, read back through the collector's hardened report
// parser (a host could send anything): the lines are joined into one report document as text
// (the summary line's object, with the findings lines as its "findings" array) and parsed once.
std::optional<scanner::ScanResult> parse_jsonl(const std::string& out, std::string& error) {
  std::string findings = "[", head;
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t nl = out.find('\n', at);
    if (nl == std::string::npos) nl = out.size();
    std::string_view line(out.data() + at, nl - at);
    at = nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() != '{' || line.back() != '}') {
      error = "the host's keyward sent a line that is not a JSON object";
      return std::nullopt;
    }
    if (at >= out.size() || out.find_first_not_of("\r\n ", at) == std::string::npos) {
      head = line;  // the summary comes last
      break;
    }
    if (findings.size() > 1) findings.push_back(',');
    findings.append(line);
  }
  if (head.empty()) {
    error = "the host's keyward ended before its summary line";
    return std::nullopt;
  }
  findings.push_back(']');
  head.pop_back();  // its closing brace: the findings and the report id go in before it
  head += ",\"findings\":" + findings + ",\"report_id\":\"" + protocol::new_report_id() + "\"}";
  auto report = protocol::parse_report(head);
  if (!report) {
    error = "the host's keyward sent a bad document: " + report.error().message;
    return std::nullopt;
  }
  return std::move(report->result);
}

HostResult failed(const Target& t, HostStatus s, std::string m) {
  HostResult r;
  r.target = t;
  r.status = s;
  r.message = std::move(m);
  return r;
}

std::string first_line(std::string s) {
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

std::string remote_scan_arguments(const scanner::ScanOptions& o, const std::string& passwords_path) {
  std::string a;
  auto add = [&a](std::string_view flag, const std::string& value = {}) {
    a += flag;
    if (!value.empty()) a += " " + shell_quote(value);
    a += ' ';
  };
  for (const auto& e : o.excludes) add("--exclude", e);
  if (!o.default_excludes) add("--no-default-excludes");
  add("--max-size", std::to_string(o.max_size));
  if (o.threads != 0) add("--threads", std::to_string(o.threads));
  if (o.one_file_system) add("--one-file-system");
  if (!o.skip_network_fs) add("--include-network-fs");
  if (!o.archives) add("--no-archives");
  add("--archive-depth", std::to_string(o.archive_limits.max_depth));
  add("--max-depth", std::to_string(o.max_depth));
  if (!o.nearby_passwords) add("--no-nearby-passwords");
  if (!passwords_path.empty()) add("--passwords", passwords_path);
  a += "--";
  for (const auto& r : o.roots) a += " " + shell_quote(r);
  return a;
}

HostResult exec_scan(const Target& target, const RemoteScanOptions& options) {
  Connected c = connect(target, options.connect);
  if (!c.session) return failed(target, c.failure.status, c.failure.message);
  ssh_session s = c.session.get();

  std::string binary;
  const std::string binary_path = binary_to_copy(options.self_binary);
  if (!read_whole(binary_path, binary)) return failed(target, HostStatus::error, "cannot read " + binary_path);
  common::SecretBytes passwords;
  for (const auto& file : options.password_files)
    if (!append_secret_file(file, passwords)) return failed(target, HostStatus::error, "cannot read " + file);

  std::string out;
  bool too_big = false;
  const std::string_view input[] = {binary, passwords.view()};
  const std::string script = remote_script(binary.size(), passwords.size(), options.scan);
  const ExecResult r = exec(
      s, "exec /bin/sh -c " + shell_quote(script), input, /*keep_stdin_open=*/true,
      [&](std::string_view d) {
        if (out.size() + d.size() > kMaxOutput) return too_big = true, false;
        out.append(d);
        return true;
      },
      options.scan.cancel);
  if (r.exit_status == kOtherPlatform)
    return failed(target, HostStatus::incompatible,
                  "exec mode needs the host to be " + local_platform() + " like this machine, and it says '" +
                      first_line(r.stderr_text) + "': use --mode sftp");
  if (r.exit_status == kCannotRun)
    return failed(target, HostStatus::incompatible,
                  "this keyward cannot run on the host (" + first_line(r.stderr_text) + "): use --mode sftp");
  if (r.exit_status == kNoTempDir || r.exit_status == kShortCopy)
    return failed(target, HostStatus::error,
                  "could not copy keyward to a private temporary directory on the host: " + first_line(r.stderr_text));
  if (too_big) return failed(target, HostStatus::error, "the host's keyward sent more than 1 GiB");
  std::string error;
  auto result = parse_jsonl(out, error);
  if (!result) {
    const bool cut = r.lost || (options.scan.cancel != nullptr && options.scan.cancel->load());
    return failed(target, cut ? HostStatus::partial : HostStatus::error,
                  cut ? std::string("the connection broke before the scan ended")
                      : error + (r.stderr_text.empty() ? "" : ": " + first_line(r.stderr_text)));
  }
  HostResult h;
  h.target = target;
  h.status = result->complete && !r.lost ? HostStatus::ok : HostStatus::partial;
  if (h.status == HostStatus::partial) h.message = "the scan on the host did not finish";
  result->host.hostname = target.label();
  for (auto& f : result->findings) f.location.host = target.label();
  h.result = std::move(*result);
  return h;
}

}  // namespace keyward::ssh::detail
