// The vocabulary every layer shares: what kind of SA, which direction, which
// flow type. The parser produces these words, the compiler gives them
// meaning and the backends translate them; none of them owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ipsecctl {

enum class SaType : std::uint8_t { Esp, Ah, Ipcomp, Ipip, Tcpmd5 };
enum class TunnelMode : std::uint8_t { Tunnel, Transport };
enum class Direction : std::uint8_t { In, Out };
enum class FlowType : std::uint8_t { Use, Acquire, Require, Deny, Bypass, DontAcq };
enum class IkeMode : std::uint8_t { Active, Passive, Dynamic };
enum class Phase1Exchange : std::uint8_t { Main, Aggressive };

// Which IKE an `ike` rule speaks. OpenBSD's rules are isakmpd's IKEv1;
// V2 gives the same rule to an IKEv2 daemon; Any is an IKEv1 rule that
// charon also speaks as IKEv2 (it starts IKEv2 and answers either).
enum class IkeVersion : std::uint8_t { V1, V2, Any };

// "1", "2" or "any" (what --ike-version and ipsecctl_ike_version take).
constexpr std::optional<IkeVersion> ike_version_from_text(std::string_view text) {
  if (text == "1") return IkeVersion::V1;
  if (text == "2") return IkeVersion::V2;
  if (text == "any") return IkeVersion::Any;
  return std::nullopt;
}
constexpr std::string_view ike_version_text(IkeVersion v) {
  switch (v) {
    case IkeVersion::V1: return "1";
    case IkeVersion::V2: return "2";
    case IkeVersion::Any: return "any";
  }
  return "1";
}
// The macro a file sets to choose the version of the ike rules after it
// (ipsec.conf has no keyword for it, and OpenBSD accepts any macro).
constexpr std::string_view kIkeVersionMacro = "ipsecctl_ike_version";

// OpenBSD's numbers for SA types (IPSEC_ESP = 1 ... IPSEC_IPIP = 5), which
// appear in its messages ("illegal satype 3").
constexpr int openbsd_satype_number(SaType t) {
  switch (t) {
    case SaType::Esp: return 1;
    case SaType::Ah: return 2;
    case SaType::Ipcomp: return 3;
    case SaType::Tcpmd5: return 4;
    case SaType::Ipip: return 5;
  }
  return 0;
}

}  // namespace ipsecctl
