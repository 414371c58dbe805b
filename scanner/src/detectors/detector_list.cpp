// SPDX-License-Identifier: Apache-2.0
// The built-in detectors: one entry per format, and the only list the scanner reads (the
// prefilter's anchors and the binary sniff are built from it, detector.hpp). Adding a format is
// one new file with its parser and the functions named below, plus its entry here
// (docs/scan.md "Adding a format").
// Order matters for binary heads only: the first entry whose head accepts an item and whose
// parser takes it wins, so the broad DER check comes last.
#include "detectors/bare_der.hpp"
#include "detectors/detector.hpp"

namespace keyward::scanner::detail {

// text_detectors.cpp
void detect_pem(const TextMatch&);
void detect_sshcom(const TextMatch&);
void detect_putty(const TextMatch&);
void detect_jwk(const TextMatch&);
void detect_xml_rsa(const TextMatch&);
void detect_base64_pem(const TextMatch&);
// bare_der.cpp
void detect_base64_der(const TextMatch&);
void detect_embedded_der(const TextMatch&);
// binary_sniff.cpp
bool head_jks(std::span<const std::uint8_t>, std::uint64_t);
bool head_pvk(std::span<const std::uint8_t>, std::uint64_t);
bool head_snk(std::span<const std::uint8_t>, std::uint64_t);
bool head_pgp_packets(std::span<const std::uint8_t>, std::uint64_t);
bool head_gpg_key_file(std::span<const std::uint8_t>, std::uint64_t);
bool head_archive(std::span<const std::uint8_t>, std::uint64_t);
bool head_bks(std::span<const std::uint8_t>, std::uint64_t);
bool head_uber(std::span<const std::uint8_t>, std::uint64_t);
bool head_bcfks(std::span<const std::uint8_t>, std::uint64_t);
bool head_pkcs12(std::span<const std::uint8_t>, std::uint64_t);
bool head_der(std::span<const std::uint8_t>, std::uint64_t);
// binary_detectors.cpp
bool detect_jks(BinaryItem&);
bool detect_pvk(BinaryItem&);
bool detect_snk(BinaryItem&);
bool detect_pgp_packets(BinaryItem&);
bool detect_gpg_key_file(BinaryItem&);
bool detect_archive(BinaryItem&);
bool archives_enabled(const ScanOptions&);
bool detect_bks(BinaryItem&);
bool detect_uber(BinaryItem&);
bool detect_bcfks(BinaryItem&);
bool detect_pkcs12(BinaryItem&);
bool detect_der(BinaryItem&);

namespace {

// What a PEM block (and so base64-wrapped PEM) may hold.
constexpr Names kPemRules{"private-key/pkcs1",
                          "private-key/sec1",
                          "private-key/dsa",
                          "private-key/pkcs8",
                          "private-key/pkcs8-encrypted",
                          "private-key/legacy-encrypted",
                          "private-key/openssh",
                          "private-key/pgp",
                          "certificate/x509",
                          "certificate/pkcs7",
                          "public-key/spki",
                          "public-key/csr"};

constexpr Detector kBuiltin[] = {
    {.name = "pem", .anchors = {"-----BEGIN "}, .text = detect_pem, .rules = kPemRules, .fuzzer = "text_detect_fuzzer"},
    {.name = "sshcom",
     .anchors = {"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"},
     .text = detect_sshcom,
     .rules = {"private-key/sshcom"},
     .fuzzer = "sshcom_fuzzer"},
    {.name = "putty",
     .anchors = {"PuTTY-User-Key-File-"},
     .text = detect_putty,
     .rules = {"private-key/putty"},
     .fuzzer = "ppk_fuzzer"},
    {.name = "jwk",
     .anchors = {"\"kty\""},
     .text = detect_jwk,
     .rules = {"private-key/jwk", "public-key/jwk"},
     .fuzzer = "jwk_fuzzer"},
    {.name = "xml-rsa",
     .anchors = {"<RSAKeyValue>"},
     .text = detect_xml_rsa,
     .rules = {"private-key/xml-rsa", "public-key/xml-rsa"},
     .fuzzer = "xml_rsa_fuzzer"},
    {.name = "base64-pem",
     .anchors = {"LS0tLS1CRUdJTi"},
     .text = detect_base64_pem,  // base64("-----BEGIN")
     .rules = kPemRules,
     .fuzzer = "text_detect_fuzzer"},
    // DER keys with no PEM armour: base64 in source and config, raw inside binary files. The
    // anchors are the structures' fixed leading bytes (bare_der.hpp).
    {.name = "base64-der",
     .anchors = Names(bare_der::kBase64Texts),
     .text = detect_base64_der,
     .rules = {"private-key/pkcs8", "private-key/pkcs1", "private-key/sec1", "private-key/dsa"},
     .fuzzer = "bare_der_fuzzer"},
    {.name = "embedded-der",
     .anchors = Names(bare_der::kRawTexts),
     .text = detect_embedded_der,
     .rules = {"private-key/pkcs8", "private-key/pkcs1", "private-key/sec1", "private-key/dsa"},
     .fuzzer = "bare_der_fuzzer"},
    {.name = "jks",
     .head = head_jks,
     .binary = detect_jks,
     .rules = {"keystore/jks", "keystore/jceks"},
     .fuzzer = "jks_fuzzer"},
    {.name = "pvk", .head = head_pvk, .binary = detect_pvk, .rules = {"private-key/pvk"}, .fuzzer = "pvk_fuzzer"},
    {.name = "snk",
     .head = head_snk,
     .binary = detect_snk,
     .rules = {"private-key/snk", "public-key/snk"},
     .fuzzer = "snk_fuzzer"},
    {.name = "pgp-packets",
     .head = head_pgp_packets,
     .binary = detect_pgp_packets,
     .rules = {"private-key/gpg-binary"},
     .fuzzer = "pgp_packets_fuzzer"},
    {.name = "gpg-key-file",
     .head = head_gpg_key_file,
     .binary = detect_gpg_key_file,
     .rules = {"private-key/gpg-key-file"},
     .fuzzer = "gpg_key_file_fuzzer"},
    {.name = "archive",
     .head = head_archive,
     .binary = detect_archive,
     .enabled = archives_enabled,
     .rules = {"keystore/zip-encrypted"},
     .fuzzer = "scan_buffer_fuzzer"},
    {.name = "bks", .head = head_bks, .binary = detect_bks, .rules = {"keystore/bks"}, .fuzzer = "bks_fuzzer"},
    {.name = "uber", .head = head_uber, .binary = detect_uber, .rules = {"keystore/uber"}, .fuzzer = "bks_fuzzer"},
    {.name = "bcfks",
     .head = head_bcfks,
     .binary = detect_bcfks,
     .rules = {"keystore/bcfks"},
     .fuzzer = "bcfks_fuzzer"},
    {.name = "pkcs12",
     .head = head_pkcs12,
     .binary = detect_pkcs12,
     .rules = {"keystore/pkcs12"},
     .fuzzer = "pkcs12_fuzzer"},
    {.name = "der",
     .head = head_der,
     .binary = detect_der,
     .rules = {"private-key/pkcs1", "private-key/sec1", "private-key/dsa", "private-key/pkcs8",
               "private-key/pkcs8-encrypted", "certificate/x509", "certificate/pkcs7", "public-key/spki",
               "public-key/csr"},
     .fuzzer = "der_fuzzer"},
};

}  // namespace

std::span<const Detector> builtin_detectors() noexcept { return kBuiltin; }

}  // namespace keyward::scanner::detail
