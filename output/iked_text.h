// An iked.conf's meaning as `iked -n -v` prints it: one line per user
// and per policy, in the file's order, with iked's defaults written out.
#pragma once

#include <string>

#include "compiler/iked/iked_config.h"

namespace ipsecctl::output {

std::string render_iked_policy(const iked::Policy& policy);
// Parts of that line: an address as iked prints it ("10.1.0.0/16", "any"),
// and one proposal's transforms ("enc aes-256 auth hmac-sha2-256 ...").
std::string render_iked_address(const iked::Address& address);
std::string render_iked_proposal(const iked::Proposal& proposal);
std::string render_iked_user(const iked::User& user);
// Every user and policy, in the order the file gave them.
std::string render_iked_config(const iked::Config& config);

}  // namespace ipsecctl::output
