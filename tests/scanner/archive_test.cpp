// SPDX-License-Identifier: Apache-2.0
#include "nearby.hpp"
#include "support/keygen.hpp"
#include "support/scan_result.hpp"
#include "support/temp_tree.hpp"

#include <keyward/scanner/scan.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

using namespace keyward::scanner;
namespace t = keyward::test;

namespace {

void sh(const t::TempTree& tree, const std::string& cmd) {
  const std::string full = "cd '" + tree.path() + "' && (" + cmd + ") >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(full.c_str()) == 0, cmd);
}

ScanResult run(const std::string& root, ScanOptions o = {}) {
  o.roots = {root};
  o.threads = 2;
  if (o.passwords.empty()) o.passwords = {"changeit", "password"};
  return scan(o);
}

using keyward::test::private_keys;

std::uint64_t skipped(const ScanResult& r, const std::string& reason) {
  auto it = r.stats.skipped.find(reason);
  return it == r.stats.skipped.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("a key in a jar inside a zip is found with its member chain") {
  t::TempTree tree;
  tree.write("src/META-INF/keys/sign.pem", t::pkcs8_pem(t::ec_p256()));
  sh(tree,
     "cd src && zip -qr ../inner.jar META-INF && cd .. && mkdir out && mv inner.jar out/ && cd out && zip -q "
     "../app.zip inner.jar");
  sh(tree, "rm -rf src out");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0]->location.member == "inner.jar!META-INF/keys/sign.pem");
  CHECK(keys[0]->location.path == tree.path("app.zip"));
  CHECK(keys[0]->key->spki_sha256 == t::spki_sha256(t::ec_p256()));
  CHECK(r.stats.archives == 2);
}

TEST_CASE("keys in tar.gz, tar.xz, tar.bz2, tar.zst and a single gzip file are found") {
  t::TempTree tree;
  tree.write("k/etc/key.pem", t::traditional_pem(t::rsa_2048()));
  sh(tree,
     "tar -C k -czf a.tgz etc && tar -C k -cJf b.txz etc && tar -C k -cjf c.tbz etc && "
     "tar -C k --zstd -cf d.tzst etc && gzip -c k/etc/key.pem > e.gz && rm -rf k");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 5);
  for (const auto* k : keys) CHECK(k->key->bits == 2048u);
  CHECK(keys[0]->location.member == "etc/key.pem");
}

namespace {

// A service description shaped like botocore's service-2.json ("key":"value" lines with no
// space after the colon), which libarchive's mtree reader took for a manifest once decompressed.
std::string service_json_with_escaped_key(const std::string& pem) {
  std::string escaped;
  for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  std::string json = "{\n  \"version\":\"2.0\",\n  \"metadata\":{\n";
  for (int i = 0; i < 40; ++i) json += "    \"field" + std::to_string(i) + "\":\"value-" + std::to_string(i) + "\",\n";
  return json + "    \"examplePrivateKey\":\"" + escaped + "\"\n  }\n}\n";
}

bool have_tool(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("a compressed JSON file holding an escaped PEM key is scanned as the text it holds (issue 13)") {
  t::TempTree tree;
  tree.write("s.json", service_json_with_escaped_key(t::pkcs8_pem(t::ec_p256())));
  std::vector<std::string> files = {"s.json.gz"};
  std::string cmd = "gzip -nc s.json > s.json.gz";
  for (const auto& [tool, ext] : {std::pair{"xz", "xz"}, {"bzip2", "bz2"}, {"zstd", "zst"}}) {
    if (!have_tool(tool)) continue;
    cmd += std::string(" && ") + tool + " -qc s.json > s.json." + ext;
    files.push_back(std::string("s.json.") + ext);
  }
  sh(tree, cmd + " && rm s.json");
  const auto r = run(tree.path());
  std::set<std::string> paths;
  for (const auto& f : r.findings) {
    CHECK(f.kind == Kind::private_key);
    CHECK(f.key->spki_sha256 == t::spki_sha256(t::ec_p256()));
    CHECK(f.location.member == "data");  // xz, bzip2 and zstd store no name, nor gzip -n
    paths.insert(f.location.path);
  }
  CHECK(r.findings.size() == files.size());
  CHECK(paths.size() == files.size());
  // One archive with one member per compressed file: no bogus members, nothing unreadable.
  CHECK(r.stats.archives == files.size());
  CHECK(r.stats.archive_members == files.size());
  CHECK(r.stats.skipped.empty());
}

TEST_CASE("a gzip-compressed word list (one token a line) is one member, not one member a line") {
  t::TempTree tree;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "word" + std::to_string(i) + "\n";  // mtree took each for a file
  tree.write("words.txt", text);
  sh(tree, "gzip -n words.txt");
  const auto r = run(tree.path());
  CHECK(r.findings.empty());
  CHECK(r.stats.archives == 1);
  CHECK(r.stats.archive_members == 1);
  CHECK(r.stats.skipped.empty());
}

TEST_CASE("a key in a .deb (an ar archive holding data.tar.xz) is found with its member chain") {
  t::TempTree tree;
  tree.write("k/etc/ssl/private/server.key", t::pkcs8_pem(t::ec_p256()));
  sh(tree,
     "tar -C k -cJf data.tar.xz etc && echo 2.0 > debian-binary && ar rc pkg.deb debian-binary data.tar.xz && "
     "rm -rf k data.tar.xz debian-binary");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0]->location.member == "data.tar.xz!etc/ssl/private/server.key");
  CHECK(r.stats.archives == 2);
}

