#include "backends/xfrm/xfrm_interfaces.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <array>
#include <cstring>
#include <optional>

#include "backends/kernel/kernel_channel.h"
#include "backends/xfrm/netlink_socket.h"

namespace ipsecctl::backends::xfrm {

namespace {

// Older uapi headers lack the XFRM interface attributes.
constexpr unsigned short kXfrmIfLink = 1;
constexpr unsigned short kXfrmIfId = 2;

constexpr std::size_t kAttributeHeader = 4;  // NLA_HDRLEN, unsigned

// Calls `each(type, payload)` for every attribute in [data, data+size).
template <typename F>
void for_each_attribute(const std::uint8_t* data, std::size_t size, F each) {
  while (size >= sizeof(nlattr)) {
    nlattr a;
    std::memcpy(&a, data, sizeof a);
    if (a.nla_len < sizeof(nlattr) || a.nla_len > size) return;
    each(static_cast<unsigned short>(a.nla_type & NLA_TYPE_MASK), data + kAttributeHeader,
         static_cast<std::size_t>(a.nla_len) - kAttributeHeader);
    const std::size_t step = (static_cast<std::size_t>(a.nla_len) + 3) & ~std::size_t{3};
    if (step >= size) return;
    data += step;
    size -= step;
  }
}

std::optional<XfrmInterface> parse_link(const std::uint8_t* data, std::size_t size) {
  if (size < NLMSG_ALIGN(sizeof(ifinfomsg))) return std::nullopt;
  ifinfomsg info;
  std::memcpy(&info, data, sizeof info);
  XfrmInterface out;
  out.up = (info.ifi_flags & IFF_UP) != 0;
  bool is_xfrm = false;
  for_each_attribute(data + NLMSG_ALIGN(sizeof info), size - NLMSG_ALIGN(sizeof info),
                     [&](unsigned short type, const std::uint8_t* p, std::size_t n) {
    if (type == IFLA_IFNAME) {
      out.name.assign(reinterpret_cast<const char*>(p), strnlen(reinterpret_cast<const char*>(p), n));
    } else if (type == IFLA_LINKINFO) {
      for_each_attribute(p, n, [&](unsigned short t, const std::uint8_t* q, std::size_t m) {
        if (t == IFLA_INFO_KIND)
          is_xfrm = std::string(reinterpret_cast<const char*>(q),
                                strnlen(reinterpret_cast<const char*>(q), m)) == "xfrm";
        else if (t == IFLA_INFO_DATA)
          for_each_attribute(q, m, [&](unsigned short u, const std::uint8_t* r, std::size_t k) {
            if (u == kXfrmIfId && k >= 4) std::memcpy(&out.if_id, r, 4);
            (void)kXfrmIfLink;
          });
      });
    }
  });
  if (!is_xfrm) return std::nullopt;
  return out;
}

}  // namespace

std::vector<XfrmInterface> xfrm_interfaces() {
  NetlinkSocket socket = NetlinkSocket::open(NETLINK_ROUTE);
  struct {
    nlmsghdr header;
    ifinfomsg info;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 1;
  request.info.ifi_family = AF_UNSPEC;
  socket.send({reinterpret_cast<const std::uint8_t*>(&request), sizeof request});
  std::vector<XfrmInterface> out;
  std::vector<std::uint8_t> buffer(1 << 16);
  for (;;) {
    ssize_t n = socket.receive(buffer, true);
    if (n < 0) throw KernelError("the kernel's list of interfaces overflowed; try again");
    std::size_t left = static_cast<std::size_t>(n);
    const std::uint8_t* p = buffer.data();
    while (left >= sizeof(nlmsghdr)) {
      nlmsghdr h;
      std::memcpy(&h, p, sizeof h);
      if (h.nlmsg_len < sizeof h || h.nlmsg_len > left) break;
      if (h.nlmsg_type == NLMSG_DONE) return out;
      if (h.nlmsg_type == NLMSG_ERROR) throw KernelError("the kernel refused to list interfaces");
      if (h.nlmsg_type == RTM_NEWLINK)
        if (auto link = parse_link(p + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN))
          out.push_back(std::move(*link));
      const std::size_t step = NLMSG_ALIGN(h.nlmsg_len);
      if (step >= left) break;
      p += step;
      left -= step;
    }
  }
}

}  // namespace ipsecctl::backends::xfrm
