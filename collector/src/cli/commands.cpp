// SPDX-License-Identifier: Apache-2.0
#include "cli/commands.hpp"

#include "cli/report.hpp"

#include "server/ca.hpp"
#include "server/config.hpp"
#include "server/fleet_documents.hpp"
#include "server/json_views.hpp"
#include "server/remote_scans.hpp"
#include "server/server.hpp"

#include <keyward/collector/audit_key.hpp>
#include <keyward/collector/store.hpp>
#include <keyward/common/atomic_file.hpp>
#include <keyward/common/terminal.hpp>
#include <keyward/migrate/plan.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace keyward::collector::cli {
namespace {

// What an agent or a token holder chose (host names, tags, token names), escaped for the terminal:
// an enrolled host named with escapes and a newline must not forge lines of a listing.
std::string safe(std::string_view s) { return common::terminal_safe(s); }

namespace fs = std::filesystem;
using json = nlohmann::json;

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

Config need_config(const Options& o) {
  if (o.config.empty()) throw std::runtime_error("--config FILE is required (the collector.yaml that init wrote)");
  return load_config(o.config);
}

// Each signed checkpoint also to syslog(3) (audit.syslog), so that a copy leaves the machine.
std::function<void(const std::string&)> syslog_copy(bool on) {
  if (!on) return {};
  openlog("keyward-collector", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
  return [](const std::string& line) { syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line.c_str()); };
}

// The password of a PostgreSQL database from its file (the first line), which only its owner
// may read; null when the config names none.
std::shared_ptr<const common::SecretBytes> database_password(const Config& c) {
  if (c.database_password_file.empty()) return nullptr;
  struct stat st {};
  if (::stat(c.database_password_file.c_str(), &st) != 0)
    throw std::runtime_error(c.database_password_file + ": cannot read the database password file");
  if ((st.st_mode & 077) != 0)
    throw std::runtime_error(c.database_password_file +
                             ": the database password file must be readable by its owner "
                             "only (chmod 600)");
  std::ifstream in(c.database_password_file, std::ios::binary);
  auto password = std::make_shared<common::SecretBytes>();
  for (char ch; in.get(ch) && ch != '\n' && ch != '\r';) password->push_back(static_cast<std::uint8_t>(ch));
  if (!in && !in.eof()) throw std::runtime_error(c.database_password_file + ": cannot read the database password file");
  return password;
}

// The store of the config's database: a SQLite file, or PostgreSQL (docs/deployment.md).
std::unique_ptr<Store> open_database(const Config& c, const std::string& events_file, const FleetOptions& fleet) {
  if (is_postgres_url(c.database))
    return open_postgres_store(PostgresTarget{c.database, database_password(c)}, events_file, fleet);
  return open_sqlite_store(c.database, events_file, fleet);
}

// backup and restore copy a SQLite file; PostgreSQL has its own tools.
void need_sqlite(const Config& c, const char* command) {
  if (is_postgres_url(c.database))
    throw std::runtime_error(std::string(command) +
                             " copies a SQLite database; this collector's inventory is in PostgreSQL: back it up "
                             "with pg_dump or the server's own backups (docs/deployment.md, \"Backup and restore\")");
}

// The store with its events file; when the audit key exists (serve makes it), every change is
// followed by a signed checkpoint of the audit head.
std::unique_ptr<Store> open_store(const Config& c) {
  FleetOptions fleet;
  fleet.rules_dirs = c.rules_dirs;
  fleet.hsm_dirs = c.hsm_dirs;
  auto store = open_database(c, c.events_file, fleet);
  if (fs::exists(c.audit.signing_key))
    store->sign_checkpoints(AuditSigningKey::load(c.audit.signing_key), syslog_copy(c.audit.syslog));
  return store;
}

// The store for reading: no events file (a reader must not append the catch-up lines that the
// running server owns), no checkpoints.
std::unique_ptr<Store> open_store_to_read(const Config& c) {
  FleetOptions fleet;
  fleet.rules_dirs = c.rules_dirs;
  fleet.hsm_dirs = c.hsm_dirs;
  return open_database(c, "", fleet);
}

// Makes the audit key when it is missing (init; serve of an install made before it existed),
// and its public half when only that is missing.
void ensure_audit_key(const Config& c) {
  if (!fs::exists(c.audit.signing_key)) {
    AuditSigningKey::create(c.audit.signing_key, c.audit.public_key);
    std::fprintf(stderr, "keyward-collector: made the audit signing key %s (public key %s)\n",
                 c.audit.signing_key.c_str(), c.audit.public_key.c_str());
  } else if (!fs::exists(c.audit.public_key)) {
    common::write_file_atomic(c.audit.public_key, AuditSigningKey::load(c.audit.signing_key)->public_pem(), 0644);
  }
}

Actor cli_actor() {
  std::string user;
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') user = u;
  if (user.empty()) {
    if (const passwd* pw = getpwuid(geteuid())) user = pw->pw_name;
  }
  if (user.empty()) user = std::to_string(geteuid());
  return Actor{"cli:" + user, std::nullopt};
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

// A key the fleet already reported as a finding stays an exposure (docs/fleet.md, "Fleet risk").
void add_managed_identities(Store& store, const Config& c) {
  const std::pair<std::string, const char*> keys[] = {
      {c.tls.ca_cert, "keyward-collector CA key"},
      {c.tls.server_cert, "keyward-collector server key"},
      {fs::exists(c.audit.signing_key) ? c.audit.signing_key : std::string(), "keyward-collector audit key"}};
  for (const auto& [file, what] : keys)
    if (!file.empty() && !store.add_managed_identity(spki_sha256_of_file(file), what))
      std::fprintf(stderr,
                   "keyward-collector: warning: the %s was already reported as a finding; it is shown as exposed\n",
                   what);
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

[[noreturn]] void refused(const Refusal& r) { throw std::runtime_error(r.message + " (" + r.code + ")"); }

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// The scheduler of remote_scans (docs/fleet.md, "Remote scans"), its inventory read now: a bad
// one stops serve and remote-scan before anything runs.
std::unique_ptr<RemoteScanner> remote_scanner(const Config& c, Store& store) {
  if (!c.remote_scans) return nullptr;
  return std::make_unique<RemoteScanner>(*c.remote_scans, ssh::load_inventory(c.remote_scans->inventory), store,
                                         ssh::scan_host, keyward_beside_self());
}

}  // namespace

int run_serve(const Options& o) {
  const Config c = need_config(o);
  ensure_audit_key(c);
  auto store = open_store(c);
  CertificateAuthority ca(c.tls.ca_cert, c.tls.ca_key);
  add_managed_identities(*store, c);
  auto remote = remote_scanner(c, *store);
  store->audit(Actor{"collector", std::nullopt}, "collector.start", c.listen_host + ":" + std::to_string(c.listen_port),
               json::object());
  Server server(c, *store, ca);
  server.stop_on_signals();
  if (remote) remote->start();  // its own thread: the server's I/O threads never wait for SSH
  server.run();
  if (remote) remote->stop();
  store->audit(Actor{"collector", std::nullopt}, "collector.stop", c.listen_host + ":" + std::to_string(c.listen_port),
               json::object());
  return 0;
}

namespace {

// The files init writes in its data directory.
struct InitPaths {
  fs::path dir, pki, config;
};

// Creates the data directory (0700) and its pki/; refuses files of an earlier init unless --force.
InitPaths prepare_data_dir(const Options& o) {
  InitPaths p;
  p.dir = fs::absolute(o.dir).lexically_normal();
  p.pki = p.dir / "pki";
  p.config = p.dir / "collector.yaml";
  std::error_code ec;
  fs::create_directories(p.pki, ec);
  if (ec) throw std::runtime_error(p.pki.string() + ": cannot create: " + ec.message());
  ::chmod(p.dir.c_str(), 0700);
  ::chmod(p.pki.c_str(), 0700);
  std::vector<fs::path> ours = {p.config, p.pki / "server.pem", p.pki / "server.key"};
  if (o.ca_cert.empty()) {
    ours.push_back(p.pki / "ca.pem");
    ours.push_back(p.pki / "ca.key");
  }
  for (const auto& f : ours) {
    if (!fs::exists(f)) continue;
    if (!o.force)
      throw std::runtime_error(
          f.string() + " exists: " + p.dir.string() +
          " is initialised already (--force replaces its CA and certificates; enrolled agents must enroll again)");
    fs::remove(f);
  }
  return p;
}

// The names in the server certificate: --san, else the listen host, localhost, loopback and the host name.
std::vector<std::string> server_names(const Options& o, const Config& c) {
  std::vector<std::string> sans = o.sans;
  if (!sans.empty()) return sans;
  const std::string& lh = c.listen_host;
  if (lh != "0.0.0.0" && lh != "::" && lh != "localhost" && lh != "127.0.0.1") sans.push_back(lh);
  sans.insert(sans.end(), {"localhost", "127.0.0.1", "::1"});
  if (const std::string h = host_name(); !h.empty() && h != "localhost") sans.push_back(h);
  return sans;
}

void write_config_file(const Config& c, const fs::path& path) {
  const std::string text = config_to_yaml(c);
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
  ::chmod(path.c_str(), 0600);
}

void print_init_summary(const InitPaths& p, const Config& loaded, const Options& o,
                        const std::vector<std::string>& sans, const NewToken& admin) {
  std::printf("keyward-collector: initialised %s\n", p.dir.c_str());
  std::printf("  config:    %s\n", p.config.c_str());
  std::printf("  database:  %s\n", loaded.database.c_str());
  std::printf("  CA:        %s\n", loaded.tls.ca_cert.c_str());
  std::printf("             hand this file to agents: keyward-agent enroll --ca ca.pem ...\n");
  std::printf("  server:    %s (names: %s)\n", loaded.tls.server_cert.c_str(), join(sans, ", ").c_str());
  std::printf("  listen:    %s\n", o.listen.c_str());
  std::printf("admin token %s (shown once, store it now; expires %s):\n%s\n", admin.info.id.c_str(),
              rfc3339(admin.info.expires_at).c_str(), admin.secret.c_str());
  std::printf("next: keyward-collector serve --config %s\n", p.config.c_str());
}

}  // namespace

int run_init(const Options& o) {
  if (o.dir.empty()) throw std::runtime_error("--dir DIR is required (where the collector keeps its files)");
  if (o.ca_cert.empty() != o.ca_key.empty())
    throw std::runtime_error("--ca-cert and --ca-key go together (your own CA's certificate and its key)");
  auto listen = parse_listen(o.listen);
  if (!listen)
    throw std::runtime_error("--listen must be host:port, e.g. 127.0.0.1:8443 or [::1]:8443, not \"" + o.listen + "\"");
  const InitPaths p = prepare_data_dir(o);
  const bool own_ca = !o.ca_cert.empty();

  Config c;
  c.listen_host = listen->first;
  c.listen_port = listen->second;
  c.data_dir = p.dir.string();
  c.database = o.database.empty() ? "keyward.db" : o.database;
  c.database_password_file =
      o.database_password_file.empty() ? std::string() : fs::absolute(o.database_password_file).string();
  c.events_file = "events.jsonl";
  c.tls.ca_cert = "pki/ca.pem";
  c.tls.ca_key = "pki/ca.key";
  c.tls.server_cert = "pki/server.pem";
  c.tls.server_key = "pki/server.key";
  // c.audit keeps its defaults, pki/audit.key and pki/audit.pub. --force keeps the audit key: it
  // signed the checkpoints written so far.
  if (own_ca) {
    c.tls.ca_cert = fs::absolute(o.ca_cert).lexically_normal().string();
    c.tls.ca_key = fs::absolute(o.ca_key).lexically_normal().string();
    CertificateAuthority check(c.tls.ca_cert, c.tls.ca_key);  // throws when they do not match
  } else {
    const std::string h = host_name();
    make_ca((p.pki / "ca.pem").string(), (p.pki / "ca.key").string(),
            "keyward-collector CA" + (h.empty() ? "" : " " + h));
  }
  const std::vector<std::string> sans = server_names(o, c);
  const auto resolve = [&](const std::string& f) { return fs::path(f).is_absolute() ? f : (p.dir / f).string(); };
  make_server_certificate(resolve(c.tls.ca_cert), resolve(c.tls.ca_key), (p.pki / "server.pem").string(),
                          (p.pki / "server.key").string(), sans);
  write_config_file(c, p.config);

  const Config loaded = load_config(p.config.string());
  ensure_audit_key(loaded);
  auto store = open_store(loaded);
  add_managed_identities(*store, loaded);
  const Actor actor = cli_actor();
  store->audit(actor, "collector.init", p.dir.string(), json{{"listen", o.listen}, {"sans", sans}, {"own_ca", own_ca}});
  const std::int64_t expires = TokenLifetime{}.expires_at(now_seconds());
  auto admin = store->create_token(Role::admin, "initial admin (init)", "", expires, actor);
  if (!admin) refused(admin.error());
  print_init_summary(p, loaded, o, sans, *admin);
  return 0;
}

int run_token_create(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  const Actor actor = cli_actor();
  if (o.enrollment) {
    if (!o.role.empty()) throw std::runtime_error("--enrollment tokens have no --role (they only enroll one agent)");
    auto ttl = parse_duration(o.ttl.empty() ? "24h" : o.ttl);
    if (!ttl || *ttl < 60) throw std::runtime_error("--ttl must be a duration of at least 60s, like 24h or 7d");
    auto tok = store->create_enrollment_token(now_seconds() + *ttl, actor);
    std::fprintf(stderr, "enrollment token %s, one use, expires %s; the secret below is shown once:\n", tok.id.c_str(),
                 rfc3339(tok.expires_at).c_str());
    std::printf("%s\n", tok.secret.c_str());
    return 0;
  }
  auto role = role_from_string(o.role);
  if (!role) throw std::runtime_error("--role must be viewer, analyst, approver or admin (or use --enrollment)");
  if (o.name.empty()) throw std::runtime_error("--name is required: what the token is for (e.g. grafana, alice)");
  const auto lifetime = parse_token_ttl(o.ttl);
  if (!lifetime)
    throw std::runtime_error("--ttl must be a duration from 60s to 3650d, like 90d or 12h, or never (default 90d)");
  const std::int64_t expires = lifetime->expires_at(now_seconds());
  auto tok = store->create_token(*role, o.name, o.principal, expires, actor);
  if (!tok) refused(tok.error());
  std::fprintf(stderr, "token %s (%s, %s, principal %s), expires %s; the secret below is shown once:\n",
               tok->info.id.c_str(), std::string(to_string(tok->info.role)).c_str(), safe(tok->info.name).c_str(),
               safe(tok->info.principal).c_str(), expires == 0 ? "never" : rfc3339(expires).c_str());
  std::printf("%s\n", tok->secret.c_str());
  return 0;
}

int run_token_list(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  std::printf("%-16s  %-8s  %-20s  %-20s  %-7s  %-20s  %s\n", "ID", "ROLE", "CREATED", "EXPIRES", "REVOKED",
              "PRINCIPAL", "NAME");
  for (const auto& t : store->list_tokens())
    std::printf("%-16s  %-8s  %-20s  %-20s  %-7s  %-20s  %s\n", t.id.c_str(), std::string(to_string(t.role)).c_str(),
                rfc3339(t.created_at).c_str(), t.expires_at == 0 ? "never" : rfc3339(t.expires_at).c_str(),
                t.revoked ? "yes" : "no", safe(t.principal).c_str(), safe(t.name).c_str());
  return 0;
}

int run_token_revoke(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  auto r = store->revoke_token(o.id, cli_actor());
  if (!r) refused(r.error());
  std::printf("token %s (%s) revoked\n", r->id.c_str(), safe(r->name).c_str());
  return 0;
}

int run_agents_list(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  std::printf("%-16s  %-8s  %-30s  %-20s  %-20s  %s\n", "ID", "STATUS", "HOSTNAME", "ENROLLED", "LAST_REPORT", "TAGS");
  for (const auto& a : store->list_agents())
    std::printf("%-16s  %-8s  %-30s  %-20s  %-20s  %s\n", a.id.c_str(), std::string(to_string(a.status)).c_str(),
                safe(a.hostname).c_str(), or_dash(rfc3339(a.enrolled_at)).c_str(),
                or_dash(rfc3339(a.last_report_at)).c_str(), safe(or_dash(join(a.tags, ","))).c_str());
  return 0;
}

int run_agents_approve(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  auto r = store->approve_agent(o.id, cli_actor(), now_seconds());
  if (!r) refused(r.error());
  std::printf("agent %s (%s) approved; its held reports are ingested\n", r->id.c_str(), safe(r->hostname).c_str());
  return 0;
}

int run_agents_revoke(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  auto r = store->revoke_agent(o.id, cli_actor(), now_seconds());
  if (!r) refused(r.error());
  std::printf("agent %s (%s) revoked; its next request is refused\n", r->id.c_str(), safe(r->hostname).c_str());
  return 0;
}

int run_agents_tag(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store(c);
  auto r = store->set_agent_tags(o.id, o.tags, cli_actor());
  if (!r) refused(r.error());
  std::printf("agent %s (%s) tags: %s\n", r->id.c_str(), safe(r->hostname).c_str(),
              safe(or_dash(join(r->tags, ","))).c_str());
  return 0;
}

namespace {

// The head exported earlier (`audit head`) that --head FILE names.
AuditHead read_head_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the exported head");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned() ||
      !j.contains("hash") || !j["hash"].is_string())
    throw std::runtime_error(path + ": not an audit head (expected {\"seq\": N, \"hash\": \"...\"} from `audit head`)");
  return AuditHead{j["seq"].get<std::uint64_t>(), j["hash"].get<std::string>()};
}

// The signed checkpoints of a file whose signatures hold; problem says why one does not.
struct SignedCheckpoints {
  std::vector<AuditCheckpoint> checkpoints;
  std::string key_id;   // of the public key they were checked with
  std::string problem;  // "" when every checkpoint line is well-formed and correctly signed
};

// The checkpoints of --checkpoints FILE, else of the events file (if it exists), checked with
// --public-key FILE, else the config's audit public key.
SignedCheckpoints read_signed_checkpoints(const Options& o, const Config& c) {
  SignedCheckpoints out;
  const std::string file = o.checkpoints_file.empty() ? c.events_file : o.checkpoints_file;
  if (file.empty() || (o.checkpoints_file.empty() && !fs::exists(file))) return out;
  const CheckpointLines lines = read_checkpoint_lines(file);
  if (lines.malformed_line != 0) {
    out.problem = fmt::format("line {} of {} is not a valid audit checkpoint", lines.malformed_line, file);
    return out;
  }
  if (lines.checkpoints.empty()) return out;
  const std::string& public_key = o.public_key_file.empty() ? c.audit.public_key : o.public_key_file;
  if (!fs::exists(public_key))
    throw std::runtime_error(fmt::format("{} holds {} signed checkpoints, but the audit public key {} is missing", file,
                                         lines.checkpoints.size(), public_key));
  const AuditVerifyKey key(public_key);
  out.key_id = key.key_id();
  for (std::size_t i = 0; i < lines.checkpoints.size(); ++i) {
    const AuditCheckpoint& cp = lines.checkpoints[i];
    if (!key.verify(cp)) {
      out.problem = fmt::format("the checkpoint on line {} of {} is not signed by the audit key {} (it names key {})",
                                lines.line_numbers[i], file, key.key_id(), cp.key_id);
      return out;
    }
  }
  out.checkpoints = lines.checkpoints;
  return out;
}

}  // namespace

