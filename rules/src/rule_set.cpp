// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/rule_set.hpp>

#include <keyward/rules/rule_error.hpp>
#include <keyward/rules/rule_test.hpp>
#include <keyward/scanner/finding.hpp>

#include "glob.hpp"
#include "yaml_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace keyward::rules {

namespace detail {
extern const char* const kBuiltinDetections;       // generated from rules/builtin/detections.yaml
extern const char* const kBuiltinPolicy;           // generated from rules/builtin/policy.yaml
extern const char* const kBuiltinFactors;          // generated from rules/factors.yaml
extern const char* const kBuiltinKnownKeys;        // generated from rules/data/known-keys.txt
extern const char* const kBuiltinKnownPublicKeys;  // generated from rules/data/known-public-keys.txt
extern const char* const kBuiltinVendored;         // generated from rules/builtin/vendored.yaml
}  // namespace detail

namespace {

using detail::Field;
using detail::find;
using detail::YamlReader;

// Stable ids: lowercase words of [a-z0-9] joined by '-', in '/'-separated parts.
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  char prev = '/';
  for (char c : id) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!word && c != '-' && c != '/') return false;
    if (!word && prev != 0 && (prev == '-' || prev == '/')) return false;
    prev = word ? 0 : c;
  }
  return prev == 0;
}

std::string id_of(const YamlReader& r, const YAML::Node& entry, const std::map<std::string, Field>& f,
                  std::string_view what) {
  const Field* id = find(f, "id");
  if (id == nullptr) r.fail(entry, "missing-id", std::string(what) + " has no 'id'");
  std::string s = r.text_or_empty(*id, "id");
  if (s.empty()) r.fail(id->key, "missing-id", std::string(what) + " has an empty 'id'");
  if (!valid_id(s))
    r.fail(id->key, "bad-id",
           "'" + s + "' is not a valid id: use lowercase words of a-z and 0-9 joined by '-', parts separated by '/'");
  return s;
}

Severity severity_of(const YamlReader& r, const Field& f, std::string_view name) {
  const std::string s = r.text(f, name);
  auto v = parse_severity(s);
  if (!v) r.fail(f.key, "bad-severity", "'" + s + "' is not a severity: use info, low, medium, high or critical");
  return *v;
}

void check_glob(const YamlReader& r, const Field& f, const std::string& glob) {
  if (auto why = detail::glob_problem(glob); !why.empty())
    r.fail(f.key, "bad-glob", "'" + glob + "' is not a usable glob: " + why);
}

std::uint32_t mode_of(const YamlReader& r, const Field& f) {
  const std::string s = r.text(f, "mode");
  std::uint32_t v = 0;
  bool ok = !s.empty() && s.size() <= 5;
  for (char c : s) {
    if (c < '0' || c > '7') ok = false;
    v = v * 8 + static_cast<std::uint32_t>(c - '0');
  }
  if (!ok || v > 07777)
    r.fail(f.key, "bad-mode", "'" + s + "' is not a file mode: write it in octal, quoted (\"0644\")");
  return v;
}

void check_generator(const YamlReader& r, const Field& f, const std::string& spec) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && spec[i] == ' ') ++i;
    std::size_t j = i;
    while (j < spec.size() && spec[j] != ' ') ++j;
    if (j > i) words.push_back(spec.substr(i, j - i));
    i = j;
  }
  const auto& algs = generator_algorithms();
  const auto& fmts = generator_formats();
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (words.size() != 2)
    r.fail(f.key, "bad-generator", "'" + spec + "' must be '<algorithm> <format>', e.g. 'rsa-2048 pem-pkcs8'");
  if (std::find(algs.begin(), algs.end(), words[0]) == algs.end())
    r.fail(f.key, "bad-generator", "unknown algorithm '" + words[0] + "' (known: " + join(algs) + ")");
  if (std::find(fmts.begin(), fmts.end(), words[1]) == fmts.end())
    r.fail(f.key, "bad-generator", "unknown format '" + words[1] + "' (known: " + join(fmts) + ")");
}

