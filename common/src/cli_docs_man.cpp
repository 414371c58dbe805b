// SPDX-License-Identifier: Apache-2.0
// The man page: generated sections (NAME, SYNOPSIS, COMMANDS, GLOBAL OPTIONS) from the App tree,
// hand-written ones from the binary's Manual (CONTRIBUTING.md, "Man pages and completion").
#include "cli_docs_model.hpp"
#include "cli_docs_roff.hpp"

#include <keyward/common/cli_docs.hpp>

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

namespace keyward::cli_docs {
namespace {

using detail::CommandDoc;
using detail::OptionDoc;
using detail::roff;

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// keyward\-rules(5), once escaped: a reference to another man page, set in bold.
const std::regex kPageReference(R"(([a-z][a-z0-9]*(?:\\-[a-z0-9]+)*)\(([1-8])\))");

// A filled line: `code` in bold when the backquotes pair up; references to other pages in bold.
std::string prose(std::string_view line) {
  if (std::count(line.begin(), line.end(), '`') % 2 != 0) return roff(line);
  std::string out;
  bool code = false;
  for (std::size_t start = 0; start <= line.size();) {
    const std::size_t tick = std::min(line.find('`', start), line.size());
    std::string part = roff(line.substr(start, tick - start));
    if (!code) part = std::regex_replace(part, kPageReference, "\\fB$1\\fR($2)");
    out += code ? "\\fB" + part + "\\fR" : (start == 0 ? part : part.starts_with("\\&") ? part.substr(2) : part);
    code = !code;
    start = tick + 1;
  }
  return out;
}

// Paragraphs (blank-line separated) as .PP and filled lines; lines that start with two spaces
// as they are (.nf), like the help footers' examples and tables.
void emit_text(std::ostream& out, std::string_view text) {
  bool para = false, verbatim = false;
  for (const std::string& line : lines_of(text)) {
    const bool blank = trim(line).empty(), keep = line.starts_with("  ");
    if (verbatim && (blank || !keep)) out << ".fi\n.RE\n";
    if (blank) para = false;
    if (verbatim && (blank || !keep)) verbatim = false;
    if (blank) continue;
    if (!para) out << ".PP\n";
    para = true;
    if (keep && !verbatim) out << ".RS 2\n.nf\n";
    verbatim = keep;
    out << (keep ? roff(std::string_view(line).substr(2)) : prose(trim(line))) << "\n";
  }
  if (verbatim) out << ".fi\n.RE\n";
}

std::string bold(std::string_view s) { return "\\fB" + roff(s) + "\\fR"; }
std::string italic(std::string_view s) { return "\\fI" + roff(s) + "\\fR"; }

void emit_option(std::ostream& out, const OptionDoc& o) {
  out << ".TP\n";
  std::string tag;
  for (const auto& n : o.names) tag += (tag.empty() ? "" : ", ") + (o.positional ? italic(n) : bold(n));
  if (!o.flag && !(o.positional && (o.type == "TEXT" || o.type.empty()))) tag += " " + italic(o.type);
  out << tag << "\n";
  std::string text = o.description;
  for (char& c : text)
    if (c == '\n') c = ' ';
  const bool more = !o.default_value.empty() || !o.envname.empty() || o.required;
  if (more && !text.empty() && !text.ends_with(".")) text += ".";
  if (!o.default_value.empty()) text += " Default: " + o.default_value + ".";
  if (!o.envname.empty()) text += " Environment: " + o.envname + ".";
  if (o.required) text += " Required.";
  out << roff(trim(text)) << "\n";
}

// One line of the synopsis: the command, its required options, [OPTIONS], its positionals.
std::string synopsis_line(const CommandDoc& c) {
  std::string line = bold(c.path);
  bool optional = false;
  for (const auto& o : c.options)
    if (!o.positional && o.required) line += " " + roff(detail::usage_word(o));
    else if (!o.positional && !o.help) optional = true;
  if (optional) line += " [" + italic("OPTIONS") + "]";
  for (const auto& o : c.options)
    if (o.positional) line += " " + roff(detail::usage_word(o));
  if (!c.commands.empty()) line += " " + italic("COMMAND") + (c.needs_subcommand ? "" : " ...");
  return line;
}

void emit_synopsis(std::ostream& out, const CommandDoc& root) {
  out << ".SH SYNOPSIS\n";
  bool first = true;
  for (const CommandDoc* c : detail::flatten(root)) {
    if (c != &root && !c->commands.empty() && c->needs_subcommand) continue;  // its leaves have lines
    out << (first ? ".PP\n" : ".br\n") << synopsis_line(*c) << "\n";
    first = false;
  }
}

void emit_command(std::ostream& out, const CommandDoc& c, const std::string& root_footer) {
  out << ".SS " << detail::roff_arg(c.path) << "\n" << synopsis_line(c) << "\n";
  emit_text(out, c.description);
  for (const auto& o : c.options)
    if (o.positional) emit_option(out, o);
  for (const auto& o : c.options)
    if (!o.positional && !o.help) emit_option(out, o);
  if (!c.footer.empty() && c.footer != root_footer) emit_text(out, c.footer);
}

void emit_section(std::ostream& out, const Section& s) {
  out << ".SH " << detail::roff_arg(s.title) << "\n";
  emit_text(out, s.text);
  if (s.layout == Layout::commands) {
    out << ".PP\n.RS 2\n.nf\n";
    for (const auto& i : s.items) out << roff(i.term) << (i.text.empty() ? "" : "   # " + roff(i.text)) << "\n";
    out << ".fi\n.RE\n";
  } else {
    for (const auto& i : s.items) out << ".TP\n" << bold(i.term) << "\n" << prose(trim(i.text)) << "\n";
  }
  emit_text(out, s.after);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string man_page(const CLI::App& app, const Manual& manual, std::string_view version) {
  const CommandDoc root = detail::describe(app);
  std::ostringstream out;
  out << ".\\\" Generated by " << root.name << " --generate-man from its command definitions (the source of --help).\n"
      << ".\\\" Do not edit: change the command or its Manual (CONTRIBUTING.md, \"Man pages and completion\").\n";
  out << ".TH " << roff(upper(root.name)) << " " << manual.section << " \"\" "
      << detail::roff_arg(root.name + " " + std::string(version)) << " "
      << detail::roff_arg(manual.section == 8 ? "System Administration" : "User Commands") << "\n";
  out << ".nh\n.ad l\n";  // no hyphenation, ragged right: option names and paths stay whole
  std::string summary = root.description;
  if (summary.starts_with(root.name + ": ")) summary.erase(0, root.name.size() + 2);
  out << ".SH NAME\n" << roff(root.name) << " \\- " << roff(summary) << "\n";
  emit_synopsis(out, root);
  out << ".SH DESCRIPTION\n";
  emit_text(out, manual.description);
  if (!root.commands.empty()) {
    out << ".SH COMMANDS\n.PP\nEvery command also takes " << bold("-h") << ", " << bold("--help") << ".\n";
    for (const CommandDoc* c : detail::flatten(root))
      if (c != &root) emit_command(out, *c, root.footer);
  }
  out << ".SH " << (root.commands.empty() ? "OPTIONS" : "GLOBAL OPTIONS") << "\n";
  for (const auto& o : root.options) emit_option(out, o);
  for (const Section& s : manual.sections) emit_section(out, s);
  return out.str();
}

}  // namespace keyward::cli_docs
