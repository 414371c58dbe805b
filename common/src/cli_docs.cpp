// SPDX-License-Identifier: Apache-2.0
// The conventions every keyward binary shares (CONTRIBUTING.md, "Man pages and completion") and
// the help footers written from the same Manual as the man page.
#include <keyward/common/cli_docs.hpp>

#include <algorithm>
#include <iostream>
#include <memory>

namespace keyward::cli_docs {
namespace {

constexpr std::size_t kMaxPad = 56;  // wider terms are not aligned with the others

void plain_items(std::string& out, const Section& s) {
  std::size_t width = 0;
  for (const auto& i : s.items)
    if (i.term.size() <= kMaxPad) width = std::max(width, i.term.size());
  for (const auto& i : s.items) {
    std::string line = "  " + i.term;
    if (!i.text.empty()) {
      line.append(i.term.size() < width ? width - i.term.size() : 0, ' ');
      line += (s.layout == Layout::commands ? "   # " : "  ") + i.text;
    }
    out += line + "\n";
  }
}

}  // namespace

std::string help_footer(const Manual& manual, std::initializer_list<std::string_view> titles, std::string_view tail) {
  std::string out;
  for (std::string_view title : titles)
    for (const Section& s : manual.sections) {
      if (s.title != title) continue;
      if (!out.empty()) out += "\n";
      if (!s.heading.empty()) out += s.heading + "\n";
      if (!s.text.empty()) out += s.text + "\n";
      plain_items(out, s);
      if (!s.after.empty()) out += s.after + "\n";
    }
  if (!out.empty() && !tail.empty()) out += "\n";
  return out + std::string(tail);
}

void add_standard_commands(CLI::App& app, const std::string& name, const Manual& manual, std::string_view version) {
  app.name(name);
  app.set_version_flag("-V,--version", name + " " + std::string(version));
  app.failure_message(
      [name](const CLI::App* a, const CLI::Error& e) { return name + ": " + CLI::FailureMessage::simple(a, e); });
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand(
      "completion", "Print a shell completion script: source <(" + name + " completion bash), or zsh");
  completion->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&app, shell] {
    std::cout << (*shell == "bash" ? bash_completion(app) : zsh_completion(app)) << std::flush;
    throw CLI::Success();
  });
  const std::string ver(version);
  app.add_flag_callback(
         "--generate-man",
         [&app, &manual, ver] {
           std::cout << man_page(app, manual, ver) << std::flush;
           throw CLI::Success();
         },
         "Print the man page (roff) and exit")
      ->group("");
}

}  // namespace keyward::cli_docs
