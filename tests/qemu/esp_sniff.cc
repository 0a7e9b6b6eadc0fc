// Counts the IP packets an interface sends, by protocol, for a while: the
// qemu tier's proof that traffic leaves as ESP/AH/IPcomp and never as
// plaintext. Only outgoing packets count: tunnel decapsulation re-injects
// the inner (plaintext) packet on the receiving device.
//
// usage: esp_sniff IFNAME SECONDS   (SIGTERM ends it sooner)
//        esp_sniff --trace SECONDS
// prints: esp N ah N ipcomp N ipip N echo N other N  (echo: plaintext pings)
// and, on a second line, the addresses of the first plaintext pings and
// when they left ("plaintext SRC>DST@SECONDS ...", the wall clock that
// `ip -t monitor` prints too), so that a failed check says which way they
// went and when.
//
// --trace follows packets through a gateway instead: every ICMP echo and
// ESP packet on every interface of the namespace, in either direction,
// one line each ("TIME IFNAME in|out|host SRC>DST ttl T id I" or "... esp
// spi S seq N"), so that a leak can be traced hop by hop.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

// SIGTERM or SIGINT end a count early (it is printed all the same), so a
// test can watch for as long as its steps take.
volatile std::sig_atomic_t g_stop = 0;
void stop(int) { g_stop = 1; }

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

std::string now_text() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  char when[32];
  std::snprintf(when, sizeof when, "%ld.%06ld", static_cast<long>(now.tv_sec),
                static_cast<long>(now.tv_usec));
  return when;
}

// One line of --trace, or "" for a packet it does not follow.
std::string trace_line(const unsigned char* p, std::size_t n, const sockaddr_ll& from) {
  const int proto = protocol_of(p, n);
  const bool v4 = n >= 20 && (p[0] >> 4) == 4;
  const std::size_t header = v4 ? static_cast<std::size_t>(p[0] & 0x0f) * 4 : 40;
  std::string what;
  char buf[96];
  if (plaintext_echo(p, n)) {
    std::snprintf(buf, sizeof buf, " %s ttl %u id %u", p[header] == 8 || p[header] == 128
                                                            ? "request" : "reply",
                  v4 ? p[8] : p[7], v4 ? static_cast<unsigned>(p[4] << 8 | p[5]) : 0U);
    what = addresses_of(p, n) + buf;
  } else if (proto == 50 && n >= header + 8) {
    std::snprintf(buf, sizeof buf, " esp spi %02x%02x%02x%02x seq %u", p[header], p[header + 1],
                  p[header + 2], p[header + 3],
                  static_cast<unsigned>(p[header + 4] << 24 | p[header + 5] << 16 |
                                        p[header + 6] << 8 | p[header + 7]));
    what = addresses_of(p, n) + buf;
  } else {
    return {};
  }
  char name[IF_NAMESIZE] = "?";
  ::if_indextoname(static_cast<unsigned>(from.sll_ifindex), name);
  const char* dir = from.sll_pkttype == PACKET_OUTGOING ? "out"
                    : from.sll_pkttype == PACKET_HOST   ? "host"
                                                        : "in";
  return now_text() + " " + name + " " + dir + " " + what;
}

// Hands each packet the socket receives to `each` until `seconds` have
// passed or a signal asks to stop.
template <typename F>
void each_packet(const Socket& s, int seconds, F&& each) {
  timeval tick{0, 100000};
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  unsigned char packet[65536];
  while (std::chrono::steady_clock::now() < end && g_stop == 0) {
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(s.fd(), packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&from),
                           &len);
    if (n > 0) each(packet, static_cast<std::size_t>(n), from);
  }
}

int trace(int seconds) {
  Socket s(::socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)));
  if (s.fd() < 0) {
    std::perror("socket");
    return 1;
  }
  each_packet(s, seconds, [](const unsigned char* p, std::size_t n, const sockaddr_ll& from) {
    const std::string line = trace_line(p, n, from);
    if (!line.empty()) std::printf("%s\n", line.c_str());
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction on_stop {};
  on_stop.sa_handler = stop;  // no SA_RESTART: recvfrom returns at once
  ::sigaction(SIGTERM, &on_stop, nullptr);
  ::sigaction(SIGINT, &on_stop, nullptr);
  if (argc == 3 && std::strcmp(argv[1], "--trace") == 0) return trace(std::atoi(argv[2]));
  if (argc != 3) {
    std::fprintf(stderr, "usage: esp_sniff IFNAME SECONDS | esp_sniff --trace SECONDS\n");
    return 2;
  }
  // Protocol 0: the socket receives nothing until bind() names the
  // interface and the protocol together. Opened with ETH_P_ALL it would
  // take every interface's packets until bind() (a test's slow start on a
  // busy guest let a LAN's or an XFRM interface's plaintext pings in, and
  // they were counted as the WAN's); each packet's interface is checked
  // all the same.
  Socket s(::socket(AF_PACKET, SOCK_DGRAM, 0));
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
  std::map<int, unsigned long> count;
  unsigned long echo = 0;
  std::vector<std::string> leaks;
  each_packet(s, std::atoi(argv[2]),
              [&](const unsigned char* p, std::size_t n, const sockaddr_ll& from) {
                if (from.sll_pkttype != PACKET_OUTGOING || from.sll_ifindex != where.sll_ifindex)
                  return;
                ++count[protocol_of(p, n)];
                if (plaintext_echo(p, n) && ++echo <= 8)
                  leaks.push_back(addresses_of(p, n) + "@" + now_text());
              });
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
