// A VICI client over charon's UNIX socket: one command at a time, each
// reply awaited with a deadline so a stuck daemon cannot hang ipsecctl.
// Streamed results (list-sas, control-log while initiating) arrive as
// events between the request and its response.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "backends/vici/vici_message.h"

namespace ipsecctl::backends::vici {

class ViciClient {
 public:
  // Throws ViciError when the socket cannot be reached.
  explicit ViciClient(const std::string& socket_path);
  ViciClient(const ViciClient&) = delete;
  ViciClient& operator=(const ViciClient&) = delete;
  ~ViciClient();

  // Whether a socket at the path answers (charon is running).
  static bool reachable(const std::string& socket_path);

  ViciSection call(const std::string& command, const ViciSection& request,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Registers for `event`, runs the command, hands each event to `each`,
  // and unregisters again.
  ViciSection call_streaming(const std::string& command, const ViciSection& request,
                             const std::string& event,
                             const std::function<void(const ViciSection&)>& each,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  void send_packet(std::uint8_t type, const std::string& name, const ViciSection* message);
  // One packet: its type, the event name (for events) and the message.
  struct Packet {
    std::uint8_t type = 0;
    std::string name;
    ViciSection message;
  };
  Packet read_packet(std::chrono::steady_clock::time_point deadline);
  void read_exact(std::uint8_t* out, std::size_t size,
                  std::chrono::steady_clock::time_point deadline);
  void event_registration(std::uint8_t type, const std::string& event,
                          std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string path_;
};

}  // namespace ipsecctl::backends::vici
