// SPDX-License-Identifier: Apache-2.0
// Request framing: the raw header bytes are checked first (folding, bare LF: Beast would accept
// both), then Beast's parser reads the header, then the transfer coding is checked against what
// the parser decided, then the parser reads the body. Only Beast's parser (no Asio I/O) is used,
// so that the fuzzer runs the same code as the server.
#include "server/http_framing.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <vector>

namespace keyward::collector {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

FramingRefusal bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }

// The raw header block (request line to the empty line) refused before parsing: a field line
// that starts with SP or HT is obsolete line folding (RFC 9112 section 5.2: a server rejects it
// with 400), and a line must end in CRLF.
std::optional<FramingRefusal> check_raw_header(std::string_view block, std::size_t from) {
  for (std::size_t i = from; i < block.size(); ++i) {
    if (block[i] != '\n') continue;
    if (i == 0 || block[i - 1] != '\r') return bad_request("a header line ends in LF without CR");
    if (i + 1 < block.size() && (block[i + 1] == ' ' || block[i + 1] == '\t'))
      return bad_request("a header field is folded over lines (obsolete line folding)");
  }
  return std::nullopt;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The transfer codings of every Transfer-Encoding field, in order; an empty one for an empty
// list element.
std::vector<std::string_view> transfer_codings(const http::request<http::string_body>& req) {
  std::vector<std::string_view> out;
  for (const auto& f : req) {
    if (f.name() != http::field::transfer_encoding) continue;
    std::string_view v = f.value();
    for (;;) {
      const auto comma = v.find(',');
      out.push_back(trim_ows(v.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

// The one framing a request body may have besides Content-Length is exactly "chunked" (RFC 9112
// section 6.1); anything else would let the parser and a proxy in front disagree on where the
// body ends. The parser's own decision must agree with ours.
std::optional<FramingRefusal> check_transfer_coding(const http::request_parser<http::string_body>& parser) {
  const auto& req = parser.get();
  const auto codings = transfer_codings(req);
  const bool has_length = req.find(http::field::content_length) != req.end();
  if (codings.empty()) {
    if (parser.chunked()) return bad_request("the body's framing is ambiguous");
    return std::nullopt;
  }
  if (has_length) return bad_request("Content-Length and Transfer-Encoding are both present");
  if (codings.size() > 1) return bad_request("only Transfer-Encoding: chunked is accepted, no combined codings");
  if (!beast::iequals(codings.front(), "chunked")) {
    if (codings.front().empty()) return bad_request("Transfer-Encoding is empty");
    return FramingRefusal{501, "not_implemented", "Transfer-Encoding must be chunked or absent"};
  }
  if (!parser.chunked()) return bad_request("the body's framing is ambiguous");
  return std::nullopt;
}

}  // namespace

struct RequestFramer::Impl {
  http::request_parser<http::string_body> parser;
  Stage stage = Stage::header;
  RequestHead head;
  FramingRefusal refusal;
  std::size_t scanned = 0;  // header bytes checked by earlier calls (the caller appends to them)

  void refuse(FramingRefusal r) {
    refusal = std::move(r);
    stage = Stage::refused;
  }
  void refuse(const beast::error_code& ec) {
    if (ec == http::error::body_limit)
      refuse(FramingRefusal{413, "too_large", "the body is larger than limits.max_request_bytes"});
    else refuse(bad_request("the request is not valid HTTP/1.1"));
  }
  std::size_t header(std::string_view input);
  std::size_t body(std::string_view input);
  void fill_head();
};

void RequestFramer::Impl::fill_head() {
  const auto& req = parser.get();
  head.method = std::string(req.method_string());
  head.target = std::string(req.target());
  head.authorization = std::string(req[http::field::authorization]);
  head.content_encoding = std::string(req[http::field::content_encoding]);
  head.expect_continue = beast::iequals(req[http::field::expect], "100-continue");
  head.keep_alive = req.keep_alive();
  head.chunked = parser.chunked();
  if (parser.is_header_done())
    if (const auto n = parser.content_length()) head.content_length = *n;
}

std::size_t RequestFramer::Impl::header(std::string_view input) {
  const std::string_view seen = input.substr(0, kHeaderLimit);
  // Only what is new since the last call is scanned: a header sent a byte at a time costs no more.
  const auto end = seen.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
  const std::string_view block = end == std::string_view::npos ? seen : seen.substr(0, end + 4);
  // A bare LF or a folded line decides at once, complete header or not.
  if (auto bad = check_raw_header(block, scanned > 0 ? scanned - 1 : 0)) {
    refuse(std::move(*bad));
    return 0;
  }
  scanned = block.size();
  if (end == std::string_view::npos) {
    if (input.size() >= kHeaderLimit) refuse(bad_request("the header is larger than 16 KiB"));
    return 0;
  }
  beast::error_code ec;
  const std::size_t used = parser.put(boost::asio::const_buffer(block.data(), block.size()), ec);
  fill_head();  // also for a refusal's log line (method and path)
  if (ec && ec != http::error::need_more) {
    refuse(ec);
    return 0;
  }
  if (!parser.is_header_done() || used != block.size()) {
    refuse(bad_request("the request is not valid HTTP/1.1"));
    return 0;
  }
  if (auto bad = check_transfer_coding(parser)) {
    refuse(std::move(*bad));
    return 0;
  }
  stage = parser.is_done() ? Stage::done : Stage::body;
  return used;
}

std::size_t RequestFramer::Impl::body(std::string_view input) {
  std::size_t used = 0;
  while (used < input.size() && !parser.is_done()) {
    beast::error_code ec;
    const std::size_t n = parser.put(boost::asio::const_buffer(input.data() + used, input.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) break;
    if (ec) {
      refuse(ec);
      return used;
    }
    if (n == 0) break;
  }
  if (parser.is_done()) stage = Stage::done;
  // What the parser left waits for a line end: a chunk line or trailer that long is refused.
  else if (input.size() - used >= kHeaderLimit) refuse(bad_request("a chunk header or trailer is larger than 16 KiB"));
  return used;
}

RequestFramer::RequestFramer(std::uint64_t body_limit) : impl_(std::make_unique<Impl>()) {
  impl_->parser.header_limit(static_cast<std::uint32_t>(kHeaderLimit + 4));
  impl_->parser.body_limit(body_limit);
  impl_->parser.eager(true);
}

RequestFramer::~RequestFramer() = default;

std::size_t RequestFramer::feed(std::string_view input) {
  switch (impl_->stage) {
    case Stage::header:
      return impl_->header(input);
    case Stage::body:
      return impl_->body(input);
    case Stage::done:
    case Stage::refused:
      break;
  }
  return 0;
}

RequestFramer::Stage RequestFramer::stage() const noexcept { return impl_->stage; }

const RequestHead& RequestFramer::head() const noexcept { return impl_->head; }

const FramingRefusal& RequestFramer::refusal() const noexcept { return impl_->refusal; }

bool RequestFramer::body_over(std::uint64_t bytes) const noexcept {
  return impl_->head.chunked || impl_->head.content_length.value_or(0) > bytes;
}

std::string RequestFramer::take_body() { return std::move(impl_->parser.get().body()); }

FramedRequest frame_request(std::string_view bytes, std::uint64_t body_limit) {
  RequestFramer framer(body_limit);
  FramedRequest out;
  out.used = framer.feed(bytes);
  if (framer.stage() == RequestFramer::Stage::body) out.used += framer.feed(bytes.substr(out.used));
  out.stage = framer.stage();
  if (out.stage == RequestFramer::Stage::refused) out.refusal = framer.refusal();
  out.head = framer.head();
  if (out.stage == RequestFramer::Stage::done) out.body = framer.take_body();
  return out;
}

}  // namespace keyward::collector