ExampleCertificate parse_example_certificate(const YamlReader& r, const Field& cf) {
  ExampleCertificate c;
  auto f = r.fields(cf.value, {"eku", "issuer", "ca", "validity", "not_before", "path"}, "example certificate");
  if (auto* x = find(f, "eku")) c.eku = r.texts(*x, "eku");
  if (auto* x = find(f, "issuer")) {
    const std::string s = r.text(*x, "issuer");
    if (s != "ca" && s != "self")
      r.fail(x->key, "bad-value", "'issuer' must be 'ca' (issued by a generated CA) or 'self'");
    c.ca_issued = s == "ca";
  }
  if (auto* x = find(f, "ca")) c.is_ca = r.boolean(*x, "ca");
  if (auto* x = find(f, "validity")) {
    c.validity = r.text(*x, "validity");
    if (c.validity != "valid" && c.validity != "expired" && c.validity != "expiring")
      r.fail(x->key, "bad-value", "'validity' must be valid, expired or expiring");
  }
  if (auto* x = find(f, "not_before")) {
    c.not_before = r.text(*x, "not_before");
    if (!detail::parse_date(c.not_before))
      r.fail(x->key, "bad-date", "'" + c.not_before + "' is not a date: write YYYY-MM-DD");
  }
  if (auto* x = find(f, "path")) c.path = r.text(*x, "path");
  return c;
}

Example parse_example(const YamlReader& r, const YAML::Node& node, bool positive) {
  Example e;
  e.positive = positive;
  e.file = r.file();
  e.line = detail::line_of(node);
  auto f = r.fields(node, {"generate", "path", "mode", "password", "nearby_password", "owner", "certificate", "expect"},
                    "example");
  const Field* gen = find(f, "generate");
  if (gen == nullptr) r.fail(node, "missing-field", "an example needs 'generate: <algorithm> <format>'");
  e.generate = r.text(*gen, "generate");
  check_generator(r, *gen, e.generate);
  if (auto* x = find(f, "path")) {
    e.path = r.text(*x, "path");
    if (e.path.front() == '/' || e.path.find("..") != std::string::npos)
      r.fail(x->key, "bad-value", "an example path is relative to the example's tree and has no '..'");
  }
  if (auto* x = find(f, "mode")) e.mode = mode_of(r, *x);
  if (auto* x = find(f, "password")) e.password = r.text(*x, "password");
  if (auto* x = find(f, "nearby_password")) e.nearby_password = r.boolean(*x, "nearby_password");
  if (auto* x = find(f, "owner")) e.owner = r.text(*x, "owner");
  if (auto* x = find(f, "certificate")) e.certificate = parse_example_certificate(r, *x);
  if (auto* x = find(f, "expect")) {
    auto ef = r.fields(x->value, {"rule", "severity_at_least", "severity_at_most", "factors", "absent_factors"},
                       "example expectation");
    if (auto* y = find(ef, "rule")) e.expect.rule = r.text(*y, "rule");
    if (auto* y = find(ef, "severity_at_least")) e.expect.severity_at_least = severity_of(r, *y, "severity_at_least");
    if (auto* y = find(ef, "severity_at_most")) e.expect.severity_at_most = severity_of(r, *y, "severity_at_most");
    if (auto* y = find(ef, "factors")) e.expect.factors = r.texts(*y, "factors");
    if (auto* y = find(ef, "absent_factors")) e.expect.absent_factors = r.texts(*y, "absent_factors");
  }
  return e;
}

std::vector<Example> parse_examples(const YamlReader& r, const Field& f) {
  std::vector<Example> out;
  auto m = r.fields(f.value, {"positive", "negative"}, "examples block");
  for (const char* which : {"positive", "negative"}) {
    if (auto* x = find(m, which))
      for (const auto& item : r.sequence(*x, which))
        out.push_back(parse_example(r, item, std::string(which) == "positive"));
  }
  return out;
}

template <typename T>
T* by_id(std::vector<T>& v, const std::string& id) {
  for (auto& x : v)
    if (x.id == id) return &x;
  return nullptr;
}