TEST_CASE("with archives off, a stored member's key is still found by its text but without a member") {
  t::TempTree tree;
  tree.write("k/key.pem", t::pkcs8_pem(t::ec_p256()));
  sh(tree, "cd k && zip -q -0 ../stored.zip key.pem && cd .. && rm -rf k");
  ScanOptions o;
  o.archives = false;
  const auto off = run(tree.path(), o);
  REQUIRE(private_keys(off).size() == 1);
  CHECK(private_keys(off)[0]->location.member.empty());
  const auto on = run(tree.path());
  REQUIRE(private_keys(on).size() == 1);  // not twice: the raw-byte hit is dropped
  CHECK(private_keys(on)[0]->location.member == "key.pem");
}

TEST_CASE("a zip bomb ends that archive quickly with a counted reason") {
  t::TempTree tree;
  tree.write("k/key.pem", t::pkcs8_pem(t::ec_p256()));
  sh(tree, "head -c 100M /dev/zero > k/zeros && cd k && zip -q ../bomb.zip key.pem zeros && cd .. && rm -rf k");
  const auto r = run(tree.path());
  CHECK(skipped(r, "archive_ratio") == 1);
}

TEST_CASE("an archive nested deeper than the limit is counted and shallow keys are still found") {
  t::TempTree tree;
  tree.write("l0/key.pem", t::pkcs8_pem(t::ec_p256()));
  std::string cmd = "cd l0 && zip -q ../n0.zip key.pem && cd ..";
  for (int i = 1; i < 12; ++i)
    cmd += " && zip -q n" + std::to_string(i) + ".zip n" + std::to_string(i - 1) + ".zip && rm n" +
           std::to_string(i - 1) + ".zip";
  sh(tree, cmd + " && rm -rf l0");
  tree.write("shallow/key.pem", t::pkcs8_pem(t::ec_p256()));
  sh(tree, "cd shallow && zip -q ../s.zip key.pem && cd .. && rm -rf shallow");
  ScanOptions o;
  o.archive_limits.max_depth = 4;
  const auto r = run(tree.path(), o);
  CHECK(skipped(r, "archive_too_deep") == 1);
  REQUIRE(private_keys(r).size() == 1);
  CHECK(private_keys(r)[0]->location.member == "key.pem");
}

