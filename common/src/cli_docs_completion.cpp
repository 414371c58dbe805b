// SPDX-License-Identifier: Apache-2.0
// Completion scripts for bash and zsh from the App tree (CONTRIBUTING.md, "Man pages and
// completion"): subcommands per level, each level's options, files for values that are paths.
#include "cli_docs_model.hpp"
#include "cli_docs_roff.hpp"

#include <keyward/common/cli_docs.hpp>

#include <sstream>

namespace keyward::cli_docs {
namespace {

using detail::CommandDoc;
using detail::OptionDoc;
using detail::sh_quote;
using detail::ValueKind;

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string identifier(std::string s) {
  for (char& c : s)
    if (c == '-' || c == ' ') c = '_';
  return s;
}

// --- bash ----------------------------------------------------------------------------------

// The words that move from one level to the next ("keyward scan").
void bash_levels(std::ostream& out, const CommandDoc& root) {
  std::vector<std::string> steps;
  for (const CommandDoc* c : detail::flatten(root))
    if (c != &root) steps.push_back(sh_quote(c->path));
  out << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    case \"$cmd ${COMP_WORDS[i]}\" in\n";
  if (!steps.empty()) out << "      " << join(steps, " | ") << ") cmd=\"$cmd ${COMP_WORDS[i]}\" ;;\n";
  out << "    esac\n  done\n";
}

// Per level: its options, its subcommands and what its positionals are.
void bash_words(std::ostream& out, const CommandDoc& root) {
  out << "  case \"$cmd\" in\n";
  for (const CommandDoc* c : detail::flatten(root)) {
    std::vector<std::string> opts, subs, vals;
    ValueKind args = ValueKind::none;
    for (const auto& o : c->options)
      if (!o.positional) opts.insert(opts.end(), o.names.begin(), o.names.end());
      else if (!o.choices.empty() && vals.empty()) vals = o.choices;
      else if (o.value != ValueKind::other && args == ValueKind::none) args = o.value;
    for (const auto& s : c->commands) subs.push_back(s.name);
    const char* kind = args == ValueKind::file ? "file" : args == ValueKind::directory ? "dir" : "none";
    out << "    " << sh_quote(c->path) << ") opts=" << sh_quote(join(opts, " "))
        << " subs=" << sh_quote(join(subs, " ")) << " vals=" << sh_quote(join(vals, " ")) << " args=" << kind
        << " ;;\n";
  }
  out << "  esac\n";
}

// What follows an option that takes a value: files, directories, its choices or nothing.
void bash_values(std::ostream& out, const CommandDoc& root, const std::string& fn) {
  out << "  case \"$cmd $prev\" in\n";
  for (const CommandDoc* c : detail::flatten(root))
    for (const auto& o : c->options) {
      if (o.positional || o.flag) continue;
      std::vector<std::string> pats;
      for (const auto& n : o.names) pats.push_back(sh_quote(c->path + " " + n));
      out << "    " << join(pats, " | ") << ") ";
      if (!o.choices.empty())
        out << "mapfile -t COMPREPLY < <(compgen -W " << sh_quote(join(o.choices, " ")) << " -- \"$cur\")";
      else if (o.value == ValueKind::file) out << fn << "_paths -f";
      else if (o.value == ValueKind::directory) out << fn << "_paths -d";
      else out << "COMPREPLY=()";
      out << "; return ;;\n";
    }
  out << "  esac\n";
}

// --- zsh -----------------------------------------------------------------------------------

std::string zsh_escape(std::string_view s, std::string_view special) {
  std::string out;
  for (const char c : s) {
    if (c == '\n') {
      out += ' ';
      continue;
    }
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_action(const OptionDoc& o) {
  const bool generic = o.type.empty() || o.type == "TEXT";
  std::string message = zsh_escape(generic && o.positional ? o.names.front() : o.type, ":[]()");
  if (!o.choices.empty()) return ":" + message + ":(" + join(o.choices, " ") + ")";
  if (o.value == ValueKind::directory) return ":" + message + ":_files -/";
  if (o.value == ValueKind::file) return ":" + message + ":_files";
  return ":" + message + ": ";
}

// One _arguments spec, quoted for the script (a brace list for an option with two names).
std::string zsh_spec(const OptionDoc& o) {
  const std::string tail = o.flag ? "" : zsh_action(o);
  if (o.positional) return sh_quote(std::string(o.repeatable ? "*" : o.required ? "" : ":") + tail);
  std::string desc = "[" + zsh_escape(o.description, "[]") + "]";
  std::string names = o.names.size() == 1 ? o.names.front() : "{" + join(o.names, ",") + "}";
  std::string excl = o.help ? "(- *)" : o.repeatable ? "*" : o.names.size() > 1 ? "(" + join(o.names, " ") + ")" : "";
  if (o.names.size() == 1) return sh_quote(excl + names + desc + tail);
  return (excl.empty() ? "" : sh_quote(excl)) + names + sh_quote(desc + tail);
}

std::string zsh_function(const CommandDoc& root, const CommandDoc& c) {
  std::string fn = "_" + root.name;
  if (&c != &root) fn += "__" + identifier(c.path.substr(root.path.size() + 1));
  return fn;
}

void zsh_command(std::ostream& out, const CommandDoc& root, const CommandDoc& c) {
  out << zsh_function(root, c) << "() {\n";
  const bool dispatch = !c.commands.empty();
  if (dispatch) out << "  local curcontext=\"$curcontext\" state state_descr line ret=1\n  typeset -A opt_args\n";
  out << "  _arguments -s -S" << (dispatch ? " -C" : "");
  for (const auto& o : c.options) out << " \\\n    " << zsh_spec(o);
  if (!dispatch) {
    out << "\n}\n\n";
    return;
  }
  out << " \\\n    '1: :->command' \\\n    '*:: :->argument' && ret=0\n  case $state in\n    command)\n"
      << "      local -a commands=(\n";
  for (const auto& s : c.commands)
    out << "        " << sh_quote(zsh_escape(s.name, ":") + ":" + zsh_escape(s.description, "")) << "\n";
  out << "      )\n      _describe -t commands command commands && ret=0 ;;\n    argument)\n"
      << "      case $words[1] in\n";
  for (const auto& s : c.commands) out << "        " << s.name << ") " << zsh_function(root, s) << " && ret=0 ;;\n";
  out << "      esac ;;\n  esac\n  return ret\n}\n\n";
}

}  // namespace

std::string bash_completion(const CLI::App& app) {
  const CommandDoc root = detail::describe(app);
  const std::string fn = "_" + identifier(root.name);
  std::ostringstream out;
  out << "# bash completion for " << root.name << "; generated by `" << root.name
      << " completion bash` from its command definitions (do not edit)\n\n"
      << fn << "_paths() {\n  local IFS=$'\\n'\n  compopt -o filenames 2>/dev/null\n"
      << "  mapfile -t COMPREPLY < <(compgen \"$1\" -- \"$cur\")\n}\n\n"
      << fn << "() {\n  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" cmd=" << sh_quote(root.name)
      << " i opts subs vals args\n  ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD - 1]}\"\n";
  bash_levels(out, root);
  bash_words(out, root);
  bash_values(out, root, fn);
  out << "  if [[ \"$cur\" == -* ]]; then\n"
      << "    mapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
      << "  elif [[ -n \"$subs\" ]]; then\n"
      << "    mapfile -t COMPREPLY < <(compgen -W \"$subs\" -- \"$cur\")\n"
      << "  elif [[ -n \"$vals\" ]]; then\n"
      << "    mapfile -t COMPREPLY < <(compgen -W \"$vals\" -- \"$cur\")\n"
      << "  elif [[ $args == file ]]; then\n    " << fn << "_paths -f\n"
      << "  elif [[ $args == dir ]]; then\n    " << fn << "_paths -d\n"
      << "  else\n    COMPREPLY=()\n  fi\n}\n\n"
      << "complete -F " << fn << " " << root.name << "\n";
  return out.str();
}

std::string zsh_completion(const CLI::App& app) {
  const CommandDoc root = detail::describe(app);
  std::ostringstream out;
  out << "#compdef " << root.name << "\n# zsh completion for " << root.name << "; generated by `" << root.name
      << " completion zsh` from its command definitions (do not edit)\n\n";
  const auto all = detail::flatten(root);
  for (auto it = all.rbegin(); it != all.rend(); ++it) zsh_command(out, root, **it);
  const std::string fn = zsh_function(root, root);
  out << "if [ \"$funcstack[1]\" = " << sh_quote(fn) << " ]; then\n  " << fn << " \"$@\"\nelse\n  compdef " << fn << " "
      << root.name << "\nfi\n";
  return out.str();
}

}  // namespace keyward::cli_docs
