// Writes the binary seed corpora of the fuzz targets (fuzz/corpus/xfrm,
// pfkey, vici): real messages made with the project's own encoders, so
// that the fuzzers start from well-formed input. Run once when the codecs
// change: make_seeds DIR
#include <cstdio>
#include <string>
#include <vector>

#include "backends/pfkey/pfkey_codec.h"
#include "backends/vici/vici_message.h"
#include "backends/xfrm/xfrm_codec.h"
#include "compiler/address.h"

using namespace ipsecctl;
using namespace ipsecctl::backends;

namespace {

void write(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

KernelPolicy sample_policy(bool v6, bool with_template) {
  KernelPolicy p;
  p.selector.src = *compiler::parse_ipv4_network("10.1.0.0/16");
  p.selector.dst = *compiler::parse_ipv4_network("10.2.0.0/16");
  if (v6) {
    p.selector.src = *compiler::parse_ipv6("2001:db8:1::");
    p.selector.src.prefixlen = 48;
    p.selector.dst = *compiler::parse_ipv6("2001:db8:2::");
    p.selector.dst.prefixlen = 48;
  }
  p.selector.proto = 6;
  p.selector.sport = 22;
  p.dir = PolicyDir::Out;
  p.priority = 32000;
  if (with_template) {
    PolicyTemplate t;
    t.ipproto = 50;
    t.dst = v6 ? *compiler::parse_ipv6("2001:db8::2") : *compiler::parse_ipv4("192.0.2.1");
    t.src = v6 ? *compiler::parse_ipv6("2001:db8::1") : *compiler::parse_ipv4("192.0.2.2");
    p.templates.push_back(t);
  }
  return p;
}

KernelState sample_state(bool aead) {
  KernelState s;
  s.src = *compiler::parse_ipv4("192.0.2.2");
  s.dst = *compiler::parse_ipv4("192.0.2.1");
  s.spi = 0x1000;
  if (aead) {
    s.enc = compiler::EncAlg::Aes128Gcm;
    s.enc_key.assign(20, 0x11);
    s.icv_bits = 128;
  } else {
    s.auth = compiler::AuthAlg::HmacSha2_256;
    s.auth_key.assign(32, 0x22);
    s.auth_trunc_bits = 128;
    s.enc = compiler::EncAlg::Aes256;
    s.enc_key.assign(32, 0x33);
    s.encap_sport = 4500;
    s.encap_dport = 4500;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 1;
  }
  const std::string dir = argv[1];
  int n = 0;
  for (bool v6 : {false, true})
    for (bool tmpl : {false, true}) {
      std::vector<std::uint8_t> x, p;
      xfrm::encode_policy_change(x, ChangeKind::AddPolicy, sample_policy(v6, tmpl), 7);
      write(dir + "/xfrm/policy-" + std::to_string(n), x);
      pfkey::encode_policy_change(p, ChangeKind::AddPolicy, sample_policy(v6, tmpl), 7, 1);
      write(dir + "/pfkey/policy-" + std::to_string(n), p);
      ++n;
    }
  for (bool aead : {false, true}) {
    std::vector<std::uint8_t> x, p;
    xfrm::encode_state_change(x, ChangeKind::AddState, sample_state(aead), 9);
    write(dir + "/xfrm/state-" + std::to_string(aead), x);
    pfkey::encode_state_change(p, ChangeKind::AddState, sample_state(aead), 9, 1);
    write(dir + "/pfkey/state-" + std::to_string(aead), p);
  }
  {
    // A dump answer: several messages in one buffer.
    std::vector<std::uint8_t> x;
    xfrm::encode_policy_change(x, ChangeKind::AddPolicy, sample_policy(false, true), 1);
    xfrm::encode_state_change(x, ChangeKind::AddState, sample_state(false), 2);
    xfrm::encode_policy_change(x, ChangeKind::DeletePolicy, sample_policy(true, true), 3);
    write(dir + "/xfrm/several", x);
  }
  using namespace vici;
  ViciSection sa = {section(
      "peer-192.0.2.1",
      {value("uniqueid", "3"), value("state", "ESTABLISHED"), value("version", "1"),
       value("local-host", "192.0.2.2"), value("remote-host", "192.0.2.1"),
       value("encr-alg", "AES_CBC"), value("encr-keysize", "256"),
       section("child-sas",
               {section("from-10.1.0.0/16-to-10.2.0.0/16-3",
                        {value("name", "from-10.1.0.0/16-to-10.2.0.0/16"),
                         value("state", "INSTALLED"), value("spi-in", "c1a2b3c4"),
                         value("bytes-in", "1024"),
                         list("local-ts", {"10.1.0.0/16"}), list("remote-ts", {"10.2.0.0/16"})})})})};
  write(dir + "/vici/list-sa", encode(sa));
  write(dir + "/vici/get-conns", encode({list("conns", {"peer-192.0.2.1", "peer-default"})}));
  write(dir + "/vici/reply", encode({value("success", "no"), value("errmsg", "no such peer")}));
  return 0;
}