TEST_CASE("a zip locked with a common password is opened and reported as a weak store") {
  t::TempTree tree;
  tree.write("k/deploy.pem", t::pkcs8_pem(t::ec_p256()));
  sh(tree,
     "cd k && zip -q -P changeit ../weak.zip deploy.pem && zip -q -P 'Zq8#long-unguessable' ../strong.zip deploy.pem "
     "&& cd .. && rm -rf k");
  const auto r = run(tree.path());
  const Finding* weak = nullptr;
  const Finding* strong = nullptr;
  for (const auto& f : r.findings) {
    if (f.format != Format::zip_encrypted) continue;
    (f.location.path == tree.path("weak.zip") ? weak : strong) = &f;
  }
  REQUIRE(weak != nullptr);
  REQUIRE(strong != nullptr);
  CHECK(weak->store->opened);
  CHECK(weak->store->weak_password);
  CHECK_FALSE(strong->store->opened);
  REQUIRE(strong->entries.size() == 1);
  CHECK(strong->entries[0].alias == "deploy.pem");
  REQUIRE(private_keys(r).size() == 1);  // the key inside the weak zip
  CHECK(private_keys(r)[0]->location.path == tree.path("weak.zip"));
}

TEST_CASE("an image layer blob is named by its digest and a whited-out key is still reported") {
  t::TempTree tree;
  tree.write("l1/etc/ssl/private/server.key", t::pkcs8_pem(t::ec_p256()));
  tree.write("l2/etc/ssl/private/.wh.server.key", "");
  sh(tree,
     "mkdir -p img/blobs/sha256 && tar -C l1 -czf layer1.tgz etc && tar -C l2 -czf layer2.tgz etc && "
     "d1=$(sha256sum layer1.tgz | cut -c1-64) && d2=$(sha256sum layer2.tgz | cut -c1-64) && "
     "mv layer1.tgz img/blobs/sha256/$d1 && mv layer2.tgz img/blobs/sha256/$d2 && "
     "echo '{\"imageLayoutVersion\":\"1.0.0\"}' > img/oci-layout && tar -C img -cf image.tar . && rm -rf l1 l2 img");
  const auto r = run(tree.path());
  REQUIRE(private_keys(r).size() == 1);
  const std::string& member = private_keys(r)[0]->location.member;
  CHECK(member.rfind("sha256:", 0) == 0);
  CHECK(member.size() == 7 + 64 + std::string("!etc/ssl/private/server.key").size());
}

TEST_CASE("passwords are read from the assignments build files and servers use") {
  using keyward::scanner::detail::password_values;
  const auto has = [](const std::vector<keyward::common::SecretBytes>& v, std::string_view x) {
    return std::any_of(v.begin(), v.end(), [&](const auto& s) { return s.view() == x; });
  };
  CHECK(has(password_values("storePassword=s3cret\nkeyAlias=release\n"), "s3cret"));
  CHECK(has(password_values("server.ssl.key-store-password: 'spring pw'\n"), "spring pw"));
  CHECK(has(password_values("<Connector keystorePass=\"tomcat!pw\" port=\"8443\"/>"), "tomcat!pw"));
  CHECK(has(password_values("export KEYSTORE_PASSWORD=\"env pw\"\n"), "env pw"));
  CHECK(has(password_values("signingConfigs { release { storePassword \"groovy pw\" } }"), "groovy pw"));
  CHECK(password_values("storePassword=${STORE_PASSWORD}\nusername=bob\npassword_hint=x\n").empty());
}

TEST_CASE("a key store copied to several places is reported at each place with the same facts") {
  t::TempTree tree;
  tree.write("k/key.pem", t::pkcs8_pem(t::ec_p256()));
  tree.write("k/cert.pem", t::certificate_pem(t::ec_p256(), t::ec_p256(), "Copied", "codeSigning"));
  sh(tree,
     "openssl pkcs12 -export -inkey k/key.pem -in k/cert.pem -passout pass:changeit -out a.p12 && "
     "mkdir -p build/out backup && cp a.p12 build/out/a.p12 && cp a.p12 backup/old.bin && rm -rf k");
  const auto r = run(tree.path());
  std::vector<const Finding*> stores;
  for (const auto& f : r.findings)
    if (f.kind == Kind::keystore) stores.push_back(&f);
  REQUIRE(stores.size() == 3);
  std::set<std::string> paths, ids;
  for (const auto* s : stores) {
    paths.insert(s->location.path);
    ids.insert(s->id);
    CHECK(s->store->opened);
    CHECK(s->store->weak_password);
    REQUIRE_FALSE(s->entries.empty());
    CHECK(s->entries[0].key->spki_sha256 == t::spki_sha256(t::ec_p256()));
  }
  CHECK(paths.size() == 3);
  CHECK(ids.size() == 3);
}