void check_unique(const YamlReader& r, std::set<std::string>& seen, const std::string& id, const YAML::Node& at,
                  std::string_view what) {
  if (!seen.insert(id).second)
    r.fail(at, "duplicate-id",
           std::string(what) + " '" + id + "' is defined twice in this file (later files may override it)");
}

// A policy's match block: each condition checked (kinds, formats, globs, bounds).
PolicyMatch parse_match(const YamlReader& r, const Field& y) {
  auto m = r.fields(y.value,
                    {"kind", "format", "rule", "path", "algorithm", "bits_below", "bits_at_least", "eku", "issuer",
                     "encrypted", "trust_store", "store_opened", "factor"},
                    "match block");
  if (m.empty()) r.fail(y.key, "empty-match", "a match block needs at least one condition (rule: \"*\" matches all)");
  PolicyMatch pm;
  if (auto* z = find(m, "kind")) {
    pm.kind = r.texts(*z, "kind");
    for (const auto& k : pm.kind)
      if (!scanner::kind_from_string(k))
        r.fail(z->key, "bad-kind", "'" + k + "' is not a kind: use private_key, certificate, keystore or public_key");
  }
  if (auto* z = find(m, "format")) {
    pm.format = r.texts(*z, "format");
    for (const auto& v : pm.format)
      if (!scanner::format_from_string(v))
        r.fail(z->key, "bad-format", "'" + v + "' is not a format keyward reports (see docs/findings.schema.json)");
  }
  if (auto* z = find(m, "rule")) {
    pm.rule = r.texts(*z, "rule");
    for (const auto& g : pm.rule) check_glob(r, *z, g);
  }
  if (auto* z = find(m, "path")) {
    pm.path = r.texts(*z, "path");
    for (const auto& g : pm.path) check_glob(r, *z, g);
  }
  if (auto* z = find(m, "algorithm")) pm.algorithm = r.texts(*z, "algorithm");
  if (auto* z = find(m, "bits_below"))
    pm.bits_below = static_cast<std::uint32_t>(r.integer(*z, "bits_below", 1, 1 << 20, "bad-value"));
  if (auto* z = find(m, "bits_at_least"))
    pm.bits_at_least = static_cast<std::uint32_t>(r.integer(*z, "bits_at_least", 0, 1 << 20, "bad-value"));
  if (auto* z = find(m, "eku")) pm.eku = r.texts(*z, "eku");
  if (auto* z = find(m, "issuer")) pm.issuer = r.texts(*z, "issuer");
  if (auto* z = find(m, "encrypted")) pm.encrypted = r.boolean(*z, "encrypted");
  if (auto* z = find(m, "trust_store")) pm.trust_store = r.boolean(*z, "trust_store");
  if (auto* z = find(m, "store_opened")) pm.store_opened = r.boolean(*z, "store_opened");
  if (auto* z = find(m, "factor")) pm.factor = r.texts(*z, "factor");
  return pm;
}

// The `factors` list: new factors need points and why; a known id is overridden field by field.
void load_factors(const YamlReader& r, const Field& x, std::vector<FactorDef>& factors, const std::string& file_name) {
  std::set<std::string> seen;
  for (const auto& node : r.sequence(x, "factors")) {
    auto f = r.fields(node, {"id", "points", "why"}, "factor");
    const std::string id = id_of(r, node, f, "a factor");
    check_unique(r, seen, id, node, "factor");
    FactorDef* def = by_id(factors, id);
    const bool fresh = def == nullptr;
    if (fresh) {
      if (find(f, "points") == nullptr) r.fail(node, "missing-field", "factor '" + id + "' needs 'points'");
      if (find(f, "why") == nullptr) r.fail(node, "missing-field", "factor '" + id + "' needs 'why'");
      factors.push_back(FactorDef{id, 0, {}, {}, 0});
      def = &factors.back();
    }
    if (auto* p = find(f, "points")) def->points = static_cast<int>(r.integer(*p, "points", -100, 100, "bad-points"));
    if (auto* w = find(f, "why")) def->why = r.text(*w, "why");
    def->file = file_name;
    def->line = detail::line_of(node);
  }
}

