#include <keyward/reporters/json.hpp>

#include <keyward/scanner/finding_json.hpp>

namespace keyward::reporters {

std::string render_json(const scanner::ScanResult& result) {
  return scanner::to_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_jsonl(const scanner::ScanResult& result) {
  std::string out;
  for (const auto& f : result.findings)
    out += scanner::to_json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  out += scanner::to_json(result, false).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return out;
}

}  // namespace keyward::reporters
