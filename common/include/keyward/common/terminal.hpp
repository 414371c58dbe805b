// Text from a scanned machine or the wire, made safe to print on a terminal: control characters
// (C0, DEL and the C1 controls U+0080-U+009F) are written as \xNN and \u00NN, so a file or host
// name cannot move the cursor, clear the screen or forge a line. Used by: the text report of
// `keyward scan`/`keyward ci`, every listing of `keyward-collector`, and the collector's checks of
// names and reasons (which refuse those characters outright).
#pragma once

#include <string>
#include <string_view>

namespace keyward::common {

// `s` with its control characters escaped; everything else (UTF-8 included) as it is.
std::string terminal_safe(std::string_view s);

// Whether `s` holds a character terminal_safe would escape (C0, DEL or a C1 control).
bool has_control_characters(std::string_view s) noexcept;

}  // namespace keyward::common
