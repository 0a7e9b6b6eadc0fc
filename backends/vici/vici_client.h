// A VICI client over charon's UNIX socket, every reply awaited with a
// deadline so a stuck daemon cannot hang ipsecctl. Streamed results
// (list-sas, control-log while initiating) arrive as events between the
// request and its response. charon answers the requests of one client in
// order, so a batch is written ahead of its answers (a window at a time):
// loading thousands of connections costs charon's work, not round trips.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/vici/vici_message.h"
#include "common/unique_fd.h"

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
  // Several requests, each answer in the order of the requests.
  struct Request {
    std::string command;
    ViciSection message;
  };
  std::vector<ViciSection> call_batch(const std::vector<Request>& requests,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Registers for `event`, runs the command, hands each event to `each`,
  // and unregisters again.
  ViciSection call_streaming(const std::string& command, const ViciSection& request,
                             const std::string& event,
                             const std::function<void(const ViciSection&)>& each,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // A standing registration: events arrive through next_event() until
  // the client goes away.
  void subscribe(const std::string& event);
  // The next event (name and message) before the deadline, or nullopt.
  std::optional<std::pair<std::string, ViciSection>> next_event(
      std::chrono::steady_clock::time_point deadline);

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

  UniqueFd fd_;
  std::string path_;
};

}  // namespace ipsecctl::backends::vici
