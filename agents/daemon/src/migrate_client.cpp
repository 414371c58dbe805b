// SPDX-License-Identifier: Apache-2.0
#include "migrate_client.hpp"

#include "fs_util.hpp"


#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace keyward::agent {
namespace {

// The queue file's lines (one result object each); a line that does not parse is dropped.
std::vector<nlohmann::json> read_queue(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

std::string lines_of(const std::vector<nlohmann::json>& results) {
  std::string text;
  for (const auto& r : results) text += r.dump() + "\n";
  return text;
}

// Appends results to a JSON-lines file, rewriting it atomically (it stays small: one line per item).
void append_lines(const std::string& path, const std::vector<nlohmann::json>& more) {
  auto all = read_queue(path);
  all.insert(all.end(), more.begin(), more.end());
  write_file_atomic(path, lines_of(all), 0600);
}

std::string error_detail(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const auto& e = j["error"];
  return fmt::format(": {} {}", e.value("code", std::string()), e.value("message", std::string()).substr(0, 200));
}

std::string this_host() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

// A result of the item that says only who and what: the start (outcome done, no finished_at) or a
// failure.
migrate::ItemResult bare_result(const migrate::PlanItem& item, migrate::Outcome outcome, std::string message) {
  migrate::ItemResult r = migrate::result_for(item, item.migrate_on.host);
  r.outcome = outcome;
  r.message = std::move(message);
  return r;
}

void count(MigrationRound& round, migrate::Outcome o) {
  switch (o) {
    case migrate::Outcome::done:
      ++round.done;
      break;
    case migrate::Outcome::skipped:
      ++round.skipped;
      break;
    case migrate::Outcome::failed:
      ++round.failed;
      break;
    case migrate::Outcome::refused:
      ++round.refused;
      break;
    case migrate::Outcome::dry_run:
      ++round.dry_run;
      break;
  }
}

}  // namespace

std::string migration_result_path(std::string_view item_id) {
  return fmt::format("{}/{}/result", kMigrationsPath, item_id);
}

MigrationClient::MigrationClient(TlsClientOptions tls, std::string collector, std::string results_file,
                                 std::function<void(std::string_view)> log)
    : tls_(std::move(tls)),
      collector_(std::move(collector)),
      results_file_(std::move(results_file)),
      log_(std::move(log)) {}

void MigrationClient::log(std::string_view line) const {
  if (log_) log_(line);
  else std::fprintf(stderr, "keyward-agent: %.*s\n", static_cast<int>(line.size()), line.data());
}

MigrationClient::Sent MigrationClient::send(const nlohmann::json& result, const std::string& item_id,
                                            MigrationRound& round) {
  HttpRequest req;
  req.url = collector_ + migration_result_path(item_id);
  req.body = result.dump();
  const auto res = https_request(tls_, req);
  if (!res) {
    round.error = "cannot reach the collector: " + res.error().message;
    return Sent::later;
  }
  const int code = res->status;
  if (code >= 200 && code < 300) return Sent::taken;
  if (code == 400 || code == 404 || code == 409) {
    log(fmt::format("the collector refused a result of item {} (HTTP {}{})", item_id, code, error_detail(res->body)));
    return Sent::refused;
  }
  round.error = fmt::format("the collector answered HTTP {}{} to a migration result", code, error_detail(res->body));
  return Sent::later;
}

bool MigrationClient::flush(MigrationRound& round) {
  auto queue = read_queue(results_file_);
  if (queue.empty()) return true;
  std::vector<nlohmann::json> refused;
  std::size_t i = 0;
  for (; i < queue.size(); ++i) {
    const Sent s = send(queue[i], queue[i].value("item_id", std::string()), round);
    if (s == Sent::later) break;
    if (s == Sent::taken) ++round.sent;
    else refused.push_back(queue[i]);
  }
  if (!refused.empty()) append_lines(results_file_ + ".rejected", refused);
  round.rejected += refused.size();
  const std::vector<nlohmann::json> rest(queue.begin() + static_cast<std::ptrdiff_t>(i), queue.end());
  write_file_atomic(results_file_, lines_of(rest), 0600);
  round.queued = rest.size();
  if (!rest.empty()) log(fmt::format("{} migration result(s) wait in {}: {}", rest.size(), results_file_, round.error));
  return rest.empty();
}

std::optional<std::vector<migrate::PlanItem>> MigrationClient::fetch(MigrationRound& round) {
  HttpRequest req;
  req.method = "GET";
  req.url = collector_ + std::string(kMigrationsPath);
  const auto res = https_request(tls_, req);
  if (!res) {
    round.error = "cannot reach the collector: " + res.error().message;
    return std::nullopt;
  }
  if (res->status != 200) {
    round.error = fmt::format("the collector answered HTTP {}{} to the request for migrations", res->status,
                              error_detail(res->body));
    return std::nullopt;
  }
  round.reached = true;
  const auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("items") || !j["items"].is_array()) {
    round.error = "the collector's list of migrations is not {\"items\": [...]}";
    return std::nullopt;
  }
  std::vector<migrate::PlanItem> items;
  for (const auto& item : j["items"]) {
    try {
      items.push_back(migrate::item_from_json(item));
    } catch (const std::exception& e) {
      log(fmt::format("a migration item from the collector is malformed and was not run: {}", e.what()));
    }
  }
  return items;
}