// The `detections` list, kept sorted by id: new rules need their texts and severity.
void load_detections(const YamlReader& r, const Field& x, std::vector<DetectionRule>& detections,
                     const std::string& file_name) {
  std::set<std::string> seen;
  for (const auto& node : r.sequence(x, "detections")) {
    auto f = r.fields(node, {"id", "title", "description", "severity", "remediation", "references", "examples"},
                      "detection rule");
    const std::string id = id_of(r, node, f, "a detection rule");
    check_unique(r, seen, id, node, "detection rule");
    DetectionRule* rule = by_id(detections, id);
    if (rule == nullptr) {
      for (const char* need : {"title", "description", "severity", "remediation"})
        if (find(f, need) == nullptr) r.fail(node, "missing-field", "detection rule '" + id + "' needs '" + need + "'");
      detections.push_back(DetectionRule{});
      rule = &detections.back();
      rule->id = id;
    }
    if (auto* y = find(f, "title")) rule->title = r.text(*y, "title");
    if (auto* y = find(f, "description")) rule->description = r.text(*y, "description");
    if (auto* y = find(f, "severity")) rule->severity = severity_of(r, *y, "severity");
    if (auto* y = find(f, "remediation")) rule->remediation = r.text(*y, "remediation");
    if (auto* y = find(f, "references")) rule->references = r.texts(*y, "references");
    if (auto* y = find(f, "examples")) rule->examples = parse_examples(r, *y);
    rule->file = file_name;
    rule->line = detail::line_of(node);
  }
  std::sort(detections.begin(), detections.end(),
            [](const DetectionRule& a, const DetectionRule& b) { return a.id < b.id; });
}

// The `policies` list: new policies need a title, a match block and an action.
void load_policies(const YamlReader& r, const Field& x, std::vector<PolicyRule>& policies,
                   const std::string& file_name) {
  std::set<std::string> seen;
  for (const auto& node : r.sequence(x, "policies")) {
    auto f = r.fields(node,
                      {"id", "title", "description", "enabled", "match", "severity_at_least", "severity_at_most",
                       "add_factors", "remediation", "examples"},
                      "policy rule");
    const std::string id = id_of(r, node, f, "a policy rule");
    check_unique(r, seen, id, node, "policy rule");
    PolicyRule* p = by_id(policies, id);
    if (p == nullptr) {
      for (const char* need : {"title", "match"})
        if (find(f, need) == nullptr) r.fail(node, "missing-field", "policy rule '" + id + "' needs '" + need + "'");
      if (!find(f, "severity_at_least") && !find(f, "severity_at_most") && !find(f, "add_factors") &&
          !find(f, "remediation"))
        r.fail(node, "missing-action",
               "policy rule '" + id +
                   "' does nothing: give severity_at_least, severity_at_most, add_factors or remediation");
      policies.push_back(PolicyRule{});
      p = &policies.back();
      p->id = id;
    }
    if (auto* y = find(f, "title")) p->title = r.text(*y, "title");
    if (auto* y = find(f, "description")) p->description = r.text(*y, "description");
    if (auto* y = find(f, "enabled")) p->enabled = r.boolean(*y, "enabled");
    if (auto* y = find(f, "severity_at_least")) p->severity_at_least = severity_of(r, *y, "severity_at_least");
    if (auto* y = find(f, "severity_at_most")) p->severity_at_most = severity_of(r, *y, "severity_at_most");
    if (auto* y = find(f, "add_factors")) p->add_factors = r.texts(*y, "add_factors");
    if (auto* y = find(f, "remediation")) p->remediation = r.text(*y, "remediation");
    if (auto* y = find(f, "examples")) p->examples = parse_examples(r, *y);
    if (auto* y = find(f, "match")) p->match = parse_match(r, *y);
    if (p->severity_at_least && p->severity_at_most && *p->severity_at_least > *p->severity_at_most)
      r.fail(node, "bad-severity",
             "policy rule '" + id + "' asks for at least " + std::string(to_string(*p->severity_at_least)) +
                 " and at most " + std::string(to_string(*p->severity_at_most)));
    p->file = file_name;
    p->line = detail::line_of(node);
  }
}

