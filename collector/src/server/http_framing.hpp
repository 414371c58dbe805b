// SPDX-License-Identifier: Apache-2.0
// The collector's HTTP/1.1 request framing (RFC 9112): where a request's header ends, how its body
// is delimited (Content-Length or chunked) and what is refused before any handler sees it:
// obsolete line folding, bare LF line ends, a Transfer-Encoding other than exactly "chunked",
// Content-Length together with Transfer-Encoding (request smuggling, RFC 9112 sections 6.1 and
// 6.3), a header over 16 KiB and a body over the limit.
// Used by: the TLS session (server.cpp), which feeds it the bytes it reads; the http_framing
// fuzzer and the tests, through frame_request(). No network and no Asio I/O here.
// Must never accept a request whose body length it does not know exactly: the bytes after a
// request are the next request on the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::collector {

// Why a request's bytes are refused; the answer closes the connection.
struct FramingRefusal {
  unsigned status = 400;  // 400, 413 or 501
  std::string code;       // "bad_request", "too_large", "not_implemented"
  std::string message;
};

// The fields of a request's header that the session and the API use.
struct RequestHead {
  std::string method;
  std::string target;
  std::string authorization;     // "" when absent
  std::string content_encoding;  // "" when absent
  bool expect_continue = false;  // "Expect: 100-continue"
  bool keep_alive = true;
  bool chunked = false;                         // the body is chunked (its length is unknown)
  std::optional<std::uint64_t> content_length;  // the declared length; nullopt for chunked or none
};

// One request's framing, fed the bytes of a connection in order.
class RequestFramer {
 public:
  // The most a header (request line, fields and the empty line) may take.
  static constexpr std::size_t kHeaderLimit = 16 * 1024;

  // Where the framer is: reading the header, reading the body, done (the request is complete),
  // or refused (refusal() says why).
  enum class Stage { header, body, done, refused };

  // body_limit: the most body bytes (after chunked decoding) a request may carry.
  explicit RequestFramer(std::uint64_t body_limit);
  ~RequestFramer();
  RequestFramer(const RequestFramer&) = delete;
  RequestFramer& operator=(const RequestFramer&) = delete;

  // Uses bytes from the front of input and returns how many; the caller keeps the rest, and
  // calls again with more appended while the stage is header or body. A header is used only
  // once all of it is in input.
  std::size_t feed(std::string_view input);

  // The current stage.
  Stage stage() const noexcept;
  // The header's fields, once the stage is past header.
  const RequestHead& head() const noexcept;
  // Why the request was refused, when the stage is refused.
  const FramingRefusal& refusal() const noexcept;
  // True when the declared body is chunked or longer than bytes.
  bool body_over(std::uint64_t bytes) const noexcept;
  // Moves the body out, when the stage is done.
  std::string take_body();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The framing of the first request in bytes, all at once (for the fuzzer and the tests).
struct FramedRequest {
  RequestFramer::Stage stage = RequestFramer::Stage::header;  // header or body: incomplete
  FramingRefusal refusal;                                     // when refused
  RequestHead head;                                           // once the header was read (empty before)
  std::string body;                                           // when done
  std::size_t used = 0;  // bytes of this request; the rest of bytes is the next request
};
FramedRequest frame_request(std::string_view bytes, std::uint64_t body_limit);

}  // namespace keyward::collector
