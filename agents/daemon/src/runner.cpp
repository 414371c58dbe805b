// SPDX-License-Identifier: Apache-2.0
#include "runner.hpp"

#include "backoff.hpp"
#include "enroll.hpp"
#include "fs_util.hpp"
#include "gzip.hpp"
#include "migrate_client.hpp"
#include "pacer.hpp"
#include "spool.hpp"
#include "status.hpp"
#include "tls_client.hpp"

#include <keyward/protocol/protocol.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/passwords.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/scan.hpp>
#include <keyward/scanner/scan_cache.hpp>
#include <keyward/version.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

namespace keyward::agent {
namespace {

using Clock = std::chrono::system_clock;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}
std::int64_t unix_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// How a delivery round ended.
enum class Round { done, retry_later, stopped };

class Agent {
 public:
  Agent(const AgentConfig& c, const RunOptions& o)
      : c_(c),
        o_(o),
        spool_((check_tls_files(c), make_private_dir(c.state_dir), c.spool_dir()), c.spool_max_bytes),
        status_(AgentStatus::load(c.status_file())),
        rules_(rules::RuleSet::builtin()) {
    tls_.ca_file = c.ca;
    tls_.cert_file = c.certificate;
    tls_.key_file = c.key;
    tls_.proxy = c.proxy;
    status_.agent_id = certificate_common_name(c.certificate);
    struct stat st {};
    if (::stat(c.key.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      log(fmt::format("warning: {} is readable by group or others (mode {:o}); chmod 600 it", c.key,
                      st.st_mode & 0777));
  }

  void log(std::string_view line) const {
    if (o_.log) o_.log(line);
    else std::fprintf(stderr, "keyward-agent: %.*s\n", static_cast<int>(line.size()), line.data());
  }
  bool stopping() const { return o_.stop != nullptr && o_.stop->load(); }

  void error(const std::string& message) {
    log(message);
    status_.error_time = unix_now();
    status_.last_error = message;
  }

  void save_status() {
    try {
      const auto list = spool_.list();
      status_.spool_depth = list.size();
      status_.spool_bytes = 0;
      for (const auto& e : list) status_.spool_bytes += e.bytes;
      status_.save(c_.status_file());
    } catch (const std::runtime_error& e) {
      log(std::string("warning: ") + e.what());
    }
  }

  // Scans, scores and spools one report; its id, or nullopt when nothing could be scanned.
  std::optional<std::string> scan() {
    scanner::ScanOptions opts;
    opts.roots = c_.roots;
    opts.excludes = c_.excludes;
    opts.max_size = c_.max_file_size;
    opts.threads = c_.threads;
    opts.tool_version = KEYWARD_VERSION;
    opts.passwords = common::SecretList(rules::builtin_passwords());
    opts.cancel = o_.stop;
    opts.detectors = o_.detectors;
    Pacer pacer(c_.max_cpu_percent, o_.stop);
    if (c_.max_cpu_percent < 100) opts.pace = [&pacer] { pacer.pace(); };
    scanner::ScanCache cache = scanner::ScanCache::load(c_.cache_file(), scanner::ScanCache::fingerprint(opts));
    opts.cache = &cache;

    status_.scan_started = unix_now();
    status_.scan_finished = 0;
    save_status();
    log(fmt::format("scan started ({} roots, {} files remembered)", c_.roots.size(), cache.loaded_entries()));
    scanner::ScanResult result;
    try {
      result = scanner::scan(opts);
    } catch (const std::runtime_error& e) {
      error(std::string("scan failed: ") + e.what());
      save_status();
      return std::nullopt;
    }
    rules::score(result, rules_, rules::ScoreContext{});
    const std::string id = protocol::new_report_id();
    // Streamed finding by finding into the gzip member: no JSON tree or text of the whole report
    // is held (it was a third of the agent's peak memory on a 2 GiB tree).
    std::string gz;
    try {
      GzipStream stream;
      protocol::write_report_json(result, id, [&stream](std::string_view part) { stream.write(part); });
      gz = stream.finish();
    } catch (const std::runtime_error& e) {
      error(std::string("cannot compress the report: ") + e.what());
      save_status();
      return std::nullopt;
    }
    status_.scan_finished = unix_now();
    status_.scan_files = result.stats.files_seen;
    status_.scan_findings = result.findings.size();
    status_.scan_complete = result.complete;
    status_.scan_report_id = id;
    try {
      const auto added = spool_.add_compressed(id, gz);
      status_.dropped_reports += added.dropped;
      if (added.dropped != 0)
        log(fmt::format("spool full: dropped the {} oldest report(s); the new report is a full snapshot",
                        added.dropped));
    } catch (const std::runtime_error& e) {
      error(std::string("cannot spool the report: ") + e.what());
      save_status();
      return std::nullopt;
    }
    log(fmt::format("scan {}: {} files ({} unchanged), {} findings, {:.1f} s CPU-paced sleep; report {} spooled",
                    result.complete ? "finished" : "cut short (incomplete report)", result.stats.files_seen,
                    result.stats.files_cached, result.findings.size(),
                    std::chrono::duration<double>(pacer.slept()).count(), id));
    // An incomplete scan saw only part of the tree: keep the previous cache whole.
    if (result.complete) {
      try {
        cache.save(c_.cache_file());
      } catch (const std::runtime_error& e) {
        log(std::string("warning: ") + e.what());
      }
    }
    save_status();
    return id;
  }

  // Sends spooled reports oldest first until done, stopped or a failure that needs a retry.
  Round deliver() {
    for (const auto& e : spool_.list()) {
      if (stopping()) return Round::stopped;
      std::string gz;
      try {
        gz = spool_.read_compressed(e);
      } catch (const std::runtime_error& x) {
        error(x.what());
        return retry(std::nullopt);
      }
      HttpRequest req;
      req.url = c_.collector + protocol::kReportsPath;
      req.body = std::move(gz);
      req.gzip_encoded = true;
      auto res = https_request(tls_, req);
      status_.delivery_time = unix_now();
      if (!res) {
        status_.delivery_status = res.error().maybe_auth ? "connection refused after handshake" : "network error";
        error(res.error().message);
        return retry(std::nullopt);
      }
      const int code = res->status;
      if (code == 202 || code == 200 || code == 201) {
        accepted(e.report_id, code, held_by_collector(res->body));
        spool_.remove(e);
        save_status();
        continue;
      }
      if (code == 400 || code == 413) {
        spool_.reject(e);
        ++status_.rejected_reports;
        rejected_.push_back(e.report_id);
        status_.delivery_status = fmt::format("rejected ({})", code);
        error(fmt::format("the collector refused report {} (HTTP {}{}); moved to {}", e.report_id, code,
                          error_detail(res->body), spool_.rejected_dir()));
        save_status();
        continue;
      }
      if (code == 401 || code == 403) {
        status_.delivery_status = fmt::format("not accepted ({})", code);
        error(fmt::format("agent not accepted: revoked or not enrolled (HTTP {}{}); reports stay in the spool", code,
                          error_detail(res->body)));
        return retry(res->retry_after);
      }
      status_.delivery_status = fmt::format("retry ({})", code);
      error(fmt::format("the collector answered HTTP {}{}; will retry", code, error_detail(res->body)));
      return retry(res->retry_after);
    }
    save_status();
    return Round::done;
  }

  // The collector has the report: stored, or held until an admin approves this agent (it is
  // ingested then, so it leaves the spool either way; docs/fleet.md "Agent").
  void accepted(const std::string& report_id, int code, bool held) {
    status_.delivery_status =
        held ? fmt::format("held pending approval ({})", code) : fmt::format("delivered ({})", code);
    status_.last_delivered = status_.delivery_time;
    (held ? held_ : delivered_).push_back(report_id);
    backoff_.reset();
    status_.next_attempt = 0;
    log(held ? fmt::format("report {} held by the collector: this agent is not approved yet (an admin approves it; "
                           "the report is ingested then)",
                           report_id)
             : fmt::format("report {} delivered", report_id));
  }

  Round retry(std::optional<std::chrono::seconds> retry_after) {
    const auto d = backoff_.next(retry_after);
    next_delivery_ = Clock::now() + d;
    status_.next_attempt = unix_of(next_delivery_);
    log(fmt::format("next delivery attempt in {} s", d.count()));
    save_status();
    return Round::retry_later;
  }

  // After a scan cycle, only with `migrate:` in agent.yaml: the approved migrations of this host
  // (docs/fleet.md, "Migration by the agent"). Its outcome does not change the exit status.
  void migrations() {
    if (!c_.migrate || stopping()) return;
    try {
      auto client = client_for(c_, [this](std::string_view l) { log(l); });
      TokenRunOptions o;
      o.say = [this](const std::string& l) { log(l); };
      const MigrationRound r = run_migrations(client, *c_.migrate, o);
      if (r.items != 0 || r.sent != 0 || r.queued != 0 || r.rejected != 0)
        log(
            fmt::format("migrations: {} item(s): {} done, {} skipped, {} failed, {} refused; {} result(s) sent, {} "
                        "kept for later, {} refused by the collector",
                        r.items, r.done, r.skipped, r.failed, r.refused, r.sent, r.queued, r.rejected));
      if (!r.error.empty()) log("migrations: " + r.error);
    } catch (const std::exception& e) {
      error(std::string("migrations: ") + e.what());
    }
  }

  int once() {
    const auto id = scan();
    if (!id) return kExitError;
    if (stopping()) return kExitSpooled;
    deliver();
    migrations();
    for (const auto& d : delivered_)
      if (d == *id) return kExitDelivered;
    for (const auto& r : rejected_)
      if (r == *id) return kExitRejected;
    for (const auto& h : held_)
      if (h == *id) return kExitHeld;
    return kExitSpooled;
  }

  int loop() {
    const auto now = Clock::now();
    // After a restart, keep the schedule of the last scan; the jitter spreads a fleet's scans.
    Clock::time_point next_scan = now;
    if (status_.scan_finished != 0) {
      const auto last = Clock::time_point(std::chrono::seconds(status_.scan_finished));
      if (last + c_.interval > now) next_scan = last + c_.interval;
    }
    next_scan += random_jitter(std::min(c_.jitter, c_.interval));
    next_delivery_ = now;
    log(fmt::format("running: every {} s (+ up to {} s jitter), first scan at {}", c_.interval.count(),
                    c_.jitter.count(), format_time(unix_of(next_scan))));
    // With migrate:, approved items are asked for every migrate.poll, not only after a scan.
    auto next_migrations = now + (c_.migrate ? c_.migrate->poll : c_.interval);
    while (!stopping()) {
      if (Clock::now() >= next_delivery_ && !spool_.list().empty()) deliver();
      if (stopping()) break;
      if (Clock::now() >= next_scan) {
        scan();
        next_scan = Clock::now() + c_.interval + random_jitter(c_.jitter);
        if (!stopping() && Clock::now() >= next_delivery_) deliver();
        next_migrations = Clock::now();
      }
      if (c_.migrate && Clock::now() >= next_migrations) {
        migrations();
        next_migrations = Clock::now() + c_.migrate->poll;
      }
      auto wake = next_scan;
      if (!spool_.list().empty() && next_delivery_ < wake) wake = next_delivery_;
      if (c_.migrate && next_migrations < wake) wake = next_migrations;
      status_.next_scan = unix_of(next_scan);
      save_status();
      sleep_until(wake, o_.stop);
    }
    log("stopping");
    save_status();
    return 0;
  }

 private:
  // Whether a 2xx answer says the report is held ({"status": "held"}, docs/api/openapi.yaml IngestAnswer).
  static bool held_by_collector(const std::string& body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_object() && j.contains("status") && j["status"].is_string() &&
           j["status"].get<std::string>() == protocol::kIngestHeld;
  }

  static std::string error_detail(const std::string& body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
    const auto& e = j["error"];
    const auto code = e.value("code", std::string());
    const auto msg = e.value("message", std::string()).substr(0, 200);
    return code.empty() && msg.empty() ? "" : fmt::format(": {} {}", code, msg);
  }

  const AgentConfig& c_;
  const RunOptions& o_;
  Spool spool_;
  AgentStatus status_;
  rules::RuleSet rules_;
  TlsClientOptions tls_;
  Backoff backoff_;
  Clock::time_point next_delivery_ = Clock::now();
  std::vector<std::string> delivered_, rejected_, held_;
};

}  // namespace

bool sleep_until(std::chrono::system_clock::time_point deadline, const std::atomic<bool>* stop) {
  for (;;) {
    if (stop != nullptr && stop->load()) return false;
    const auto now = Clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(250)));
  }
}

int run_agent(const AgentConfig& config, const RunOptions& options) {
  Agent agent(config, options);
  return options.once ? agent.once() : agent.loop();
}

}  // namespace keyward::agent
