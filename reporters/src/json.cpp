#include <keyward/reporters/json.hpp>

#include <keyward/scanner/finding_json.hpp>

#include <algorithm>
#include <thread>
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
  for (std::size_t i = begin; i < end; ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    const std::string one = dump(scanner::to_json(findings[i]), 2);
    std::size_t from = 0;
    for (std::size_t nl; (nl = one.find('\n', from)) != std::string::npos; from = nl + 1) {
      out.append(one, from, nl + 1 - from);
      out += "    ";
    }
    out.append(one, from);
  }
  return out;
}

}  // namespace

std::string render_json(const scanner::ScanResult& result) {
  // The document is written finding by finding: a JSON tree of a whole machine's findings
  // would take several times the memory of the findings themselves.
  std::string head = dump(scanner::to_json(result, false), 2);  // "{\n  ...\n}"
  head.resize(head.size() - 2);                                    // drop "\n}"
  std::string out = std::move(head);
  out += ",\n  \"findings\": [";
  // A machine's thousands of findings are rendered in slices on every core, then joined in order.
  const std::size_t n = result.findings.size();
  const std::size_t slices = std::clamp<std::size_t>(n / 256, 1, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> parts(slices);
  std::vector<std::thread> threads;
  for (std::size_t s = 1; s < slices; ++s)
    threads.emplace_back([&, s] { parts[s] = render_findings(result.findings, n * s / slices, n * (s + 1) / slices); });
  parts[0] = render_findings(result.findings, 0, n / slices);
  for (auto& t : threads) t.join();
  for (const auto& p : parts) out += p;
  out += n == 0 ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string render_jsonl(const scanner::ScanResult& result) {
  std::string out;
  for (const auto& f : result.findings) out += dump(scanner::to_json(f), -1) + "\n";
  out += dump(scanner::to_json(result, false), -1) + "\n";
  return out;
}

}  // namespace keyward::reporters
