// SPDX-License-Identifier: Apache-2.0
// Text from a scanned machine or the wire, made safe to print on a terminal: control characters
// (C0, DEL and the C1 controls U+0080-U+009F) are written as \xNN and \u00NN, so a file or host
// name cannot move the cursor, clear the screen or forge a line. Used by: the text report of
// `keyward scan`/`keyward ci`, every listing of `keyward-collector`, and the collector's checks of
// names and reasons (which refuse those characters outright).
// Also the one place that decides whether output gets ANSI colour (--color, NO_COLOR, TERM=dumb)
// and whether a live progress line may be drawn: used by every coloured or live output of `keyward`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward::common {

// `s` with its control characters escaped; everything else (UTF-8 included) as it is.
std::string terminal_safe(std::string_view s);

// Whether `s` holds a character terminal_safe would escape (C0, DEL or a C1 control).
bool has_control_characters(std::string_view s) noexcept;

// --color: auto (a terminal that can show colour and NO_COLOR unset), always (even into a pipe or
// a file), never.
enum class ColorMode { auto_, always, never };

// "auto", "always", "never" -> the mode; nullopt for anything else.
std::optional<ColorMode> parse_color_mode(std::string_view name) noexcept;

// Whether fd is a terminal that understands escape sequences: isatty and TERM is not "dumb".
bool capable_terminal(int fd) noexcept;

// Whether output written to fd gets ANSI colour: always -> yes; never -> no; auto -> fd is a
// capable_terminal and NO_COLOR is unset or empty (docs/scan.md, "Colour").
bool use_color(ColorMode mode, int fd) noexcept;

}  // namespace keyward::common
