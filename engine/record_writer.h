// One record file being written (engine/ownership_store): the text goes to
// "<record>.new" as it is made, and commit() syncs it and renames it over
// the record, so that a crash leaves the old record or the new one, never
// half of one. Dropped without commit(), it removes the temporary file and
// the old record stays as it was.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace ipsecctl::engine {

class RecordWriter {
  struct Opened {  // only open() makes one
    explicit Opened() = default;
  };

 public:
  // nullptr when the temporary file cannot be made (errno says why).
  static std::unique_ptr<RecordWriter> open(const std::string& path);
  RecordWriter(Opened, std::string path, UniqueFd fd);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // A failure is remembered for commit().
  void write(std::string_view text);
  // Has the kernel start writing back what was written so far: a record
  // of 10^5 flows is 17 MB, and its sync at commit() then has little left
  // to do.
  void start_writeback();
  // False when anything failed (errno says why); the temporary file is
  // gone then.
  bool commit();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string temporary_;
  UniqueFd fd_;
  int error_ = 0;
  bool committed_ = false;
};

}  // namespace ipsecctl::engine
