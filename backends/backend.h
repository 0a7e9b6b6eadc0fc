// The interfaces every target implements. A backend is chosen at run
// time: a kernel (XFRM netlink, PF_KEY) or an IKE daemon (isakmpd, charon
// over VICI).
//
// apply() loads a plan all or nothing: when any change fails, the changes
// this run made are undone and every failure names its rule (file:line).
#pragma once

#include <cstdio>
#include <string>

#include "compiler/plan.h"

namespace ipsecctl::backends {

enum class Action { Add, Delete };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Adds (or removes) the part of the plan this backend is responsible
  // for. Returns false after reporting what failed.
  virtual bool apply(const compiler::Plan& plan, Action action) = 0;
};

struct ShowRequest {
  bool flows = false;
  bool sas = false;
  bool titles = false;      // -s all
  int verbose = 0;          // -v: SA details; -vv: entry numbers
  bool show_keys = false;   // -k
  bool collapse = false;    // -c
};

// A backend that owns the kernel's databases: it can also flush them,
// print them in OpenBSD's format, and watch them change.
class KernelBackend : public Backend {
 public:
  virtual bool flush() = 0;
  virtual bool show(const ShowRequest& request, std::FILE* out) = 0;
  // Prints events until interrupted; returns false on failure.
  virtual bool monitor(int verbose, std::FILE* out) = 0;
  // Takes back the last successful apply() (when a later part of the same
  // load failed). Returns false after reporting what could not be undone.
  virtual bool undo_last() = 0;
};

}  // namespace ipsecctl::backends