int run_audit_verify(const Options& o) {
  const Config c = need_config(o);
  std::optional<AuditHead> head;
  if (!o.head_file.empty()) head = read_head_file(o.head_file);
  const SignedCheckpoints signed_heads = read_signed_checkpoints(o, c);
  if (!signed_heads.problem.empty()) {
    std::printf("audit log TAMPERED: %s\n", safe(signed_heads.problem).c_str());
    return 1;
  }
  auto store = open_store_to_read(c);
  const AuditVerdict v = store->verify_audit(head, signed_heads.checkpoints);
  if (v.ok) {
    std::printf("audit log ok: %llu entries, chain intact%s, %llu signed checkpoints match%s\n",
                static_cast<unsigned long long>(v.entries), head ? ", head matches" : "",
                static_cast<unsigned long long>(v.checkpoints),
                signed_heads.key_id.empty() ? "" : (" (audit key " + signed_heads.key_id + ")").c_str());
    return 0;
  }
  std::printf("audit log TAMPERED: %s (first bad entry: %llu, %llu entries checked)\n", safe(v.problem).c_str(),
              static_cast<unsigned long long>(v.first_bad_seq), static_cast<unsigned long long>(v.entries));
  return 1;
}

int run_backup(const Options& o) {
  const Config c = need_config(o);
  need_sqlite(c, "backup");
  if (o.file.empty()) throw std::runtime_error("--to FILE is required (a new file: it must not exist yet)");
  const AuditHead h = backup_sqlite_store(c.database, o.file);
  std::printf("%s\n", json{{"backup", o.file}, {"audit_head", {{"seq", h.seq}, {"hash", h.hash}}}}.dump().c_str());
  std::fprintf(stderr,
               "keyward-collector: backed up the inventory; keep the audit head above with it, and back up the "
               "key files of %s apart (encrypted)\n",
               fs::path(c.tls.ca_key).parent_path().c_str());
  return 0;
}

