// SPDX-License-Identifier: Apache-2.0
// keyward::cli_docs on a small App: what the man page and the completion scripts hold, and how
// text is escaped for roff (CONTRIBUTING.md, "Man pages and completion").
#include <keyward/common/cli_docs.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <string>

namespace {

using keyward::cli_docs::Manual;

struct Tool {
  CLI::App app{"tool: does things to files"};
  std::string out, format = "text", secret;
  bool quiet = false;
  std::vector<std::string> paths;
  Manual manual{1,
                ".leading dot, a back\\slash and a 'quote'\n\n  tool run x   # verbatim",
                {{"EXIT STATUS", "Exit status:", "", {{"0", "fine"}, {"2", "not fine"}}, "", {}}}};

  Tool() {
    CLI::App* run = app.add_subcommand("run", "Run it");
    run->add_option("paths", paths, "What to read")->type_name("PATH...")->required();
    run->add_option("-o,--output", out, "Write to FILE")->type_name("FILE");
    run->add_option("-f,--format", format, "Format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    run->add_flag("-q,--quiet", quiet, "Say nothing");
    run->add_option("--secret-knob", secret, "Not for users")->group("");
    app.add_subcommand("hidden-cmd", "Not for users")->group("");
    keyward::cli_docs::add_standard_commands(app, "tool", manual, "1.2.3");
  }
};

}  // namespace

TEST_CASE("man.the page holds every visible command and option, not hidden ones") {
  Tool t;
  const std::string page = keyward::cli_docs::man_page(t.app, t.manual, "1.2.3");
  CHECK(page.find(".TH TOOL 1 \"\" \"tool 1.2.3\"") != std::string::npos);
  CHECK(page.find("tool \\- does things to files") != std::string::npos);
  CHECK(page.find(".SS \"tool run\"") != std::string::npos);
  CHECK(page.find(".SS \"tool completion\"") != std::string::npos);
  CHECK(page.find("\\fB\\-\\-output\\fR \\fIFILE\\fR") != std::string::npos);
  CHECK(page.find("Default: text.") != std::string::npos);
  CHECK(page.find("secret") == std::string::npos);
  CHECK(page.find("hidden") == std::string::npos);
  CHECK(page.find("\\-\\-generate") == std::string::npos);
  CHECK(page.find(".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\nfine") != std::string::npos);
}

TEST_CASE("man.roff escaping guards requests, backslashes, hyphens and quotes") {
  Tool t;
  const std::string page = keyward::cli_docs::man_page(t.app, t.manual, "1.2.3");
  CHECK(page.find("\n\\&.leading dot, a back\\eslash and a \\(aqquote\\(aq\n") != std::string::npos);
  CHECK(page.find(".RS 2\n.nf\ntool run x   # verbatim\n.fi\n.RE\n") != std::string::npos);
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    const bool request = line.starts_with(".") || line.starts_with("'");
    if (!request) continue;
    // Only the requests the writer emits start a line.
    const std::string name = line.substr(0, line.find(' '));
    CHECK_MESSAGE((name == ".TH" || name == ".SH" || name == ".SS" || name == ".PP" || name == ".TP" || name == ".RS" ||
                   name == ".nh" || name == ".ad" || name == ".RE" || name == ".nf" || name == ".fi" || name == ".br" ||
                   name == ".\\\""),
                  line);
  }
}

TEST_CASE("completion.bash and zsh scripts list commands, options and their values") {
  Tool t;
  const std::string bash = keyward::cli_docs::bash_completion(t.app);
  CHECK(bash.find("complete -F _tool tool") != std::string::npos);
  CHECK(bash.find("'tool') opts='-h --help -V --version' subs='run completion' vals='' args=none ;;") !=
        std::string::npos);
  CHECK(bash.find("'tool run -o' | 'tool run --output') _tool_paths -f; return ;;") != std::string::npos);
  CHECK(bash.find("compgen -W 'text json'") != std::string::npos);
  CHECK(bash.find("secret") == std::string::npos);
  const std::string zsh = keyward::cli_docs::zsh_completion(t.app);
  CHECK(zsh.starts_with("#compdef tool\n"));
  CHECK(zsh.find("'(-f --format)'{-f,--format}'[Format]:TEXT:(text json)'") != std::string::npos);
  CHECK(zsh.find("'*:PATH...:_files'") != std::string::npos);
  CHECK(zsh.find("compdef _tool tool") != std::string::npos);
}

TEST_CASE("completion.the standard commands print and end the parse with exit 0, errors name the program") {
  Tool t;
  std::ostringstream err;
  try {
    t.app.parse(std::vector<std::string>{"--bogus"});
    FAIL("no error");
  } catch (const CLI::ParseError& e) {
    CHECK(t.app.exit(e, std::cout, err) != 0);
  }
  CHECK(err.str().starts_with("tool: "));
  CHECK(err.str().find("Run with --help") != std::string::npos);
  Tool v;
  try {
    v.app.parse(std::vector<std::string>{"-V"});
    FAIL("no version");
  } catch (const CLI::CallForVersion& e) {
    CHECK(std::string(e.what()) == "tool 1.2.3");
  }
}
