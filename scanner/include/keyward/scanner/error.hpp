// SPDX-License-Identifier: Apache-2.0
// Error codes of the scanner's per-item failures (a file that cannot be read, a block that does
// not parse). Used by: every detector and the walker, which count them and go on.
// Never carries key bytes, passwords or file content in a message.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <system_error>

namespace keyward::scanner {

// Why an item could not be read or parsed; the string form is stable (stats keys, messages).
enum class Errc {
  ok = 0,
  truncated,      // the data ends before the structure does
  bad_magic,      // the header or magic is not the expected one
  bad_encoding,   // base64/hex/armor does not decode
  bad_structure,  // lengths or fields are inconsistent
  unsupported,    // a well-formed object of a type we do not handle
  not_private,    // a well-formed object that holds no private key
  too_large,      // past a size limit
  crypto_error,   // OpenSSL refused the object
};

// The error category for Errc.
const boost::system::error_category& scanner_category() noexcept;

// Makes an error_code from an Errc.
inline boost::system::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), scanner_category()}; }

// Value-or-error used by all parsers (docs/architecture.md, "Errors": expected per-item failures are values).
template <class T>
using Result = boost::system::result<T>;

}  // namespace keyward::scanner

namespace boost::system {
template <>
struct is_error_code_enum<keyward::scanner::Errc> : std::true_type {};
}  // namespace boost::system