namespace {

json head_json(const AuditHead& h) { return json{{"seq", h.seq}, {"hash", h.hash}}; }

// Moves a database file and its -wal and -shm beside it to `to` (same suffixes).
void move_database(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal", "-shm"})
    if (fs::exists(from + suffix)) fs::rename(from + suffix, to + suffix);
}

// The backup copied beside the database (staging) and checked there: SQLite's integrity check,
// migrated, its audit chain verified. Its head; throws what is wrong.
AuditHead check_backup(const Options& o, const Config& c, const std::string& staging) {
  fs::copy_file(o.file, staging);
  fs::permissions(staging, fs::perms::owner_read | fs::perms::owner_write);
  if (const std::string p = check_sqlite_backup(staging); !p.empty()) throw std::runtime_error(p);
  FleetOptions fleet;
  fleet.rules_dirs = c.rules_dirs;
  fleet.hsm_dirs = c.hsm_dirs;
  auto store = open_sqlite_store(staging, "", fleet);
  const AuditVerdict v = store->verify_audit(std::nullopt);
  if (!v.ok) throw std::runtime_error("its audit log does not verify (" + v.problem + ")");
  return store->audit_head();
}

// check_backup, and on any failure the staging copy removed: nothing else was touched.
AuditHead stage_backup(const Options& o, const Config& c, const std::string& staging) {
  const auto remove_staging = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(staging + suffix);
  };
  remove_staging();
  try {
    return check_backup(o, c, staging);
  } catch (const std::exception& e) {
    remove_staging();
    throw std::runtime_error(o.file + ": " + e.what() + "; nothing was changed");
  }
}

}  // namespace

