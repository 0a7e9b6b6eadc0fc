#include "backends/vici/vici_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ipsecctl::backends::vici {

namespace {

enum PacketType : std::uint8_t {
  kCmdRequest = 0, kCmdResponse = 1, kCmdUnknown = 2, kEventRegister = 3,
  kEventUnregister = 4, kEventConfirm = 5, kEventUnknown = 6, kEvent = 7
};

constexpr std::size_t kMaxSegment = 512 * 1024;

UniqueFd connect_to(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    throw ViciError("VICI socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw ViciError(std::string("cannot create a UNIX socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw ViciError("cannot reach charon at " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

ViciClient::ViciClient(const std::string& socket_path)
    : fd_(connect_to(socket_path)), path_(socket_path) {}

ViciClient::~ViciClient() = default;

bool ViciClient::reachable(const std::string& socket_path) {
  try {
    ViciClient client(socket_path);
    return true;
  } catch (const ViciError&) {
    return false;
  }
}

void ViciClient::send_packet(std::uint8_t type, const std::string& name,
                             const ViciSection* message) {
  std::vector<std::uint8_t> payload;
  payload.push_back(type);
  if (!name.empty()) {
    payload.push_back(static_cast<std::uint8_t>(name.size()));
    payload.insert(payload.end(), name.begin(), name.end());
  }
  if (message != nullptr) {
    std::vector<std::uint8_t> body = encode(*message);
    payload.insert(payload.end(), body.begin(), body.end());
  }
  if (payload.size() > kMaxSegment) throw ViciError("VICI request too large");
  std::uint32_t n = static_cast<std::uint32_t>(payload.size());
  std::uint8_t header[4] = {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                            static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  payload.insert(payload.begin(), header, header + 4);
  std::size_t done = 0;
  while (done < payload.size()) {
    ssize_t w = ::send(fd_.get(), payload.data() + done, payload.size() - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw ViciError("writing to charon (" + path_ + ") failed: " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(w);
  }
}

void ViciClient::read_exact(std::uint8_t* out, std::size_t size,
                            std::chrono::steady_clock::time_point deadline) {
  std::size_t done = 0;
  while (done < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) throw ViciError("charon (" + path_ + ") did not answer in time");
    ssize_t r = ::recv(fd_.get(), out + done, size - done, 0);
    if (r == 0) throw ViciError("charon (" + path_ + ") closed the connection");
    if (r < 0) {
      if (errno == EINTR) continue;
      throw ViciError("reading from charon failed: " + std::string(std::strerror(errno)));
    }
    done += static_cast<std::size_t>(r);
  }
}

ViciClient::Packet ViciClient::read_packet(std::chrono::steady_clock::time_point deadline) {
  std::uint8_t header[4];
  read_exact(header, 4, deadline);
  std::size_t n = static_cast<std::size_t>(header[0]) << 24 |
                  static_cast<std::size_t>(header[1]) << 16 |
                  static_cast<std::size_t>(header[2]) << 8 | header[3];
  if (n == 0 || n > kMaxSegment) throw ViciError("bad VICI segment length");
  std::vector<std::uint8_t> body(n);
  read_exact(body.data(), n, deadline);
  Packet packet;
  packet.type = body[0];
  std::size_t offset = 1;
  if (packet.type == kEvent) {
    if (n < 2 || n < 2 + std::size_t{body[1]}) throw ViciError("truncated VICI event");
    packet.name.assign(reinterpret_cast<const char*>(body.data() + 2), body[1]);
    offset = 2 + std::size_t{body[1]};
  }
  if (packet.type == kCmdResponse || packet.type == kEvent)
    packet.message = decode(body.data() + offset, n - offset);
  return packet;
}

void ViciClient::event_registration(std::uint8_t type, const std::string& event,
                                    std::chrono::steady_clock::time_point deadline) {
  send_packet(type, event, nullptr);
  for (;;) {
    Packet p = read_packet(deadline);
    if (p.type == kEventConfirm) return;
    if (p.type == kEventUnknown) throw ViciError("charon does not know the event " + event);
    // Events of an earlier registration may still trickle in; skip them.
  }
}

ViciSection ViciClient::call(const std::string& command, const ViciSection& request,
                             std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  send_packet(kCmdRequest, command, &request);
  for (;;) {
    Packet p = read_packet(deadline);
    if (p.type == kCmdResponse) return std::move(p.message);
    if (p.type == kCmdUnknown) throw ViciError("charon does not know the command " + command);
  }
}

ViciSection ViciClient::call_streaming(const std::string& command, const ViciSection& request,
                                       const std::string& event,
                                       const std::function<void(const ViciSection&)>& each,
                                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  event_registration(kEventRegister, event, deadline);
  send_packet(kCmdRequest, command, &request);
  ViciSection response;
  for (;;) {
    Packet p = read_packet(deadline);
    if (p.type == kEvent && p.name == event) {
      each(p.message);
    } else if (p.type == kCmdResponse) {
      response = std::move(p.message);
      break;
    } else if (p.type == kCmdUnknown) {
      throw ViciError("charon does not know the command " + command);
    }
  }
  event_registration(kEventUnregister, event, deadline + std::chrono::seconds(5));
  return response;
}

std::vector<ViciSection> ViciClient::call_batch(const std::vector<Request>& requests,
                                                std::chrono::milliseconds timeout) {
  // Enough in flight to hide the round trips, few enough that neither
  // side's socket buffer fills while the other is not reading.
  constexpr std::size_t kWindow = 32;
  std::vector<ViciSection> answers;
  answers.reserve(requests.size());
  std::size_t sent = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (answers.size() < requests.size()) {
    while (sent < requests.size() && sent - answers.size() < kWindow) {
      send_packet(kCmdRequest, requests[sent].command, &requests[sent].message);
      ++sent;
    }
    Packet p = read_packet(deadline);
    if (p.type == kCmdResponse) {
      answers.push_back(std::move(p.message));
      // A long batch is alive as long as answers come.
      deadline = std::chrono::steady_clock::now() + timeout;
    } else if (p.type == kCmdUnknown) {
      throw ViciError("charon does not know the command " + requests[answers.size()].command);
    }
  }
  return answers;
}

void ViciClient::subscribe(const std::string& event) {
  event_registration(kEventRegister, event, std::chrono::steady_clock::now() + std::chrono::seconds(10));
}

std::optional<std::pair<std::string, ViciSection>> ViciClient::next_event(
    std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    pollfd p{fd_.get(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    Packet packet = read_packet(deadline + std::chrono::seconds(5));
    if (packet.type == kEvent) return std::make_pair(packet.name, std::move(packet.message));
  }
}

}  // namespace ipsecctl::backends::vici
