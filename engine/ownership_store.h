// The records of what each configuration file put in place (see
// backends/ownership.h), one text file per source under
// <state directory>/<namespace>/, written whole and renamed into place so
// that a crash leaves the old record or the new one, never half of one.
//
// A source is the canonical path of the file given to -f ("-" for
// standard input): the same file loaded by another path is the same
// source, and each include belongs to the file that includes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <optional>
#include <string>
#include <vector>

#include "backends/ownership.h"
#include "common/diagnostics.h"
#include "engine/record_writer.h"

namespace ipsecctl::engine {

class OwnershipStore {
 public:
  // The records of the network namespace this process is in.
  explicit OwnershipStore(Diagnostics& diagnostics);
  OwnershipStore(Diagnostics& diagnostics, std::string directory);

  const std::string& directory() const { return dir_; }

  // The record of one source; empty when there is none.
  backends::OwnedEntries load(const std::string& source) const;
  // Whether the source has a record, without reading it.
  bool has_record(const std::string& source) const;
  // Everything the other sources claim.
  backends::OwnedEntries others(const std::string& source) const;
  // Every source with a record.
  std::vector<std::string> sources() const;
  // Every record, each file read once; `except` names a record file
  // (not a source) to leave unread.
  std::vector<std::pair<std::string, backends::OwnedEntries>> all(
      const std::string& except = {}) const;
  // Replaces the record (an empty one is removed). False after a note:
  // the load itself stands, but the next reload of the file cannot know
  // what this one added.
  bool save(const std::string& source, const backends::OwnedEntries& entries);
  // The same in two steps: the kernel's entries are written as soon as
  // they are known (while the kernel still confirms the load), the
  // daemon's when it has answered; finish_save() puts the record in
  // place. A writer dropped unfinished leaves the old record. nullptr,
  // and false, after a note as above.
  std::unique_ptr<RecordWriter> begin_save(const std::string& source,
                                           const std::vector<backends::OwnedKernelEntry>& kernel);
  bool finish_save(RecordWriter& writer, const std::vector<backends::OwnedEntry>& entries);
  // Removes the record and the time of the last load.
  void remove(const std::string& source);

  // The time of each source's last successful load (-s ... --format
  // prometheus), kept beside the record (whose own time says when what
  // the file owns last changed: an unchanged reload leaves it alone).
  void mark_loaded(const std::string& source);
  std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> load_times() const;

  // The canonical form of a -f argument (realpath; "-" stays "-").
  static std::string source_of(const std::string& file_argument);

  // Text form, for the file and for tests.
  static std::string serialize(const std::string& source, const backends::OwnedEntries& entries);
  // The same text, handed over in pieces: the header and the kernel's
  // entries, then the daemon's.
  static void serialize_to(const std::string& source, const backends::OwnedEntries& entries,
                           const std::function<void(std::string_view)>& sink);
  static void serialize_kernel_part(const std::string& source,
                                    const std::vector<backends::OwnedKernelEntry>& kernel,
                                    const std::function<void(std::string_view)>& sink);
  static void serialize_entries(const std::vector<backends::OwnedEntry>& entries,
                                const std::function<void(std::string_view)>& sink);
  // nullopt when the text is not a record.
  static std::optional<std::pair<std::string, backends::OwnedEntries>> parse(
      const std::string& text);

 private:
  std::string path_of(const std::string& source) const;
  std::optional<std::pair<std::string, backends::OwnedEntries>> read_file(
      const std::string& path) const;

  Diagnostics& diag_;
  std::string dir_;
};

}  // namespace ipsecctl::engine
