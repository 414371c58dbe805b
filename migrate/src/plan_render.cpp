// SPDX-License-Identifier: Apache-2.0
// The readable views of a plan: Markdown (for a ticket or a review) and text (a terminal).
// Names and paths come from scanned machines: they go through common::terminal_safe.
#include <keyward/common/terminal.hpp>
#include <keyward/migrate/plan.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace keyward::migrate {
namespace {

using common::terminal_safe;

std::string headline(const Plan& plan) {
  const PlanSummary s = plan.summary();
  return fmt::format("{} item(s): {} regenerate, {} import, {} blocked, {} clean-up(s)", s.items, s.regenerate,
                     s.import, s.blocked, s.cleanups);
}

std::string place_words(const Place& p) {
  std::string out = terminal_safe(p.host) + ":" + terminal_safe(p.path);
  if (!p.member.empty()) out += "!" + terminal_safe(p.member);
  return out + (p.encrypted ? " (encrypted)" : " (unencrypted)");
}

// Inline code in Markdown: a backtick in the text is written as a quote.
std::string code(std::string_view s) {
  std::string out = terminal_safe(s);
  for (char& c : out)
    if (c == '`') c = '\'';
  return "`" + out + "`";
}

void markdown_steps(std::string& out, const PlanItem& item) {
  out += "\n**Steps**\n\n";
  int n = 0;
  for (const auto& s : item.steps) {
    out += fmt::format("{}. *{}*{}: {}\n", ++n, to_string(s.kind), s.host.empty() ? "" : " on " + code(s.host),
                       terminal_safe(s.text));
    if (s.commands.empty()) continue;
    out += "\n   ```sh\n";
    for (const auto& c : s.commands) out += "   " + terminal_safe(c) + "\n";
    out += "   ```\n\n";
  }
}

void markdown_item(std::string& out, const PlanItem& item) {
  out += fmt::format("\n## {}. {} {} ({}, {} {})\n\n", item.rank, to_string(item.strategy), code(item.identity),
                     item.algorithm.empty() ? "algorithm unknown" : item.algorithm, item.severity, item.score);
  out += fmt::format("- Item {}, state **{}**, owner {}\n", code(item.id), to_string(item.state), code(item.owner));
  out += fmt::format("- Target: token {} on profile {}, label {}: {}\n", code(item.target.token),
                     code(item.target.profile), code(item.target.label), terminal_safe(item.target.why));
  for (const auto& r : item.reasons) out += "- Why: " + terminal_safe(r) + "\n";
  for (const auto& c : item.citations) out += fmt::format("- Cites: {} <{}>\n", terminal_safe(c.text), c.url);
  for (const auto& b : item.blockers) out += fmt::format("- **Blocked** ({}): {}\n", b.code, terminal_safe(b.message));
  for (const auto& c : item.certificates)
    out += fmt::format("- Certificate: {} issued by {}, serial {}, until {}{}\n", code(c.subject), code(c.issuer),
                       code(c.serial), c.not_after, c.code_signing ? ", code signing" : "");
  out += "- Places:\n";
  for (const auto& p : item.places) out += "  - " + place_words(p) + "\n";
  markdown_steps(out, item);
}

void text_item(std::string& out, const PlanItem& item, bool color) {
  const char* bold = color ? "\033[1m" : "";
  const char* red = color ? "\033[31m" : "";
  const char* reset = color ? "\033[0m" : "";
  out += fmt::format("\n{}#{} {} {}{}  [{} {}]  {}  item {}  {}\n", bold, item.rank, to_string(item.strategy),
                     terminal_safe(item.identity), reset, item.severity, item.score,
                     item.algorithm.empty() ? "algorithm unknown" : item.algorithm, item.id, to_string(item.state));
  out += fmt::format("   target      token {} on {} (label {})\n               {}\n", terminal_safe(item.target.token),
                     item.target.profile, terminal_safe(item.target.label), terminal_safe(item.target.why));
  for (const auto& r : item.reasons) out += "   why         " + terminal_safe(r) + "\n";
  for (const auto& c : item.citations) out += "   cites       " + terminal_safe(c.text) + " " + c.url + "\n";
  for (const auto& b : item.blockers)
    out += fmt::format("   {}BLOCKED{}     {}: {}\n", red, reset, b.code, terminal_safe(b.message));
  for (const auto& p : item.places) out += "   place       " + place_words(p) + "\n";
  out += "   owner       " + terminal_safe(item.owner) + "\n";
  for (const auto& s : item.steps) {
    out += fmt::format("   {:<11} {}{}\n", to_string(s.kind), s.host.empty() ? "" : "[" + terminal_safe(s.host) + "] ",
                       terminal_safe(s.text));
    for (const auto& c : s.commands) out += "               $ " + terminal_safe(c) + "\n";
  }
}

}  // namespace

std::string to_markdown(const Plan& plan) {
  std::string out = "# Migration plan into HSM storage\n\n";
  out += fmt::format(
      "Scope {}, generated {}; hosts: {}.\n\n{}.\n", terminal_safe(plan.scope), plan.generated_at,
      plan.hosts.empty() ? std::string("none") : terminal_safe(fmt::format("{}", fmt::join(plan.hosts, ", "))),
      headline(plan));
  for (const auto& item : plan.items) markdown_item(out, item);
  return out;
}

std::string to_text(const Plan& plan, bool color) {
  std::string out =
      fmt::format("keyward plan: {}, generated {}\n{}\n", terminal_safe(plan.scope), plan.generated_at, headline(plan));
  if (plan.items.empty()) out += "No private key to migrate.\n";
  for (const auto& item : plan.items) text_item(out, item, color);
  return out;
}

}  // namespace keyward::migrate