// The `known_keys` list: SPKI SHA-256 -> what the key is.
void load_known_key_list(const YamlReader& r, const Field& x, std::map<std::string, std::string>& known_keys) {
  for (const auto& node : r.sequence(x, "known_keys")) {
    auto f = r.fields(node, {"spki_sha256", "name"}, "known key");
    const Field* fp = find(f, "spki_sha256");
    if (fp == nullptr) r.fail(node, "missing-field", "a known key needs 'spki_sha256'");
    const std::string hex = r.text(*fp, "spki_sha256");
    if (!detail::is_sha256_hex(hex))
      r.fail(fp->key, "bad-fingerprint", "'" + hex + "' is not an SPKI SHA-256 (64 hex digits)");
    const Field* name = find(f, "name");
    if (name == nullptr) r.fail(node, "missing-field", "a known key needs a 'name' saying what it is");
    known_keys[detail::lower(hex)] = r.text(*name, "name");
  }
}

// The `vendored_paths` list: globs added to `out` (each once).
void load_vendored_paths(const YamlReader& r, const Field& x, std::vector<std::string>& out) {
  for (const auto& glob : r.texts(x, "vendored_paths")) {
    if (const std::string problem = detail::glob_problem(glob); !problem.empty())
      r.fail(x.key, "bad-glob", "vendored path '" + glob + "': " + problem);
    if (std::find(out.begin(), out.end(), glob) == out.end()) out.push_back(glob);
  }
}

// Parses a "<spki-sha256-hex> <name>" list into `out` (`fallback` names a line without a name).
void parse_key_list(std::string_view text, const std::string& file_name, std::string_view fallback,
                    std::map<std::string, std::string>& out) {
  std::uint64_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto sp = line.find_first_of(" \t");
    const std::string_view fp = line.substr(0, sp);
    std::string_view name = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    if (!detail::is_sha256_hex(fp))
      throw RuleError(file_name, line_no, "bad-fingerprint",
                      "'" + std::string(fp) + "' is not an SPKI SHA-256: write 64 hex digits, then a name");
    out[detail::lower(fp)] = std::string(name.empty() ? fallback : name);
  }
}

}  // namespace

RuleSet RuleSet::builtin() {
  static const RuleSet cached = [] {
    RuleSet s;
    s.load_yaml(detail::kBuiltinFactors, "builtin:factors.yaml");
    s.load_yaml(detail::kBuiltinDetections, "builtin:detections.yaml");
    s.load_yaml(detail::kBuiltinPolicy, "builtin:policy.yaml");
    s.load_yaml(detail::kBuiltinVendored, "builtin:vendored.yaml");
    s.load_known_keys(detail::kBuiltinKnownKeys, "builtin:known-keys.txt");
    s.load_known_public_keys(detail::kBuiltinKnownPublicKeys, "builtin:known-public-keys.txt");
    s.check_references();
    return s;
  }();
  return cached;
}

void RuleSet::load_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw RuleError(dir, 0, "cannot-read", "not a readable directory: --rules takes a directory of *.yaml rule files");
  std::vector<std::string> files;
  std::string known_keys_file, known_public_file;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    const std::string ext = it->path().extension().string();
    if (ext == ".yaml" || ext == ".yml") files.push_back(it->path().string());
    else if (name == "known-keys.txt") known_keys_file = it->path().string();
    else if (name == "known-public-keys.txt") known_public_file = it->path().string();
  }
  if (ec) throw RuleError(dir, 0, "cannot-read", "cannot list it (" + ec.message() + ")");
  if (files.empty() && known_keys_file.empty() && known_public_file.empty())
    throw RuleError(dir, 0, "no-rule-files",
                    "holds no *.yaml rule files (nor a known-keys.txt or known-public-keys.txt)");
  std::sort(files.begin(), files.end());
  // All or nothing: a broken file leaves this set as it was.
  RuleSet next = *this;
  for (const auto& f : files) next.load_yaml(detail::read_text_file(f), f);
  if (!known_keys_file.empty()) next.load_known_keys(detail::read_text_file(known_keys_file), known_keys_file);
  if (!known_public_file.empty())
    next.load_known_public_keys(detail::read_text_file(known_public_file), known_public_file);
  next.check_references();
  *this = std::move(next);
}

