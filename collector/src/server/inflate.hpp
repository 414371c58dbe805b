// SPDX-License-Identifier: Apache-2.0
// Bounded gzip decompression of request bodies (Content-Encoding: gzip).
// Used by: the API (reports). Must never allocate more than the cap: a zip bomb is refused
// as too large after at most cap + one chunk of output.
#pragma once

#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace keyward::collector {

enum class InflateError { too_large, corrupt };

// Decompresses a gzip body (one or more members); too_large once the output passes cap bytes.
boost::system::result<std::string, InflateError> gunzip(std::string_view in, std::size_t cap);

}  // namespace keyward::collector