void MigrationClient::post(const migrate::ItemResult& result, MigrationRound& round) {
  const nlohmann::json j = migrate::result_to_json(result);
  // Queued results go first: one that could not be sent keeps its place in line.
  const Sent s = read_queue(results_file_).empty() ? send(j, result.item_id, round) : Sent::later;
  if (s == Sent::taken) {
    ++round.sent;
    return;
  }
  if (s == Sent::refused) {
    append_lines(results_file_ + ".rejected", {j});
    ++round.rejected;
    return;
  }
  append_lines(results_file_, {j});
  ++round.queued;
  log(fmt::format("the result of item {} is kept in {} and sent on the next round", result.item_id, results_file_));
}

bool MigrationClient::announce(const migrate::PlanItem& item, MigrationRound& round) {
  // A result without finished_at says the run starts (the collector marks the item running).
  migrate::ItemResult start = bare_result(item, migrate::Outcome::done, "started");
  const Sent s = send(migrate::result_to_json(start), item.id, round);
  if (s == Sent::refused) ++round.rejected;
  return s == Sent::taken;
}

// A done item whose copies on this host wait to be removed (no token needed): removed by clean
// when the section allows it, else left to a person (the plan's clean-up steps).
void MigrationClient::clean_up(const migrate::PlanItem& item, const RunItem& clean, bool dry_run,
                               MigrationRound& round) {
  migrate::ItemResult r = clean ? clean(item) : migrate::ItemResult{};
  if (r.cleanups.empty()) {
    log(fmt::format("item {} is {}: its copies on this host are left to a person ({})", item.id,
                    migrate::to_string(item.state), r.message.empty() ? "no clean-up here" : r.message));
    return;
  }
  ++round.cleaned;
  log(fmt::format("item {}: {}", item.id, r.message));
  if (!dry_run) post(r, round);
}

MigrationRound MigrationClient::round(const RunItem& run, bool dry_run, const std::function<void()>& open,
                                      const RunItem& clean) {
  MigrationRound round;
  if (!flush(round)) return round;
  auto items = fetch(round);
  if (!items) return round;
  round.items = items->size();
  bool opened = false;
  for (const auto& item : *items) {
    if (item.state != migrate::ItemState::approved) {
      clean_up(item, clean, dry_run, round);
      continue;
    }
    try {
      if (!opened && open) open();
      opened = true;
    } catch (const std::exception& e) {
      round.error = e.what();  // nothing announced or posted: the items stay approved
      log(fmt::format("migrations stopped: {}", e.what()));
      break;
    }
    if (!dry_run && !announce(item, round)) {
      if (!round.error.empty()) break;  // the collector cannot be reached: stop here
      continue;                         // the collector will not have it run now
    }
    migrate::ItemResult r;
    try {
      r = run(item);
    } catch (const std::exception& e) {
      // The start was announced: the collector must not be left thinking the item still runs.
      r = bare_result(item, migrate::Outcome::failed, e.what());
      r.finished_at = migrate::now_rfc3339();
    }
    count(round, r.outcome);
    if (!dry_run) post(r, round);
  }
  return round;
}

MigrationClient client_for(const AgentConfig& c, std::function<void(std::string_view)> log) {
  TlsClientOptions tls;
  tls.ca_file = c.ca;
  tls.cert_file = c.certificate;
  tls.key_file = c.key;
  tls.proxy = c.proxy;
  return MigrationClient(tls, c.collector, c.migration_results_file(), std::move(log));
}

MigrationRound run_migrations(MigrationClient& client, const MigrateSection& m, const TokenRunOptions& o) {
  migrate::RunOptions ro;
  ro.host = o.host.empty() ? this_host() : o.host;
  ro.dry_run = o.dry_run;
  ro.remove_source = m.remove_source;
  ro.allowed = m.strategies;
  ro.say = o.say;
  std::unique_ptr<migrate::TokenSession> session;  // opened before the first item only
  const auto open = [&] {
    if (!o.password_source.empty()) ro.key_password = migrate::read_secret_source(o.password_source);
    const common::SecretBytes pin = migrate::read_secret_source(m.pin_source);
    session = std::make_unique<migrate::TokenSession>(migrate::TokenConfig{m.module, m.token}, pin);
  };
  const RunItem run = [&](const migrate::PlanItem& item) {
    auto r = session->run(item, ro);
    if (o.on_result) o.on_result(r);
    return r;
  };
  const RunItem clean = [&](const migrate::PlanItem& item) {
    auto r = migrate::clean_up_copies(item, ro);
    if (o.on_result && !r.cleanups.empty()) o.on_result(r);
    return r;
  };
  return client.round(run, o.dry_run, open, clean);
}

MigrationRound migrate_with_collector(const CollectorMigrateOptions& o, std::function<void(std::string_view)> log) {
  AgentConfig c = load_config(o.agent_config);
  if (!o.collector.empty()) c.collector = o.collector;
  check_tls_files(c);
  MigrationClient client = client_for(c, std::move(log));
  return run_migrations(client, o.section, o.run);
}

}  // namespace keyward::agent
