// SPDX-License-Identifier: Apache-2.0
#include "cli_docs_model.hpp"

#include <string_view>

namespace keyward::cli_docs::detail {
namespace {

// The validators' descriptions ("FILE", "{text,json}"). Option offers them only through a
// non-const accessor, which reads and changes nothing.
std::vector<std::string> validator_descriptions(const CLI::Option& opt) {
  std::vector<std::string> out;
  auto& o = const_cast<CLI::Option&>(opt);  // NOLINT: get_validator(int) only reads
  for (int i = 0;; ++i) {
    try {
      out.push_back(o.get_validator(i)->get_description());
    } catch (const CLI::OptionNotFound&) {
      return out;
    }
  }
}

// "{a,b,c}" -> a, b, c.
std::vector<std::string> member_values(std::string_view desc) {
  std::vector<std::string> out;
  if (desc.size() < 2 || desc.front() != '{' || desc.back() != '}') return out;
  desc = desc.substr(1, desc.size() - 2);
  while (!desc.empty()) {
    const std::size_t comma = desc.find(',');
    out.emplace_back(desc.substr(0, comma));
    if (comma == std::string_view::npos) break;
    desc.remove_prefix(comma + 1);
  }
  return out;
}

bool mentions(std::string_view s, std::string_view word) { return s.find(word) != std::string_view::npos; }

ValueKind value_kind(const OptionDoc& d, const std::vector<std::string>& validators) {
  if (d.flag) return ValueKind::none;
  bool dir = mentions(d.type, "DIR"), file = mentions(d.type, "FILE") || mentions(d.type, "PATH");
  file = file || d.type.ends_with(".json") || d.type.ends_with(".yaml");
  // A positional whose type says nothing (TEXT) by its name: `path`, `paths`, `file`.
  file = file || (d.positional && (mentions(d.names.front(), "path") || mentions(d.names.front(), "file")));
  for (const auto& v : validators) {
    dir = dir || v == "DIR";
    file = file || v == "FILE" || v.starts_with("PATH");
  }
  if (dir) return ValueKind::directory;
  return file ? ValueKind::file : ValueKind::other;
}

OptionDoc describe_option(const CLI::Option& opt) {
  OptionDoc d;
  d.positional = opt.get_positional() && opt.get_snames().empty() && opt.get_lnames().empty();
  if (d.positional) d.names.push_back(opt.get_name(true));
  for (const auto& s : opt.get_snames()) d.names.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) d.names.push_back("--" + l);
  d.flag = opt.get_expected_max() == 0 || opt.get_type_size() == 0;  // add_flag sets expected(0)
  d.required = opt.get_required();
  d.repeatable = !d.flag && opt.get_items_expected_max() > 1;
  const std::vector<std::string> validators = validator_descriptions(opt);
  d.type = opt.get_type_name();
  for (auto it = validators.rbegin(); it != validators.rend(); ++it)
    if (!it->empty() && d.type.ends_with(":" + *it)) d.type.resize(d.type.size() - it->size() - 1);
  for (const auto& v : validators)
    if (auto values = member_values(v); !values.empty()) d.choices = std::move(values);
  d.description = opt.get_description();
  d.default_value = d.flag ? "" : opt.get_default_str();
  d.envname = opt.get_envname();
  d.value = value_kind(d, validators);
  return d;
}

CommandDoc describe_command(const CLI::App& app, const std::string& path) {
  CommandDoc c;
  c.name = app.get_name();
  c.path = path;
  c.description = app.get_description();
  c.footer = app.get_footer();
  c.needs_subcommand = app.get_require_subcommand_min() > 0;
  const CLI::Option* help = app.get_help_ptr();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;
    c.options.push_back(describe_option(*opt));
    c.options.back().help = opt == help;
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
    c.commands.push_back(describe_command(*sub, path + " " + sub->get_name()));
  return c;
}

void flatten_into(const CommandDoc& c, std::vector<const CommandDoc*>& out) {
  out.push_back(&c);
  for (const auto& sub : c.commands) flatten_into(sub, out);
}

}  // namespace

CommandDoc describe(const CLI::App& app) { return describe_command(app, app.get_name()); }

std::vector<const CommandDoc*> flatten(const CommandDoc& root) {
  std::vector<const CommandDoc*> out;
  flatten_into(root, out);
  return out;
}

std::string usage_word(const OptionDoc& o) {
  std::string w = o.positional ? (o.type.empty() || o.type == "TEXT" ? o.names.front() : o.type) : o.names.back();
  if (!o.positional && !o.flag) w += " " + o.type;
  if (o.positional && o.repeatable && !w.ends_with("...")) w += "...";
  return o.required ? w : "[" + w + "]";
}

}  // namespace keyward::cli_docs::detail
