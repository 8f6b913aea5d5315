// A whole file mapped read-only for loading (RDB and AOF files are read sequentially).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace keyward {

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  // ENOENT leaves it closed with no error; any other failure gives the error text.
  std::optional<std::string> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::nullopt;
      return std::string(std::strerror(errno));
    }
    struct stat st {};
    if (fstat(fd, &st) != 0) {
      std::string error = std::strerror(errno);
      ::close(fd);
      return error;
    }
    size_ = static_cast<size_t>(st.st_size);
    exists_ = true;
    if (size_ > 0) {
      void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        std::string error = std::strerror(errno);
        ::close(fd);
        return error;
      }
      data_ = p;
      madvise(data_, size_, MADV_SEQUENTIAL);
    }
    ::close(fd);
    return std::nullopt;
  }
  bool exists() const { return exists_; }
  std::string_view view() const {
    return data_ == nullptr ? std::string_view()
                            : std::string_view(static_cast<char*>(data_), size_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  bool exists_ = false;
};

}  // namespace keyward
