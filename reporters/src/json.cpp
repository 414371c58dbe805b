#include <keyward/reporters/json.hpp>

#include <keyward/scanner/finding_json.hpp>

namespace keyward::reporters {
namespace {

std::string dump(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string render_json(const scanner::ScanResult& result) {
  // The document is written finding by finding: a JSON tree of a whole machine's findings
  // would take several times the memory of the findings themselves.
  std::string head = dump(scanner::to_json(result, false), 2);  // "{\n  ...\n}"
  head.resize(head.size() - 2);                                    // drop "\n}"
  std::string out = std::move(head);
  out += ",\n  \"findings\": [";
  bool first = true;
  for (const auto& f : result.findings) {
    out += first ? "\n    " : ",\n    ";
    first = false;
    const std::string one = dump(scanner::to_json(f), 2);
    for (char c : one) {
      out += c;
      if (c == '\n') out += "    ";
    }
  }
  out += first ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string render_jsonl(const scanner::ScanResult& result) {
  std::string out;
  for (const auto& f : result.findings) out += dump(scanner::to_json(f), -1) + "\n";
  out += dump(scanner::to_json(result, false), -1) + "\n";
  return out;
}

}  // namespace keyward::reporters
