// The vocabulary every layer shares: what kind of SA, which direction, which
// flow type. The parser produces these words, the compiler gives them
// meaning and the backends translate them; none of them owns it.
#pragma once

#include <cstdint>

namespace ipsecctl {

enum class SaType : std::uint8_t { Esp, Ah, Ipcomp, Ipip, Tcpmd5 };
enum class TunnelMode : std::uint8_t { Tunnel, Transport };
enum class Direction : std::uint8_t { In, Out };
enum class FlowType : std::uint8_t { Use, Acquire, Require, Deny, Bypass, DontAcq };
enum class IkeMode : std::uint8_t { Active, Passive, Dynamic };
enum class Phase1Exchange : std::uint8_t { Main, Aggressive };

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
