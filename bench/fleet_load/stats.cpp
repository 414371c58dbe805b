// SPDX-License-Identifier: Apache-2.0
// keyward_fleet_load: latency summaries (nearest-rank percentiles) and the run's results,
// as text or one JSON object. Numbers and status codes only: never a request or a body.
#include "fleet_load.hpp"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace keyward::fleet_load {

Summary summarise(std::vector<double>& samples_us) {
  Summary s;
  s.count = samples_us.size();
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  auto rank = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples_us.size())));
    return samples_us[std::min(samples_us.size() - 1, i == 0 ? 0 : i - 1)] / 1000.0;
  };
  s.p50_ms = rank(0.50);
  s.p99_ms = rank(0.99);
  s.max_ms = samples_us.back() / 1000.0;
  return s;
}

void Tally::add(Tally&& t) {
  sent += t.sent;
  ok += t.ok;
  findings_ok += t.findings_ok;
  bytes_sent += t.bytes_sent;
  handshakes += t.handshakes;
  resumed += t.resumed;
  reconnects += t.reconnects;
  held += t.held;
  duplicate += t.duplicate;
  health_errors += t.health_errors;
  for (const auto& [k, v] : t.errors) errors[k] += v;
  auto append = [](std::vector<double>& to, std::vector<double>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  append(ingest_us, t.ingest_us);
  append(handshake_us, t.handshake_us);
  append(health_us, t.health_us);
}

namespace {

nlohmann::json summary_json(const Summary& s) {
  auto r = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return {{"count", s.count}, {"p50_ms", r(s.p50_ms)}, {"p99_ms", r(s.p99_ms)}, {"max_ms", r(s.max_ms)}};
}

std::string summary_text(const Summary& s) {
  return fmt::format("p50 {:.2f}  p99 {:.2f}  max {:.2f} ms ({} samples)", s.p50_ms, s.p99_ms, s.max_ms, s.count);
}

void print_json(const RunOptions& o, Tally& t, double secs, double cpu, const Summary& ingest, const Summary& handshake,
                const Summary& health) {
  nlohmann::json j{{"agents", o.agents},
                   {"connections", o.connections},
                   {"threads", o.threads},
                   {"keep_alive", o.keep_alive},
                   {"changing", o.changing},
                   {"churn", o.churn},
                   {"rate", o.rate},
                   {"seconds", std::round(secs * 1000.0) / 1000.0},
                   {"reports_sent", t.sent},
                   {"reports_ok", t.ok},
                   {"errors", t.errors},
                   {"held", t.held},
                   {"duplicate", t.duplicate},
                   {"findings_ok", t.findings_ok},
                   {"bytes_sent", t.bytes_sent},
                   {"reports_per_s", secs > 0 ? static_cast<double>(t.ok) / secs : 0.0},
                   {"findings_per_s", secs > 0 ? static_cast<double>(t.findings_ok) / secs : 0.0},
                   {"ingest", summary_json(ingest)},
                   {"handshakes", t.handshakes},
                   {"resumed", t.resumed},
                   {"reconnects", t.reconnects},
                   {"handshake", summary_json(handshake)},
                   {"health", summary_json(health)},
                   {"health_errors", t.health_errors},
                   {"client_cpu_s", cpu}};
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace

void print_run(const RunOptions& o, Tally& t, double secs, double cpu) {
  const Summary ingest = summarise(t.ingest_us);
  const Summary handshake = summarise(t.handshake_us);
  const Summary health = summarise(t.health_us);
  if (o.json) return print_json(o, t, secs, cpu, ingest, handshake, health);
  std::string errors;
  for (const auto& [k, v] : t.errors) fmt::format_to(std::back_inserter(errors), " {} x{}", k, v);
  std::printf("reports: sent %llu, ok (202) %llu (held %llu, duplicate %llu), errors:%s\n",
              static_cast<unsigned long long>(t.sent), static_cast<unsigned long long>(t.ok),
              static_cast<unsigned long long>(t.held), static_cast<unsigned long long>(t.duplicate),
              errors.empty() ? " none" : errors.c_str());
  const double s = secs > 0 ? secs : 1;
  std::printf("rate:    %.1f reports/s, %.0f findings/s over %.2f s (%zu agents, %zu connections, %zu threads%s)\n",
              static_cast<double>(t.ok) / s, static_cast<double>(t.findings_ok) / s, secs, o.agents, o.connections,
              o.threads, o.keep_alive ? ", keep-alive" : "");
  std::printf("ingest:  %s\n", summary_text(ingest).c_str());
  std::printf("tls:     %llu handshakes, %llu resumed, %llu reconnects; %s\n",
              static_cast<unsigned long long>(t.handshakes), static_cast<unsigned long long>(t.resumed),
              static_cast<unsigned long long>(t.reconnects), summary_text(handshake).c_str());
  std::printf("health:  %s, %llu errors\n", summary_text(health).c_str(),
              static_cast<unsigned long long>(t.health_errors));
  std::printf("client:  %.2f CPU s (%.0f%% of one core)\n", cpu, 100.0 * cpu / s);
}

}  // namespace keyward::fleet_load
