// keyward: the command line. Thin: parses arguments, calls the libraries, maps errors to
// exit codes (DESIGN.md). Every command's --help is its reference.
#include "commands/scan.hpp"

#include <keyward/version.hpp>

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  // File buffers are large and short-lived: serve them from mmap so that they go back to the
  // system when freed (glibc would otherwise raise its threshold and keep them in the heap).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"keyward: find private keys, key stores and signing certificates, and get them into hardware"};
  app.set_version_flag("-V,--version", std::string("keyward ") + KEYWARD_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'keyward COMMAND --help' for a command's options. Docs: docs/ in the source tree.");
  keyward::cli::ScanCommand scan;
  CLI::App* scan_cmd = keyward::cli::add_scan_command(app, scan);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (scan_cmd->parsed()) return keyward::cli::run_scan(scan);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward: %s\n", e.what());
    return 2;
  }
  return 2;
}
