// Manually keyed SAs (esp, ah, ipcomp, ipip, tcpmd5): validation with
// OpenBSD's messages, the reverse SA, and bundles.
#include "compiler/rule_compiler.h"

#include "compiler/compile_hints.h"

namespace ipsecctl::compiler {

struct RuleCompiler::SaTemplate {
  SaType satype = SaType::Esp;
  TunnelMode tmode = TunnelMode::Tunnel;
  std::uint32_t spi = 0;
  bool udpencap = false;
  std::uint16_t udpencap_port = 0;
  TransformSet xfs;
  bool has_xfs = true;
  std::optional<std::vector<std::uint8_t>> authkey;
  std::optional<std::vector<std::uint8_t>> enckey;
  std::optional<std::string> bundle;
};

bool RuleCompiler::validate_sa(std::uint32_t spi, SaType satype, TransformSet& xfs,
                               const std::optional<std::vector<std::uint8_t>>& authkey,
                               const std::optional<std::vector<std::uint8_t>>& enckey) {
  if (spi == 0) {
    diag_.error("no SPI specified");
    return false;
  }
  switch (satype) {
    case SaType::Ah:
      if (xfs.enc != nullptr) {
        diag_.error("ah does not provide encryption");
        return false;
      }
      if (xfs.comp != nullptr) {
        diag_.error("ah does not provide compression");
        return false;
      }
      if (xfs.auth == nullptr) xfs.auth = &auth_transform(AuthAlg::HmacSha2_256);
      break;
    case SaType::Esp:
      if (xfs.comp != nullptr) {
        diag_.error("esp does not provide compression");
        return false;
      }
      if (xfs.enc == nullptr) xfs.enc = &enc_transform(EncAlg::Aes);
      if (xfs.enc->nostatic && !(allow_static_aead_ && xfs.enc->noauth)) {
        diag_.error(std::string(xfs.enc->name) + " is disallowed with static keys");
        return false;
      }
      if (xfs.enc->noauth && xfs.auth != nullptr) {
        diag_.error("authentication is implicit for " + std::string(xfs.enc->name));
        return false;
      }
      if (!xfs.enc->noauth && xfs.auth == nullptr)
        xfs.auth = &auth_transform(AuthAlg::HmacSha2_256);
      break;
    case SaType::Ipcomp:
      if (xfs.auth != nullptr || xfs.enc != nullptr) {
        diag_.error("no encryption or authentication with ipcomp");
        return false;
      }
      if (xfs.comp == nullptr) xfs.comp = &comp_transform(CompAlg::Deflate);
      break;
    case SaType::Ipip:
      if (xfs.auth != nullptr || xfs.enc != nullptr || xfs.comp != nullptr) {
        diag_.error("no encryption, authentication or compression with ipip");
        return false;
      }
      break;
    case SaType::Tcpmd5:
      break;
  }
  if (xfs.auth != nullptr) {
    if (!authkey && xfs.auth->id != AuthAlg::None) {
      diag_.error("no authentication key specified");
      return false;
    }
    if (authkey && authkey->size() != xfs.auth->key_bytes) {
      diag_.error("wrong authentication key length, needs to be " +
                  std::to_string(xfs.auth->key_bytes * 8) + " bits");
      return false;
    }
  }
  if (xfs.enc != nullptr) {
    if (!enckey && xfs.enc->id != EncAlg::Null) {
      diag_.error("no encryption key specified");
      return false;
    }
    if (enckey) {
      if (enckey->size() < xfs.enc->key_min) {
        diag_.error("encryption key too short (" + std::to_string(enckey->size() * 8) +
                    " bits), minimum " + std::to_string(xfs.enc->key_min * 8) + " bits");
        return false;
      }
      if (enckey->size() > xfs.enc->key_max) {
        diag_.error("encryption key too long (" + std::to_string(enckey->size() * 8) +
                    " bits), maximum " + std::to_string(xfs.enc->key_max * 8) + " bits");
        return false;
      }
    }
  }
  return true;
}

void RuleCompiler::add_to_bundle(const SaEntry& sa, const std::string& src_name,
                                 const std::string& dst_name, const std::string& bundle) {
  for (auto& chain : bundles_) {
    if (chain.src_name == src_name && chain.dst_name == dst_name && chain.bundle == bundle) {
      BundleEntry b;
      b.satype1 = chain.last_satype;
      b.dst1 = chain.last_dst;
      b.spi1 = chain.last_spi;
      b.satype2 = sa.satype;
      b.dst2 = sa.dst;
      b.spi2 = sa.spi;
      b.origin = sa.origin;
      b.nr = next_nr();
      chain.last_satype = sa.satype;
      chain.last_dst = sa.dst;
      chain.last_spi = sa.spi;
      plan_.bundles.push_back(b);
      add(RuleKind::Bundle, static_cast<std::uint32_t>(plan_.bundles.size() - 1));
      return;
    }
  }
  bundles_.push_back(BundleChain{src_name, dst_name, bundle, sa.satype, sa.dst, sa.spi});
}

bool RuleCompiler::expand_sa(const SaTemplate& sa, const parser::HostsClause& hosts,
                             const parser::SpiClause& spi,
                             const std::optional<std::vector<std::uint8_t>>& authkey_in,
                             const std::optional<std::vector<std::uint8_t>>& enckey_in) {
  if (!families_match(hosts.src, hosts.dst)) {
    diag_.error("source/destination address families do not match");
    return true;
  }
  const SourceLocation origin = diag_.position();
  int added = 0;
  for (const Endpoint& src : expand_hosts(hosts.src)) {
    for (const Endpoint& dst : expand_hosts(hosts.dst)) {
      if (src.address.family != dst.address.family) continue;
      SaEntry entry;
      entry.satype = sa.satype;
      entry.tmode = sa.tmode;
      entry.src = src.address;
      entry.dst = dst.address;
      entry.spi = sa.spi;
      entry.udpencap = sa.udpencap;
      entry.udpencap_port = sa.udpencap_port;
      if (sa.has_xfs) {
        entry.auth = sa.xfs.auth;
        entry.enc = sa.xfs.enc;
        entry.comp = sa.xfs.comp;
      }
      entry.authkey = sa.authkey;
      entry.enckey = sa.enckey;
      entry.origin = origin;
      entry.nr = next_nr();
      plan_.sas.push_back(entry);
      add(RuleKind::Sa, static_cast<std::uint32_t>(plan_.sas.size() - 1));
      if (sa.bundle) add_to_bundle(entry, src.name, dst.name, *sa.bundle);

      if (spi.in != 0 || authkey_in || enckey_in) {
        // A reverse SA that does not validate stops the run at once, as
        // OpenBSD's errx() in its grammar action does.
        const char* fatal = sa.has_xfs ? "sarule: expand_rule" : "tcpmd5rule: expand_rule";
        TransformSet xfs = sa.xfs;
        if (sa.has_xfs && !validate_sa(spi.in, sa.satype, xfs, authkey_in, enckey_in))
          Diagnostics::fatal(fatal);
        if (!sa.has_xfs && spi.in == 0) {
          diag_.error("no SPI specified");
          Diagnostics::fatal(fatal);
        }
        SaEntry reverse = entry;
        std::swap(reverse.src, reverse.dst);
        reverse.spi = spi.in;
        reverse.authkey = authkey_in;
        reverse.enckey = enckey_in;
        reverse.nr = next_nr();
        plan_.sas.push_back(reverse);
        add(RuleKind::Sa, static_cast<std::uint32_t>(plan_.sas.size() - 1));
        if (sa.bundle) add_to_bundle(reverse, dst.name, src.name, *sa.bundle);
      }
      ++added;
    }
  }
  if (added == 0) diag_.error("rule expands to no valid combination");
  return true;
}

bool RuleCompiler::sa_rule(parser::SaRule&& rule) {
  SaTemplate sa;
  sa.satype = rule.satype.value_or(SaType::Esp);
  sa.tmode = rule.tmode.value_or(TunnelMode::Tunnel);
  sa.spi = rule.spi.out;
  sa.udpencap = rule.udpencap;
  sa.udpencap_port = static_cast<std::uint16_t>(rule.udpencap_port.value_or(0));
  if (rule.transforms) sa.xfs = *rule.transforms;
  if (rule.authkey) sa.authkey = rule.authkey->out;
  if (rule.enckey) sa.enckey = rule.enckey->out;
  sa.bundle = rule.bundle;
  if (!validate_sa(sa.spi, sa.satype, sa.xfs, sa.authkey, sa.enckey)) return false;
  std::optional<std::vector<std::uint8_t>> authkey_in, enckey_in;
  if (rule.authkey) authkey_in = rule.authkey->in;
  if (rule.enckey) enckey_in = rule.enckey->in;
  return expand_sa(sa, rule.hosts, rule.spi, authkey_in, enckey_in);
}

bool RuleCompiler::tcpmd5_rule(parser::Tcpmd5Rule&& rule) {
  SaTemplate sa;
  sa.satype = SaType::Tcpmd5;
  sa.tmode = TunnelMode::Transport;
  sa.spi = rule.spi.out;
  sa.has_xfs = false;
  if (rule.authkey) sa.authkey = rule.authkey->out;
  if (sa.spi == 0) {
    diag_.error("no SPI specified");
    return false;
  }
  std::optional<std::vector<std::uint8_t>> authkey_in;
  if (rule.authkey) authkey_in = rule.authkey->in;
  return expand_sa(sa, rule.hosts, rule.spi, authkey_in, std::nullopt);
}

}  // namespace ipsecctl::compiler
