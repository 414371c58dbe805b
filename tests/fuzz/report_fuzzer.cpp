// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the wire messages a collector reads from agents and an agent reads back:
// protocol::parse_report (the keyward.findings/v1 document plus report_id, with every finding
// through scanner::finding_from_json, with and without a cap on findings) and the enrollment
// request and response. Each finding read is also written both ways, scanner::write_json and the
// JSON tree, which must agree byte for byte.
// Seeds: a real report from `keyward scan --format json` (tests/fuzz/make_seeds.py).
#include <keyward/protocol/protocol.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // The findings cap counts while parsing: a report it lets through reads as it does without it.
  if (auto capped = keyward::protocol::parse_report(body, 2)) {
    const auto full = keyward::protocol::parse_report(body);
    if (!full || capped->result.findings.size() > 2 || full->result.findings.size() != capped->result.findings.size())
      __builtin_trap();
  }
  if (auto r = keyward::protocol::parse_report(body)) {
    // A parsed report must survive its own round trip (what the store keeps and serves).
    const auto again =
        keyward::protocol::parse_report(keyward::protocol::report_to_json(r->result, r->report_id)
                                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (!again) __builtin_trap();
    for (const auto& f : r->result.findings) {
      for (int indent : {-1, 4}) {
        std::string written;
        keyward::scanner::write_json(f, written, indent);
        std::string tree = keyward::scanner::to_json(f).dump(indent < 0 ? -1 : 2, ' ', false,
                                                             nlohmann::json::error_handler_t::replace);
        if (indent >= 0)
          for (std::size_t at = 0; (at = tree.find('\n', at)) != std::string::npos; at += 1 + indent)
            tree.insert(at + 1, static_cast<std::size_t>(indent), ' ');
        if (written != tree) __builtin_trap();
      }
    }
  }
  (void)keyward::protocol::parse_enroll_request(body);
  (void)keyward::protocol::parse_enroll_response(body);
  return 0;
}
