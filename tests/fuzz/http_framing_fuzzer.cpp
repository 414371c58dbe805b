// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the collector's HTTP request framing (collector/src/server/http_framing.hpp),
// the code the TLS session feeds every byte a client sends.
// Input: byte 0 sets how the session's reads are cut (1 to 64 bytes each); the rest is what the
// client sends. Checked, besides no crash or sanitizer report:
//  - fed in pieces as the session feeds it, the framing decides exactly as fed at once
//    (stage, body, refusal status; and bytes used, unless refused);
//  - a request taken as complete has a header block without folded lines or bare LF, and its
//    body framing agrees with its header read independently here: at most one
//    Transfer-Encoding field, exactly "chunked" and without Content-Length; otherwise the body is
//    exactly Content-Length bytes (or none) and the next request starts right after it.
// Seeds: tests/fuzz/make_seeds.py (valid requests, pipelined ones, and the smuggling shapes).
#include "server/http_framing.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using keyward::collector::FramedRequest;
using keyward::collector::RequestFramer;
using Stage = RequestFramer::Stage;

constexpr std::uint64_t kBodyLimit = 64 * 1024;

// The session's way: append what a read returned, feed, drop what the framer used.
FramedRequest frame_in_pieces(std::string_view bytes, std::size_t step) {
  RequestFramer framer(kBodyLimit);
  FramedRequest out;
  std::string buffer;
  std::size_t offered = 0;
  while (framer.stage() == Stage::header || framer.stage() == Stage::body) {
    if (offered >= bytes.size()) break;
    const std::size_t n = std::min(step, bytes.size() - offered);
    buffer.append(bytes.substr(offered, n));
    offered += n;
    for (;;) {  // feed until the framer uses nothing more (a header, then its body)
      const std::size_t used = framer.feed(buffer);
      buffer.erase(0, used);
      out.used += used;
      if (used == 0 || (framer.stage() != Stage::header && framer.stage() != Stage::body)) break;
    }
  }
  out.stage = framer.stage();
  if (out.stage == Stage::refused) out.refusal = framer.refusal();
  out.head = framer.head();
  if (out.stage == Stage::done) out.body = framer.take_body();
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The checks of a complete request against its header block, read here line by line.
void check_complete(std::string_view bytes, const FramedRequest& r) {
  const auto end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) __builtin_trap();
  const std::string_view block = bytes.substr(0, end + 4);
  int te_fields = 0, cl_fields = 0;
  std::string te;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (block[i] != '\n') continue;
    if (i == 0 || block[i - 1] != '\r') __builtin_trap();                                         // bare LF
    if (i + 1 < block.size() && (block[i + 1] == ' ' || block[i + 1] == '\t')) __builtin_trap();  // folded
    const std::string_view line = block.substr(i + 1, block.find("\r\n", i + 1) - (i + 1));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(line.substr(0, colon));
    if (name == "transfer-encoding") ++te_fields, te = lower(trim(line.substr(colon + 1)));
    if (name == "content-length") ++cl_fields;
  }
  if (r.body.size() > kBodyLimit) __builtin_trap();
  if (te_fields > 0) {
    if (te_fields != 1 || cl_fields != 0 || te != "chunked" || !r.head.chunked) __builtin_trap();
    return;
  }
  if (r.head.chunked) __builtin_trap();
  const std::uint64_t length = r.head.content_length.value_or(0);
  if (r.body.size() != length || r.used != block.size() + length) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const FramedRequest whole = keyward::collector::frame_request(bytes, kBodyLimit);
  if (whole.used > bytes.size()) __builtin_trap();
  const FramedRequest pieces = frame_in_pieces(bytes, step);
  if (pieces.stage != whole.stage || pieces.body != whole.body || pieces.refusal.status != whole.refusal.status)
    __builtin_trap();
  // After a refusal the connection closes: how much was used before it does not matter.
  if (whole.stage != Stage::refused && pieces.used != whole.used) __builtin_trap();
  if (whole.stage == Stage::refused && whole.refusal.status != 400 && whole.refusal.status != 413 &&
      whole.refusal.status != 501)
    __builtin_trap();
  if (whole.stage == Stage::done) check_complete(bytes, whole);
  return 0;
}
