// SPDX-License-Identifier: Apache-2.0
// The inventory format is documented in docs/remote.md ("The inventory").
#include <keyward/ssh/inventory.hpp>

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace keyward::ssh {
namespace {

// What `defaults:` gives every host (and a host's own keys override).
struct HostDefaults {
  std::string user;
  std::uint16_t port = 22;
  std::vector<std::string> paths{"/"};
  Mode mode = Mode::sftp;
  std::string identity_file;
  std::string known_hosts;
};

const std::set<std::string>& default_keys() {
  static const std::set<std::string> keys{"user", "port", "paths", "mode", "identity", "known_hosts"};
  return keys;
}

const std::set<std::string>& host_keys() {
  static const std::set<std::string> keys{"host",  "url",  "name",     "user",       "port",
                                          "paths", "mode", "identity", "known_hosts"};
  return keys;
}

std::string key_list(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// Reads one file's nodes; every error names the file, the line (1-based) and the key.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {
    const auto slash = file_.find_last_of('/');
    dir_ = slash == std::string::npos ? "." : slash == 0 ? "/" : file_.substr(0, slash);
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& why) const {
    const int line = at.IsDefined() ? at.Mark().line + 1 : 0;
    if (line > 0) throw std::runtime_error(fmt::format("{}:{}: {}: {}", file_, line, key, why));
    throw std::runtime_error(fmt::format("{}: {}: {}", file_, key, why));
  }

  void known_keys(const YAML::Node& map, const std::string& prefix, const std::set<std::string>& keys) const {
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) fail(kv.first, prefix + "?", "keys must be plain names");
      const std::string k = kv.first.as<std::string>();
      if (!keys.count(k)) fail(kv.first, prefix + k, "unknown key (known: " + key_list(keys) + ")");
    }
  }

  std::string scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "must be a single value");
    std::string s = n.as<std::string>();
    if (s.empty()) fail(n, key, "must not be empty");
    return s;
  }

  std::uint16_t port(const YAML::Node& n, const std::string& key) const {
    const std::string s = scalar(n, key);
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535)
      fail(n, key, fmt::format("must be a port number from 1 to 65535 (got \"{}\")", s));
    return static_cast<std::uint16_t>(v);
  }

  Mode mode(const YAML::Node& n, const std::string& key) const {
    const std::string s = scalar(n, key);
    const auto m = parse_mode(s);
    if (!m) fail(n, key, fmt::format("must be sftp or exec (got \"{}\")", s));
    return *m;
  }

  std::string remote_path(const YAML::Node& n, const std::string& key) const {
    std::string p = scalar(n, key);
    if (p.front() != '/') fail(n, key, fmt::format("must be an absolute path on the host (got \"{}\")", p));
    return p;
  }

  std::vector<std::string> paths(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) return {remote_path(n, key)};
    if (!n.IsSequence() || n.size() == 0) fail(n, key, "must be a list of absolute paths, e.g. [/etc, /home]");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(remote_path(n[i], fmt::format("{}[{}]", key, i)));
    return out;
  }

  // A local file: "~/" is the home directory, a relative path is relative to the inventory's directory.
  std::string local_file(const YAML::Node& n, const std::string& key) const {
    std::string p = scalar(n, key);
    if (p.rfind("~/", 0) == 0) {
      const char* home = std::getenv("HOME");
      if (home == nullptr || *home == '\0') fail(n, key, "starts with ~/ but HOME is not set");
      return std::string(home) + p.substr(1);
    }
    if (p.front() != '/' && dir_ != ".") p = dir_ + "/" + p;
    return p;
  }

  HostDefaults defaults(const YAML::Node& n) const {
    HostDefaults d;
    if (!n.IsDefined() || n.IsNull()) return d;
    if (!n.IsMap()) fail(n, "defaults", "must be a mapping, e.g. {user: scan, paths: [/etc]}");
    known_keys(n, "defaults.", default_keys());
    if (n["user"]) d.user = scalar(n["user"], "defaults.user");
    if (n["port"]) d.port = port(n["port"], "defaults.port");
    if (n["paths"]) d.paths = paths(n["paths"], "defaults.paths");
    if (n["mode"]) d.mode = mode(n["mode"], "defaults.mode");
    if (n["identity"]) d.identity_file = local_file(n["identity"], "defaults.identity");
    if (n["known_hosts"]) d.known_hosts = local_file(n["known_hosts"], "defaults.known_hosts");
    return d;
  }

  InventoryHost host(const YAML::Node& n, const HostDefaults& d, const std::string& key) const;

 private:
  void address(const YAML::Node& n, const std::string& key, const HostDefaults& d, InventoryHost& h,
               bool& url_path) const;

  std::string file_;
  std::string dir_;
};

