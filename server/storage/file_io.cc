#include "server/storage/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keyward {

size_t WriteFully(int fd, std::string_view data, int* error_errno) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error_errno = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  return written;
}

bool SyncDirectory(const std::string& dir, std::string* error) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  const bool ok = ::fsync(fd) == 0 || errno == EINVAL || errno == EBADF;
  if (!ok) *error = std::strerror(errno);
  ::close(fd);
  return ok;
}

bool SyncDirectoryOf(const std::string& path, std::string* error) {
  const size_t slash = path.rfind('/');
  return SyncDirectory(slash == std::string::npos ? "." : path.substr(0, slash + 1), error);
}

}  // namespace keyward