TEST_CASE("a key in a .deb built by dpkg-deb is found in its data member") {
  REQUIRE(have_tool("dpkg-deb"));
  t::TempTree tree;
  tree.write("pkg/DEBIAN/control",
             "Package: keytest\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.invalid>\n"
             "Description: test\n");
  tree.write("pkg/etc/ssl/private/server.key", t::pkcs8_pem(t::ec_p256()));
  sh(tree, "dpkg-deb -Zxz --root-owner-group --build pkg app.deb && rm -rf pkg");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0]->location.path == tree.path("app.deb"));
  CHECK(keys[0]->location.member == "data.tar.xz!etc/ssl/private/server.key");
  CHECK(keys[0]->key->spki_sha256 == t::spki_sha256(t::ec_p256()));
  CHECK(r.stats.archives == 3);  // the .deb, control.tar.xz, data.tar.xz
  CHECK(r.stats.skipped.empty());
}

TEST_CASE("keys in a plain ar archive (a static library's format) are found by member") {
  t::TempTree tree;
  tree.write("k/server.pem", t::traditional_pem(t::rsa_2048()));
  tree.write("k/notes.txt", "nothing here\n");
  sh(tree, "cd k && ar rc ../bundle.a notes.txt server.pem && ar rcD ../det.a server.pem && cd .. && rm -rf k");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 2);
  for (const auto* k : keys) {
    CHECK(k->location.member == "server.pem");
    CHECK(k->key->bits == 2048u);
    CHECK(k->key->spki_sha256 == t::spki_sha256(t::rsa_2048()));
  }
  CHECK(r.stats.archives == 2);
}

TEST_CASE("keys in cpio archives (newc, newc with CRC, odc, gzip-compressed newc) are found with their member") {
  REQUIRE(have_tool("cpio"));
  t::TempTree tree;
  tree.write("k/etc/ssl/private/server.key", t::pkcs8_pem(t::ec_p256()));
  sh(tree,
     "cd k && find etc | cpio -o -H newc > ../a.cpio && find etc | cpio -o -H crc > ../b.cpio && "
     "find etc | cpio -o -H odc > ../c.cpio && find etc | cpio -o -H newc | gzip -n > ../initrd.img && cd .. && "
     "rm -rf k");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 4);
  std::set<std::string> paths;
  for (const auto* k : keys) {
    CHECK(k->location.member == "etc/ssl/private/server.key");  // read as an archive, not only as text
    CHECK(k->key->spki_sha256 == t::spki_sha256(t::ec_p256()));
    paths.insert(k->location.path);
  }
  CHECK(paths.size() == 4);
  CHECK(r.stats.archives == 4);
}

TEST_CASE("a key in an .rpm payload (gzip and xz cpio) is found with its member") {
  // scripts/install-deps.sh installs rpmbuild (Debian package rpm): a machine without it fails
  // here rather than passing untested.
  REQUIRE_MESSAGE(have_tool("rpmbuild"), "rpmbuild is missing: run scripts/install-deps.sh (Debian package rpm)");
  t::TempTree tree;
  tree.write("src/server.key", t::pkcs8_pem(t::ec_p256()));
  tree.write("k.spec",
             "Name: keytest\nVersion: 1.0\nRelease: 1\nSummary: t\nLicense: none\nBuildArch: noarch\n"
             "%description\nt\n%install\nmkdir -p %{buildroot}/etc/ssl/private\n"
             "cp %{_sourcedir}/server.key %{buildroot}/etc/ssl/private/server.key\n"
             "%files\n/etc/ssl/private/server.key\n");
  const std::string build =
      "rpmbuild -bb --define \"_topdir $PWD/top\" --define \"_sourcedir $PWD/src\" --define \"_build_id_links none\" ";
  sh(tree, build + "--define '_binary_payload w6.gzdio' k.spec && mv top/RPMS/noarch/*.rpm gz.rpm && rm -rf top && " +
               build + "--define '_binary_payload w2.xzdio' k.spec && mv top/RPMS/noarch/*.rpm xz.rpm && " +
               "rm -rf top src k.spec");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 2);
  std::set<std::string> paths;
  for (const auto* k : keys) {
    CHECK(k->location.member == "etc/ssl/private/server.key");
    CHECK(k->key->spki_sha256 == t::spki_sha256(t::ec_p256()));
    paths.insert(k->location.path);
  }
  CHECK(paths == std::set<std::string>{tree.path("gz.rpm"), tree.path("xz.rpm")});
  CHECK(r.stats.archives == 2);
  CHECK(r.stats.skipped.empty());
}