// True when an ssh:// URL's authority names a port ("host:2222", "[::1]:2222").
bool url_names_port(std::string_view url) {
  const auto slash = url.find('/', 6);
  std::string_view authority = url.substr(6, slash == std::string_view::npos ? slash : slash - 6);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    return close != std::string_view::npos && close + 1 < authority.size();
  }
  return authority.find(':') != std::string_view::npos;
}

// Fills h.target from `host:` or `url:` (exactly one; a URL's user and port win over the
// defaults'); url_path: the URL named a path, which becomes the host's only path.
void Reader::address(const YAML::Node& n, const std::string& key, const HostDefaults& d, InventoryHost& h,
                     bool& url_path) const {
  if (n["host"] && n["url"]) fail(n["url"], key + ".url", "give either host or url, not both");
  if (!n["host"] && !n["url"]) fail(n, key, "needs host: NAME or url: ssh://...");
  h.target.user = d.user;
  h.target.port = d.port;
  if (n["host"]) {
    h.target.host = scalar(n["host"], key + ".host");
    if (h.target.host.find_first_of("/@ \t") != std::string::npos)
      fail(n["host"], key + ".host", "a host name or address only (user, port and paths have their own keys)");
    if (std::count(h.target.host.begin(), h.target.host.end(), ':') == 1)  // IPv6 addresses have several
      fail(n["host"], key + ".host", "a port goes in port: (or write the host as ssh://HOST:PORT)");
    return;
  }
  const std::string text = scalar(n["url"], key + ".url");
  std::string error;
  const auto url = parse_ssh_url(text, error);
  if (!url) fail(n["url"], key + ".url", error);
  h.target.host = url->target.host;
  if (!url->target.user.empty()) h.target.user = url->target.user;
  if (url_names_port(text)) h.target.port = url->target.port;
  url_path = url->path != "/";
  if (url_path) h.paths = {url->path};
}

InventoryHost Reader::host(const YAML::Node& n, const HostDefaults& d, const std::string& key) const {
  InventoryHost h;
  h.paths = d.paths;
  h.mode = d.mode;
  h.identity_file = d.identity_file;
  h.known_hosts = d.known_hosts;
  bool url_path = false;
  if (n.IsScalar()) {  // a bare name, or a URL
    YAML::Node as_map;
    as_map[is_ssh_url(n.as<std::string>()) ? "url" : "host"] = n;
    address(as_map, key, d, h, url_path);
    h.name = h.target.label();
    return h;
  }
  if (!n.IsMap()) fail(n, key, "must be a host name, an ssh:// URL or a mapping with host: or url:");
  known_keys(n, key + ".", host_keys());
  address(n, key, d, h, url_path);
  if (n["user"]) h.target.user = scalar(n["user"], key + ".user");
  if (n["port"]) h.target.port = port(n["port"], key + ".port");
  if (n["paths"]) {
    if (url_path) fail(n["paths"], key + ".paths", "the url already names a path; give one or the other");
    h.paths = paths(n["paths"], key + ".paths");
  }
  if (n["mode"]) h.mode = mode(n["mode"], key + ".mode");
  if (n["identity"]) h.identity_file = local_file(n["identity"], key + ".identity");
  if (n["known_hosts"]) h.known_hosts = local_file(n["known_hosts"], key + ".known_hosts");
  h.name = n["name"] ? scalar(n["name"], key + ".name") : h.target.label();
  return h;
}

}  // namespace

std::vector<InventoryHost> load_inventory(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read the inventory", path));
  std::ostringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(fmt::format("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  const Reader r(path);
  if (!root.IsMap()) r.fail(root, "hosts", "the inventory must be a mapping with a hosts: list");
  r.known_keys(root, "", {"defaults", "hosts"});
  const HostDefaults d = r.defaults(root["defaults"]);
  const YAML::Node hosts = root["hosts"];
  if (!hosts || !hosts.IsSequence() || hosts.size() == 0)
    r.fail(hosts ? hosts : root, "hosts", "must be a non-empty list of hosts");
  std::vector<InventoryHost> out;
  std::set<std::string> names;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const std::string key = fmt::format("hosts[{}]", i);
    InventoryHost h = r.host(hosts[i], d, key);
    if (!names.insert(h.name).second)
      r.fail(hosts[i], key + ".name", fmt::format("\"{}\" names two hosts; give one of them a name:", h.name));
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace keyward::ssh
