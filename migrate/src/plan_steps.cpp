// SPDX-License-Identifier: Apache-2.0
// The steps of a plan item (docs/migration.md, "Steps"): what a person could run by hand with
// pkcs11-tool (OpenSC) and openssl when keyward migrate cannot, verification, certificate
// actions and one clean-up per copy. No command holds a secret: the module is $PKCS11_MODULE,
// pkcs11-tool --login and openssl ask for the PIN and the key's password at their prompts.
#include "plan_detail.hpp"

#include <set>

namespace keyward::migrate::detail {
namespace {

constexpr std::string_view kTool = "pkcs11-tool --module \"$PKCS11_MODULE\" --token-label ";

// pkcs11-tool's --key-type and its signing mechanism for an algorithm name.
struct Mechanism {
  std::string key_type, sign, verify;  // verify: "rsa" | "ecdsa" | "eddsa"
};

Mechanism mechanism_for(const std::string& algorithm) {
  if (algorithm.rfind("rsa-", 0) == 0) return {"rsa:" + algorithm.substr(4), "SHA256-RSA-PKCS", "rsa"};
  if (algorithm == "ed25519") return {"EC:ed25519", "EDDSA", "eddsa"};
  if (algorithm == "ec-p384") return {"EC:secp384r1", "ECDSA-SHA384", "ecdsa"};
  if (algorithm == "ec-p521") return {"EC:secp521r1", "ECDSA-SHA512", "ecdsa"};
  return {"EC:prime256v1", "ECDSA-SHA256", "ecdsa"};
}

std::string tool(const PlanItem& item) { return std::string(kTool) + sh_quote(item.target.token) + " --login"; }

std::string object_args(const PlanItem& item) {
  return " --id " + key_id_hex(item) + " --label " + sh_quote(item.target.label);
}

// The CSR's subject in openssl's /A=b/C=d form: the old certificate's (RFC 2253, most specific
// first), else the label as the common name.
std::string csr_subject(const PlanItem& item) {
  if (item.certificates.empty()) return "/CN=" + item.target.label;
  std::vector<std::string> parts;
  std::string cur;
  const std::string& dn = item.certificates.front().subject;
  for (std::size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\' && i + 1 < dn.size()) {
      cur += dn[++i];
    } else if (dn[i] == ',') {
      parts.push_back(cur), cur.clear();
    } else {
      cur += dn[i];
    }
  }
  parts.push_back(cur);
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += "/" + *it;
  return out;
}

Step migrate_step(const PlanItem& item, const std::vector<std::string>& cert_paths) {
  const Place& at = item.migrate_on;
  Step s{StepKind::migrate, at.host, at.path, "", {}};
  if (item.strategy == Strategy::import) {
    s.text = "Import the key from " + at.path + " on " + at.host + " into token " + item.target.token +
             " as sensitive and not extractable, signing only, CKA_ID the SPKI hash, label " + item.target.label +
             "; then add its certificate beside it.";
    s.commands.push_back(tool(item) + " --write-object <(openssl pkey -in " + sh_quote(at.path) +
                         " -outform DER) --type privkey --sensitive --usage-sign" + object_args(item));
    for (const auto& c : cert_paths)
      s.commands.push_back(tool(item) + " --write-object <(openssl x509 -in " + sh_quote(c) +
                           " -outform DER) --type cert" + object_args(item));
    return s;
  }
  const Mechanism m = mechanism_for(item.algorithm);
  s.text = "Generate a new " + (item.algorithm.empty() ? std::string("key") : item.algorithm + " key") +
           " inside token " + item.target.token + " (sensitive, not extractable, signing only), label " +
           item.target.label + ", then a CSR signed by the token.";
  s.commands.push_back(tool(item) + " --keypairgen --key-type " + m.key_type + " --sensitive --usage-sign" +
                       object_args(item));
  s.commands.push_back(
      "openssl req -new -provider pkcs11 -provider default -key " +
      sh_quote("pkcs11:token=" + item.target.token + ";object=" + item.target.label + ";type=private") + " -subj " +
      sh_quote(csr_subject(item)) + " -out " + sh_quote(item.target.label + ".csr"));
  return s;
}

Step verify_step(const PlanItem& item, const std::vector<std::string>& cert_paths) {
  const Mechanism m = mechanism_for(item.algorithm);
  Step s{StepKind::verify, item.migrate_on.host, "", "", {}};
  s.text = "Sign a random challenge inside the token and check the signature with the " +
           std::string(item.strategy == Strategy::import ? "key's (or certificate's)" : "CSR's") +
           " public key in OpenSSL; list the key to see it is sensitive and never extractable.";
  std::string pub = "openssl req -in " + sh_quote(item.target.label + ".csr") + " -pubkey -noout";
  if (item.strategy == Strategy::import)
    pub = cert_paths.empty() ? "openssl pkey -in " + sh_quote(item.migrate_on.path) + " -pubout"
                             : "openssl x509 -in " + sh_quote(cert_paths.front()) + " -pubkey -noout";
  const bool known = !item.algorithm.empty();
  if (!known)
    s.text +=
        " The key's algorithm is known only once it is opened: set MECHANISM to SHA256-RSA-PKCS, ECDSA-SHA256 "
        "(with --signature-format openssl) or EDDSA to match it.";
  s.commands.push_back("openssl rand -out challenge.bin 32");
  s.commands.push_back(tool(item) + " --sign --mechanism " + (known ? m.sign : std::string("\"$MECHANISM\"")) +
                       (known && m.verify == "ecdsa" ? " --signature-format openssl" : "") + " --id " +
                       key_id_hex(item) + " --input-file challenge.bin --output-file challenge.sig");
  s.commands.push_back(pub + " > new-key.pub");
  if (m.verify == "eddsa")
    s.commands.push_back(
        "openssl pkeyutl -verify -pubin -inkey new-key.pub -rawin -in challenge.bin -sigfile challenge.sig");
  else
    s.commands.push_back(std::string("openssl dgst -") +
                         (m.sign.find("384") != std::string::npos   ? "sha384"
                          : m.sign.find("512") != std::string::npos ? "sha512"
                                                                    : "sha256") +
                         " -verify new-key.pub -signature challenge.sig challenge.bin");
  s.commands.push_back(tool(item) + " --list-objects --type privkey --id " + key_id_hex(item));
  return s;
}

// Certificate actions: a new certificate for the CSR and the old one revoked (regenerate).
std::vector<Step> certificate_steps(const PlanItem& item, bool exposed) {
  std::vector<Step> steps;
  if (item.strategy == Strategy::import) {
    if (!item.certificates.empty())
      steps.push_back(
          {StepKind::certificate, "", "", "The certificate stays in use: nothing to re-issue or revoke.", {}});
    return steps;
  }
  if (item.certificates.empty()) {
    steps.push_back({StepKind::certificate,
                     item.migrate_on.host,
                     "",
                     "No certificate: put the new public key where the old one was trusted (authorized_keys, a "
                     "pinned key) and remove the old public key there.",
                     {"ssh-keygen -D \"$PKCS11_MODULE\""}});
    return steps;
  }
  for (const auto& c : item.certificates) {
    if (c.self_signed) {
      steps.push_back(
          {StepKind::certificate,
           item.migrate_on.host,
           "",
           "The certificate " + c.subject +
               " is self-signed: make its successor with the token's key and replace the old one wherever "
               "it is trusted (no CA revokes it).",
           {"openssl req -x509 -new -days 365 -provider pkcs11 -provider default -key " +
            sh_quote("pkcs11:token=" + item.target.token + ";object=" + item.target.label + ";type=private") +
            " -subj " + sh_quote(csr_subject(item)) + " -out " + sh_quote(item.target.label + ".crt")}});
      continue;
    }
    steps.push_back({StepKind::certificate,
                     "",
                     "",
                     "Send " + item.target.label + ".csr to the issuer of " + c.subject + " (" + c.issuer +
                         ") and install the new certificate where the old one was used.",
                     {"openssl req -in " + sh_quote(item.target.label + ".csr") + " -noout -verify -subject"}});
    steps.push_back({StepKind::certificate,
                     "",
                     "",
                     "Once the new certificate is in use, have " + c.issuer + " revoke the old one (serial " +
                         c.serial + ", reason " + (exposed ? "keyCompromise" : "superseded") + ").",
                     {}});
  }
  return steps;
}

Step cleanup_step(const PlanItem& item, const Place& p) {
  Step s{StepKind::cleanup, p.host, p.path, "", {}};
  const std::string when = "after the verification passed";
  if (!p.member.empty()) {
    s.text =
        "Rebuild " + p.path + " on " + p.host + " without " + p.member + " " + when + ", then remove the old copy.";
    return s;
  }
  s.text = "Overwrite and remove " + p.path + " on " + p.host + " " + when +
           (item.strategy == Strategy::regenerate ? " and the new certificate is in use." : ".");
  s.commands.push_back("shred -u " + sh_quote(p.path));
  return s;
}

}  // namespace

std::string sh_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string key_id_hex(const PlanItem& item) {
  if (item.strategy == Strategy::import && item.identity.rfind("spki:", 0) == 0) return item.identity.substr(5);
  return item.id;
}

void add_steps(PlanItem& item, const std::vector<std::string>& cert_paths) {
  item.steps.clear();
  item.steps.push_back(migrate_step(item, cert_paths));
  item.steps.push_back(verify_step(item, cert_paths));
  bool exposed = item.weak_password;
  std::set<std::string> hosts;
  for (const auto& p : item.places) {
    exposed = exposed || !p.encrypted;
    hosts.insert(p.host);
  }
  exposed = exposed || hosts.size() > 1;
  for (auto& s : certificate_steps(item, exposed)) item.steps.push_back(std::move(s));
  for (const auto& p : item.places) item.steps.push_back(cleanup_step(item, p));
}

}  // namespace keyward::migrate::detail
