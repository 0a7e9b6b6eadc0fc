#include "engine/record_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ipsecctl::engine {

std::unique_ptr<RecordWriter> RecordWriter::open(const std::string& path) {
  UniqueFd fd(::open((path + ".new").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return nullptr;
  return std::make_unique<RecordWriter>(Opened{}, path, std::move(fd));
}

RecordWriter::RecordWriter(Opened, std::string path, UniqueFd fd)
    : path_(std::move(path)), temporary_(path_ + ".new"), fd_(std::move(fd)) {}

RecordWriter::~RecordWriter() {
  if (!committed_) ::unlink(temporary_.c_str());
}

void RecordWriter::write(std::string_view text) {
  while (error_ == 0 && !text.empty()) {
    const ssize_t n = ::write(fd_.get(), text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = n < 0 ? errno : ENOSPC;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void RecordWriter::start_writeback() {
  if (error_ == 0) ::sync_file_range(fd_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
}

bool RecordWriter::commit() {
  if (error_ == 0 && ::fsync(fd_.get()) != 0) error_ = errno;
  fd_.reset();
  if (error_ == 0 && ::rename(temporary_.c_str(), path_.c_str()) != 0) error_ = errno;
  if (error_ != 0) {
    ::unlink(temporary_.c_str());
    errno = error_;
    return false;
  }
  committed_ = true;
  return true;
}

}  // namespace ipsecctl::engine