void RuleSet::load_file(const std::string& path) {
  RuleSet next = *this;
  next.load_yaml(detail::read_text_file(path), path);
  next.check_references();
  *this = std::move(next);
}

void RuleSet::load_text(std::string_view text, const std::string& file_name) {
  RuleSet next = *this;
  next.load_yaml(text, file_name);
  next.check_references();
  *this = std::move(next);
}

void RuleSet::load_known_keys(std::string_view text, const std::string& file_name) {
  parse_key_list(text, file_name, "publicly known key", known_keys_);
  sources_.push_back(file_name);
}

void RuleSet::load_known_public_keys(std::string_view text, const std::string& file_name) {
  parse_key_list(text, file_name, "published test key", known_public_keys_);
  sources_.push_back(file_name);
}

void RuleSet::load_yaml(std::string_view text, const std::string& file_name) {
  const YamlReader r(file_name);
  const YAML::Node doc = detail::load_yaml(text, file_name);
  sources_.push_back(file_name);
  if (doc.IsNull() || !doc.IsDefined()) return;  // an empty file adds nothing
  auto top = r.fields(doc, {"schema", "version", "detections", "policies", "factors", "known_keys", "vendored_paths"},
                      "rule file");
  if (auto* x = find(top, "version")) r.integer(*x, "version", 1, 1, "bad-version");
  if (auto* x = find(top, "schema")) {
    if (r.text(*x, "schema") != "keyward.rules/v1")
      r.fail(x->key, "bad-version", "this keyward reads schema keyward.rules/v1");
  }

  if (auto* x = find(top, "factors")) load_factors(r, *x, factors_, file_name);
  if (auto* x = find(top, "detections")) load_detections(r, *x, detections_, file_name);
  if (auto* x = find(top, "policies")) load_policies(r, *x, policies_, file_name);
  if (auto* x = find(top, "known_keys")) load_known_key_list(r, *x, known_keys_);
  if (auto* x = find(top, "vendored_paths")) load_vendored_paths(r, *x, vendored_paths_);
}

void RuleSet::check_references() const {
  auto check_examples = [&](const std::vector<Example>& examples) {
    for (const auto& e : examples) {
      for (const auto* list : {&e.expect.factors, &e.expect.absent_factors})
        for (const auto& id : *list)
          if (factor(id) == nullptr && policy(id) == nullptr)
            throw RuleError(e.file, e.line, "unknown-factor",
                            "the example expects factor '" + id + "', which no factor table defines");
      if (!e.expect.rule.empty() && rule(e.expect.rule) == nullptr)
        throw RuleError(e.file, e.line, "unknown-rule",
                        "the example expects rule '" + e.expect.rule + "', which is not a detection rule");
    }
  };
  for (const auto& d : detections_) check_examples(d.examples);
  for (const auto& p : policies_) {
    for (const auto& id : p.add_factors)
      if (factor(id) == nullptr)
        throw RuleError(p.file, p.line, "unknown-factor",
                        "policy rule '" + p.id + "' adds factor '" + id + "', which no factor table defines");
    if (factor(p.id) != nullptr)
      throw RuleError(p.file, p.line, "duplicate-id",
                      "policy rule '" + p.id + "' has the id of a factor: pick another id");
    check_examples(p.examples);
  }
}

const DetectionRule* RuleSet::rule(std::string_view id) const {
  auto it = std::lower_bound(detections_.begin(), detections_.end(), id,
                             [](const DetectionRule& r, std::string_view v) { return r.id < v; });
  return it != detections_.end() && it->id == id ? &*it : nullptr;
}

const FactorDef* RuleSet::factor(std::string_view id) const {
  for (const auto& f : factors_)
    if (f.id == id) return &f;
  return nullptr;
}

const PolicyRule* RuleSet::policy(std::string_view id) const {
  for (const auto& p : policies_)
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace keyward::rules
