// The few file operations the storage layer's writers share: writing a whole buffer through
// short writes and EINTR, and syncing a directory so that a rename in it survives a crash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace keyward {

// Writes `data` to `fd`; the bytes written (all of them unless an error stopped it, whose errno
// then goes to `*error_errno`).
size_t WriteFully(int fd, std::string_view data, int* error_errno);

// fsync of directory `dir` (Redis's fsyncFileDir); false with `*error` set on failure. A file
// system that cannot sync directories (EINVAL, EBADF) counts as synced, as in Redis.
bool SyncDirectory(const std::string& dir, std::string* error);
// The same for the directory holding `path`.
bool SyncDirectoryOf(const std::string& path, std::string* error);

}  // namespace keyward
