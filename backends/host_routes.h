// What this host's routing says, asked without sending a packet: the
// source address toward a peer, and the interface that holds an address.
#pragma once

#include <optional>
#include <string>

#include "compiler/address.h"

namespace ipsecctl::backends {

// The address the kernel would send from to reach `peer` (connect() on a
// UDP socket routes without sending); nullopt without a route.
std::optional<compiler::IpAddress> source_address_for(const compiler::IpAddress& peer);

// The interface that has `address`, if any.
std::optional<std::string> interface_with_address(const compiler::IpAddress& address);

}  // namespace ipsecctl::backends
