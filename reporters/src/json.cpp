// SPDX-License-Identifier: Apache-2.0
#include <keyward/reporters/json.hpp>

#include <keyward/scanner/finding_json.hpp>

#include <keyward/scanner/slices.hpp>

#include <vector>

namespace keyward::reporters {
namespace {

std::string dump(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Findings [begin, end) as they sit in the document's array: each indented by four spaces,
// separated by commas.
std::string render_findings(const std::vector<scanner::Finding>& findings, std::size_t begin, std::size_t end) {
  std::string out;
  out.reserve((end - begin) * 3072);  // a finding with risk factors is 2-3 KiB: no regrowth
  for (std::size_t i = begin; i < end; ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    scanner::write_json(findings[i], out, 4);
  }
  return out;
}

}  // namespace

std::string render_json(const scanner::ScanResult& result) {
  // The document is written finding by finding: a JSON tree of a whole machine's findings
  // would take several times the memory of the findings themselves.
  std::string head = dump(scanner::to_json(result, false), 2);  // "{\n  ...\n}"
  head.resize(head.size() - 2);                                 // drop "\n}"
  std::string out = std::move(head);
  out += ",\n  \"findings\": [";
  // A machine's thousands of findings are rendered in slices on every core, then joined in order.
  const std::size_t n = result.findings.size();
  std::vector<std::string> parts(scanner::slice_count(n, 256));
  scanner::for_slices(n, 256, [&](std::size_t slice, std::size_t begin, std::size_t end) {
    parts[slice] = render_findings(result.findings, begin, end);
  });
  for (const auto& p : parts) out += p;
  out += n == 0 ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string render_jsonl(const scanner::ScanResult& result) {
  std::string out;
  for (const auto& f : result.findings) {
    scanner::write_json(f, out, -1);  // the same text as the JSON tree's compact dump
    out += '\n';
  }
  out += dump(scanner::to_json(result, false), -1) + "\n";
  return out;
}

}  // namespace keyward::reporters