int run_restore(const Options& o) {
  const Config c = need_config(o);
  need_sqlite(c, "restore");
  if (o.file.empty()) throw std::runtime_error("--from FILE is required (a file that `backup` wrote)");
  const std::string staging = c.database + ".restoring";
  const AuditHead restored = stage_backup(o, c, staging);
  AuditHead replaced;
  if (fs::exists(c.database)) replaced = open_store_to_read(c)->audit_head();
  const std::string aside = fmt::format(".before-restore-{}", now_seconds());
  move_database(c.database, c.database + aside);
  if (!c.events_file.empty() && fs::exists(c.events_file)) fs::rename(c.events_file, c.events_file + aside);
  move_database(staging, c.database);
  // Re-anchored: the new events file starts with the signed checkpoint of this entry.
  auto store = open_store(c);
  store->audit(cli_actor(), "collector.restore", "database",
               {{"backup_head", head_json(restored)}, {"replaced_head", head_json(replaced)}, {"moved_aside", aside}});
  const AuditHead now = store->audit_head();
  std::printf("%s\n", json{{"restored_head", head_json(restored)},
                           {"replaced_head", head_json(replaced)},
                           {"audit_head", head_json(now)},
                           {"moved_aside", c.database + aside}}
                          .dump()
                          .c_str());
  std::fprintf(stderr,
               "keyward-collector: restored; the replaced database and events file are kept with the suffix %s. "
               "Export a new `audit head` now.\n",
               aside.c_str());
  return 0;
}

