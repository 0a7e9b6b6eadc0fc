// Netlink's 4-byte alignment rules as typed constants; the kernel's
// NLMSG_ALIGN/NLA_ALIGN macros mix signed and unsigned arithmetic.
#pragma once

#include <linux/netlink.h>

#include <cstddef>

namespace ipsecctl::backends::xfrm {

constexpr std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }
constexpr std::size_t kMessageHeader = align4(sizeof(nlmsghdr));
constexpr std::size_t kAttributeHeader = align4(sizeof(nlattr));

}  // namespace ipsecctl::backends::xfrm
