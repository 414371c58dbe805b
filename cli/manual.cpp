// SPDX-License-Identifier: Apache-2.0
// The prose of keyward(1): what --help cannot say (CONTRIBUTING.md, "Man pages and completion").
#include "manual.hpp"

namespace keyward::cli {

const cli_docs::Manual& manual() {
  static const cli_docs::Manual m{
      1,
      "keyward finds private keys, key stores (PKCS#12, JKS, JCEKS, BKS, encrypted zip), signing "
      "certificates and public keys in files, archives, container images, git history and on remote "
      "hosts over SSH. Every finding gets a risk score (0-100) and a severity from the rules "
      "(keyward-rules(5)); --explain lists the factors behind each score.\n\n"
      "Key bytes, passwords and passphrases never appear in any output: facts and fingerprints only.\n\n"
      "Each command is described below; `keyward COMMAND --help` prints the same options.",
      {
          {"EXIT STATUS",
           "Exit status:",
           "",
           {{"0", "no private key found (scan, ci: nothing at or above --fail-on); the command succeeded"},
            {"1", "a private key found (scan), the gate failed (ci), an example failed (rules test)"},
            {"2", "usage error, a rule or allowlist file that cannot be read, or the scan could not run"}},
           "Each command's --help names its own codes.",
           cli_docs::Layout::tagged},
          {"FILES",
           "",
           "",
           {{".keywardignore", "path-based ignores in gitignore syntax, at the scan root (keyward-rules(5))"},
            {"allowlist.yaml", "identity-based exceptions given with --allowlist (keyward-rules(5))"},
            {"/usr/share/keyward/", "the built-in rule data, factors and password lists (also compiled in)"},
            {"/usr/libexec/keyward/keyward-remote", "the stripped binary that --mode exec copies to a remote host"},
            {"~/.ssh/known_hosts", "host keys checked for ssh:// roots (--known-hosts)"}},
           "",
           cli_docs::Layout::tagged},
          {"ENVIRONMENT",
           "",
           "",
           {{"NO_COLOR", "when set, the text report uses no colour"},
            {"SSL_CERT_FILE, SSL_CERT_DIR", "the system trust store for the publicly-trusted factor"},
            {"SSH_AUTH_SOCK", "an ssh-agent to log in to ssh:// hosts with"}},
           "",
           cli_docs::Layout::tagged},
          {"EXAMPLES",
           "Examples:",
           "",
           {{"keyward scan ~", "your home, text report"},
            {"keyward scan / --one-file-system", "the whole root file system"},
            {"keyward scan src --format json -o findings.json", ""},
            {"keyward scan . --exclude 'node_modules' --explain", "why each finding scores what it does"},
            {"keyward ci --fail-on high --baseline .keyward-baseline.json", "a pipeline's gate"},
            {"keyward scan ssh://scan@build-1/etc", "a remote host over SSH, agentless"},
            {"keyward rules list", "every rule, factor and policy in force"},
            {"source <(keyward completion bash)", "completion without the package"}},
           "",
           cli_docs::Layout::commands},
          {"SEE ALSO",
           "",
           "keyward-rules(5), keyward-agent(8), keyward-collector(8), gitignore(5).\n\n"
           "The documentation in /usr/share/doc/keyward: scan.md, ci.md, rules.md, reports.md, remote.md, "
           "migration.md.",
           {},
           "",
           cli_docs::Layout::tagged},
      }};
  return m;
}

std::string help_footer() {
  return cli_docs::help_footer(manual(), {"EXAMPLES"},
                               "Run 'keyward COMMAND --help' for a command's options.\n"
                               "Manual: man keyward (rule files: man 5 keyward-rules); docs: /usr/share/doc/keyward.");
}

}  // namespace keyward::cli