TEST_CASE("a key compressed as an LZMA-alone stream (xz --format=lzma, lzma) is found as its one member") {
  t::TempTree tree;
  tree.write("key.pem", t::pkcs8_pem(t::ec_p256()));
  sh(tree, "xz --format=lzma -c key.pem > a.lzma && xz --format=lzma -1 -c key.pem > b.lzma && rm key.pem");
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 2);
  for (const auto* k : keys) {
    CHECK(k->location.member == "data");
    CHECK(k->key->spki_sha256 == t::spki_sha256(t::ec_p256()));
  }
  CHECK(r.stats.archives == 2);
  CHECK(r.stats.skipped.empty());
}

TEST_CASE("random bytes after 0x5D, an LZMA look-alike header or text starting BZh are not archives") {
  using keyward::scanner::detail::sniff_binary;
  const auto sniff = [](std::vector<std::uint8_t> head) {
    head.resize(64, 0x41);
    return std::string(sniff_binary(head, 1u << 20));
  };
  // What encoders write: properties 0x5D, a 2^n or 2^n + 2^(n-1) dictionary, size unknown or small.
  CHECK(sniff({0x5D, 0, 0, 0x80, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) == "archive");
  CHECK(sniff({0x5D, 0, 0, 0x30, 0, 0x10, 0, 0, 0, 0, 0, 0, 0}) == "archive");
  // Properties past pb = 4, lp = 4, lc = 8; a dictionary no encoder writes or out of bounds; an
  // uncompressed size past 256 GiB.
  CHECK(sniff({0xE1, 0, 0, 0x80, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}).empty());
  CHECK(sniff({0x5D, 0x45, 0x23, 0x01, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}).empty());
  CHECK(sniff({0x5D, 0, 0x08, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}).empty());
  CHECK(sniff({0x5D, 0, 0, 0, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}).empty());
  CHECK(sniff({0x5D, 0, 0, 0x80, 0, 0, 0, 0, 0, 0x40, 0, 0, 0}).empty());

  t::TempTree tree;
  // 0x5D then random bytes: the dictionary size is not one an encoder writes, no archive is tried.
  sh(tree, "printf '\\135' > random.bin && openssl rand 4096 >> random.bin");
  // A well-formed header over random bytes: libarchive's decoder fails on them at once, so it is
  // not an archive either; both are scanned as the bytes they are, nothing is counted.
  sh(tree,
     "printf '\\135\\000\\000\\200\\000\\377\\377\\377\\377\\377\\377\\377\\377\\000' > fake.lzma && "
     "openssl rand 4096 >> fake.lzma");
  // A text whose first bytes happen to be a bzip2 magic is scanned as the text it is.
  tree.write("note.txt", "BZh9 is the header of bzip2 -9 output\n" + t::pkcs8_pem(t::ec_p256()));
  const auto r = run(tree.path());
  const auto keys = private_keys(r);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0]->location.path == tree.path("note.txt"));
  CHECK(keys[0]->location.member.empty());
  CHECK(keys[0]->location.line == 2u);
  CHECK(r.stats.archives == 0);
  CHECK(r.stats.archive_members == 0);
  CHECK(r.stats.skipped.empty());
  CHECK(r.stats.files_scanned == 3);
}
