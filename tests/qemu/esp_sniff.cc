// Counts the IP packets an interface sends, by protocol, for a while: the
// qemu tier's proof that traffic leaves as ESP/AH/IPcomp and never as
// plaintext. Only outgoing packets count: tunnel decapsulation re-injects
// the inner (plaintext) packet on the receiving device.
//
// usage: esp_sniff IFNAME SECONDS
// prints: esp N ah N ipcomp N ipip N echo N other N  (echo: plaintext pings)
// and, on a second line, the addresses of the first plaintext pings
// ("plaintext SRC>DST ..."), so that a failed check says which way they went.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// The transport protocol of an IPv4 or IPv6 packet (first header only:
// the ones we look for come first in our tests).
int protocol_of(const unsigned char* p, std::size_t n) {
  if (n < 1) return -1;
  if ((p[0] >> 4) == 4 && n >= 20) return p[9];
  if ((p[0] >> 4) == 6 && n >= 40) return p[6];
  return -1;
}

// An ICMP or ICMPv6 echo request or reply in the clear: what a ping
// looks like when it escapes the tunnel. (Neighbour discovery and MLD are
// plaintext ICMPv6 by design and do not count.)
bool plaintext_echo(const unsigned char* p, std::size_t n) {
  if (n >= 20 && (p[0] >> 4) == 4 && p[9] == 1) {
    std::size_t header = static_cast<std::size_t>(p[0] & 0x0f) * 4;
    return n > header && (p[header] == 0 || p[header] == 8);
  }
  if (n > 40 && (p[0] >> 4) == 6 && p[6] == 58) return p[40] == 128 || p[40] == 129;
  return false;
}

// "SRC>DST" of an IPv4 or IPv6 packet.
std::string addresses_of(const unsigned char* p, std::size_t n) {
  char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
  if ((p[0] >> 4) == 4 && n >= 20) {
    ::inet_ntop(AF_INET, p + 12, src, sizeof src);
    ::inet_ntop(AF_INET, p + 16, dst, sizeof dst);
  } else if ((p[0] >> 4) == 6 && n >= 40) {
    ::inet_ntop(AF_INET6, p + 8, src, sizeof src);
    ::inet_ntop(AF_INET6, p + 24, dst, sizeof dst);
  }
  return std::string(src) + ">" + dst;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: esp_sniff IFNAME SECONDS\n");
    return 2;
  }
  Socket s(::socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)));
  if (s.fd() < 0) {
    std::perror("socket");
    return 1;
  }
  sockaddr_ll where{};
  where.sll_family = AF_PACKET;
  where.sll_protocol = htons(ETH_P_ALL);
  where.sll_ifindex = static_cast<int>(if_nametoindex(argv[1]));
  if (where.sll_ifindex == 0 ||
      ::bind(s.fd(), reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  timeval tick{0, 100000};
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  std::map<int, unsigned long> count;
  unsigned long echo = 0;
  std::vector<std::string> leaks;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[2]));
  unsigned char packet[65536];
  while (std::chrono::steady_clock::now() < end) {
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(s.fd(), packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&from),
                           &len);
    if (n <= 0 || from.sll_pkttype != PACKET_OUTGOING) continue;
    ++count[protocol_of(packet, static_cast<std::size_t>(n))];
    if (plaintext_echo(packet, static_cast<std::size_t>(n)) && ++echo <= 4)
      leaks.push_back(addresses_of(packet, static_cast<std::size_t>(n)));
  }
  unsigned long other = 0;
  for (const auto& [proto, n] : count)
    if (proto != 50 && proto != 51 && proto != 108 && proto != 4 && proto != 1 && proto != 58)
      other += n;
  std::printf("esp %lu ah %lu ipcomp %lu ipip %lu echo %lu other %lu\n", count[50], count[51],
              count[108], count[4], echo, other);
  if (!leaks.empty()) {
    std::printf("plaintext");
    for (const std::string& leak : leaks) std::printf(" %s", leak.c_str());
    std::printf("\n");
  }
  return 0;
}
