// SPDX-License-Identifier: Apache-2.0
// PEM blocks, however they are wrapped: plain files, CRLF, a BOM, "Bag Attributes" preambles,
// and PEM embedded in source or config (JSON "\n" escapes, quoted line concatenation, YAML
// block scalars). Bodies are validated (base64 decodes, DER parses strictly) before anything
// is reported, so placeholders, truncated blocks and bare labels are not keys.
// Used by: text_detect.cpp. Never keeps decoded key bytes beyond the call: the base64 text and
// the decoded body are common::SecretBytes, wiped on every return.
#pragma once

#include "detectors/parsers.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace keyward::scanner::detail {

// The outcome of one "-----BEGIN " anchor.
struct PemOutcome {
  std::vector<Finding> findings;  // one or more (a PKCS#7 carries several certificates)
  std::size_t consumed = 0;       // bytes from the anchor to the end of the END line
  bool escaped = false;           // the block was inside a string with \n escapes or quotes
};

class FindingMemo;  // memo.hpp

// Reads and validates the PEM block that starts at text[at] ("-----BEGIN ").
// An error of Errc::unsupported means a label we do not handle (not counted as rejected).
// With `certificates` (the scan's memo), a certificate seen before is not decoded again.
Result<PemOutcome> decode_pem(std::string_view text, std::size_t at, FindingMemo* certificates = nullptr);

// The short name a PEM label is counted under when its body does not validate.
std::string_view pem_label_family(std::string_view label) noexcept;

}  // namespace keyward::scanner::detail
