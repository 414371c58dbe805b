// SPDX-License-Identifier: Apache-2.0
// keyward::common: the colour decision (--color, NO_COLOR, TERM=dumb) on a pipe and on a real
// pseudo-terminal, for every mode and environment (docs/scan.md, "Colour").
#include <doctest/doctest.h>

#include <keyward/common/terminal.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

using keyward::common::ColorMode;
using keyward::common::use_color;

namespace {

// Sets (or, with nullopt, unsets) an environment variable for a scope, restoring it after.
class EnvVar {
 public:
  EnvVar(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~EnvVar() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A pseudo-terminal's slave side (a real TTY for isatty), closed with its master.
struct Pty {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  int slave = -1;
  Pty() {
    if (master >= 0 && ::grantpt(master) == 0 && ::unlockpt(master) == 0)
      if (const char* name = ::ptsname(master)) slave = ::open(name, O_RDWR | O_NOCTTY);
  }
  ~Pty() {
    if (slave >= 0) ::close(slave);
    if (master >= 0) ::close(master);
  }
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;
};

struct Case {
  std::optional<std::string> no_color;
  std::optional<std::string> term;
  bool tty_colored;  // what auto decides on a terminal
};

}  // namespace

TEST_CASE("--color names parse, anything else is refused") {
  CHECK(keyward::common::parse_color_mode("auto") == ColorMode::auto_);
  CHECK(keyward::common::parse_color_mode("always") == ColorMode::always);
  CHECK(keyward::common::parse_color_mode("never") == ColorMode::never);
  CHECK_FALSE(keyward::common::parse_color_mode("yes").has_value());
  CHECK_FALSE(keyward::common::parse_color_mode("").has_value());
}

TEST_CASE("use_color: always colours and never does not, on a terminal or a pipe, whatever the environment") {
  Pty pty;
  REQUIRE(pty.slave >= 0);
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  for (const Case& c : {Case{std::nullopt, std::string("xterm"), true}, Case{std::string("1"), std::nullopt, false},
                        Case{std::nullopt, std::string("dumb"), false}}) {
    EnvVar no_color("NO_COLOR", c.no_color);
    EnvVar term("TERM", c.term);
    for (int fd : {pty.slave, pipe_fds[1]}) {
      CHECK(use_color(ColorMode::always, fd));
      CHECK_FALSE(use_color(ColorMode::never, fd));
    }
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("use_color auto: a terminal without NO_COLOR and not TERM=dumb, never a pipe") {
  Pty pty;
  REQUIRE(pty.slave >= 0);
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const Case cases[] = {
      {std::nullopt, std::string("xterm-256color"), true},  // the usual terminal
      {std::nullopt, std::nullopt, true},                   // no TERM at all: not known to be dumb
      {std::string(""), std::string("xterm"), true},        // NO_COLOR empty: as if unset
      {std::string("1"), std::string("xterm"), false},      // NO_COLOR set: no colour
      {std::string("0"), std::string("xterm"), false},      // any non-empty value counts
      {std::nullopt, std::string("dumb"), false},           // TERM=dumb: no escapes
      {std::string("1"), std::string("dumb"), false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.no_color.value_or("(unset)"));
    CAPTURE(c.term.value_or("(unset)"));
    EnvVar no_color("NO_COLOR", c.no_color);
    EnvVar term("TERM", c.term);
    CHECK(use_color(ColorMode::auto_, pty.slave) == c.tty_colored);
    CHECK_FALSE(use_color(ColorMode::auto_, pipe_fds[1]));
    CHECK(keyward::common::capable_terminal(pty.slave) == (c.term != "dumb"));
    CHECK_FALSE(keyward::common::capable_terminal(pipe_fds[1]));
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}
