// SPDX-License-Identifier: Apache-2.0
#include "commands/plan_cmd.hpp"

#include "commands/common.hpp"

#include <keyward/migrate/plan.hpp>
#include <keyward/rules/rule_error.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace keyward::cli {
namespace {

// The findings of a keyward scan --format json document, placed on its host.
std::vector<migrate::PlacedFinding> read_findings(const std::string& file, std::string& host) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("findings") || !doc["findings"].is_array())
    throw std::runtime_error(file + " is not a keyward findings document (keyward scan --format json)");
  if (doc.contains("host") && doc["host"].is_object() && doc["host"].value("hostname", nlohmann::json()).is_string())
    host = doc["host"]["hostname"].get<std::string>();
  std::vector<migrate::PlacedFinding> out;
  for (std::size_t i = 0; i < doc["findings"].size(); ++i) {
    auto f = scanner::finding_from_json(doc["findings"][i]);
    if (!f) throw std::runtime_error(file + ": finding " + std::to_string(i) + " is malformed");
    out.push_back(migrate::PlacedFinding{host, "", "", "", std::move(*f)});
  }
  return out;
}

}  // namespace

CLI::App* add_plan_command(CLI::App& app, PlanCommand& cmd) {
  CLI::App* sub = app.add_subcommand("plan", "Plan the migration of one host's keys into HSM storage (offline)");
  sub->footer(
      "Reads a report of 'keyward scan --format json' and prints one item per key: regenerate or import, why,\n"
      "what blocks it, the token it goes to, the steps by hand, verification, certificate actions and the\n"
      "clean-up of every copy (docs/migration.md). The fleet's plan is 'keyward-collector plan'.\n"
      "Examples: keyward scan --format json -o scan.json /srv && keyward plan scan.json\n"
      "          keyward plan scan.json --format markdown -o plan.md --hsm-dir /etc/keyward/hsm\n"
      "Exit status: 0 the plan was written, 2 the findings or a profile/policy file could not be used.");
  sub->add_option("findings", cmd.findings, "A keyward scan --format json report")
      ->required()
      ->type_name("FINDINGS.json");
  sub->add_option("--format", cmd.format, "text (default), json (keyward.plan/v1) or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  sub->add_option("-o,--output", cmd.output, "Write the plan to FILE (default stdout)")->type_name("FILE");
  sub->add_option("--hsm-dir", cmd.hsm_dirs, "Also load HSM profiles and policy (*.yaml) from DIR (repeatable)")
      ->type_name("DIR")
      ->check(CLI::ExistingDirectory);
  add_color_option(*sub, cmd.color);
  return sub;
}

int run_plan(const PlanCommand& cmd) {
  if (!output_writable(cmd.output)) return 2;
  const migrate::Targets targets = migrate::load_targets(cmd.hsm_dirs);
  std::string host;
  std::vector<migrate::PlacedFinding> findings;
  try {
    findings = read_findings(cmd.findings, host);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "keyward: %s\n", e.what());
    return 2;
  }
  const migrate::Plan plan = migrate::build_plan(findings, targets, {"", "host " + host});
  std::string out;
  if (cmd.format == "json") {
    out = migrate::to_json(plan);
  } else if (cmd.format == "markdown") {
    out = migrate::to_markdown(plan);
  } else {
    out = migrate::to_text(plan, color_for_output(cmd.color, cmd.output));
  }
  return write_report(out, cmd.output) ? 0 : 2;
}

}  // namespace keyward::cli