int run_audit_head(const Options& o) {
  const Config c = need_config(o);
  auto store = open_store_to_read(c);
  const AuditHead h = store->audit_head();
  std::printf("%s\n", json{{"seq", h.seq}, {"hash", h.hash}}.dump().c_str());
  return 0;
}

int run_report(const Options& o) {
  if (o.top < 1 || o.top > 1000) throw std::runtime_error("--top must be 1..1000");
  const Config c = need_config(o);
  auto store = open_store_to_read(c);
  if (o.format == "cbom" || o.format == "html" || o.format == "csv") {
    const std::string out = render_fleet_document(*store, *fleet_document_from_string(o.format), now_seconds());
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (o.format != "text" && o.format != "json")
    throw std::runtime_error("--format must be text, json, cbom, html or csv, not \"" + o.format + "\"");
  ReportOptions ro;
  ro.top = o.top;
  ro.now = now_seconds();
  const json report = build_report(*store, ro);
  const std::string out = o.format == "json" ? report.dump(2, ' ', false, json::error_handler_t::replace) + "\n"
                                             : render_report_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_remote_scan(const Options& o) {
  const Config c = need_config(o);
  if (!c.remote_scans) throw std::runtime_error(c.path + ": has no remote_scans section (docs/fleet.md)");
  // Like plan: the events file and the checkpoints are the running server's.
  auto store = open_store_to_read(c);
  auto remote = remote_scanner(c, *store);
  bool whole = true;
  for (const auto& r : remote->run_once(o.host)) {
    whole = whole && r.status == ssh::HostStatus::ok;
    std::printf("%s\t%s", safe(r.name).c_str(), std::string(ssh::to_string(r.status)).c_str());
    if (r.ingested)
      std::printf("\t%llu findings, %llu new, %llu resolved", static_cast<unsigned long long>(r.ingest.findings),
                  static_cast<unsigned long long>(r.ingest.new_places),
                  static_cast<unsigned long long>(r.ingest.resolved));
    if (!r.message.empty()) std::printf("\t%s", safe(r.message).c_str());
    std::printf("\n");
  }
  return whole ? 0 : 3;
}

int run_plan(const Options& o) {
  if (o.format != "text" && o.format != "json" && o.format != "markdown")
    throw std::runtime_error("--format must be text, json or markdown, not \"" + o.format + "\"");
  const Config c = need_config(o);
  // Like the API: an approval whose places changed goes back to proposed first, audited in the
  // database. The events file and the checkpoints are the running server's: it appends the new
  // events and signs the moved head on its next commit (or at its next start).
  auto store = open_store_to_read(c);
  const migrate::Plan plan = store->fleet_plan(now_seconds());
  const std::string out = o.format == "json"       ? migrate::to_json(plan)
                          : o.format == "markdown" ? migrate::to_markdown(plan)
                                                   : migrate::to_text(plan, /*color=*/false);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace keyward::collector::cli
