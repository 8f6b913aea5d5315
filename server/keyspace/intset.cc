#include "server/keyspace/intset.h"

#include <malloc.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

namespace keyward {

namespace {

// Little-endian loads and stores of N-byte integers, whatever the host's byte order (Redis's
// memrev*ifbe).
template <typename T>
T Load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    std::make_unsigned_t<T> r = 0;
    for (size_t i = 0; i < sizeof(T); i++) r = (r << 8) | ((u >> (8 * i)) & 0xff);
    v = static_cast<T>(r);
  }
  return v;
}

template <typename T>
void Store(unsigned char* p, T v) {
  if constexpr (std::endian::native == std::endian::big) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (size_t i = 0; i < sizeof(T); i++) p[i] = static_cast<unsigned char>(u >> (8 * i));
  } else {
    std::memcpy(p, &v, sizeof(v));
  }
}

unsigned char* Allocate(size_t bytes) {
  auto* p = static_cast<unsigned char*>(std::malloc(bytes));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

uint32_t Intset::WidthFor(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) return 8;
  if (v < INT16_MIN || v > INT16_MAX) return 4;
  return 2;
}

Intset::Intset() : blob_(Allocate(kHeaderSize)) {
  SetWidth(2);
  SetSize(0);
}

Intset::~Intset() { std::free(blob_); }

Intset::Intset(const Intset& other) {
  std::string_view b = other.bytes();
  blob_ = Allocate(b.size());
  std::memcpy(blob_, b.data(), b.size());
}

Intset& Intset::operator=(const Intset& other) {
  if (this != &other) *this = Intset(other);
  return *this;
}

// A moved-from Intset holds nothing: it may only be destroyed or assigned to.
Intset::Intset(Intset&& other) noexcept : blob_(other.blob_) { other.blob_ = nullptr; }

Intset& Intset::operator=(Intset&& other) noexcept {
  if (this != &other) {
    std::free(blob_);
    blob_ = other.blob_;
    other.blob_ = nullptr;
  }
  return *this;
}

std::optional<Intset> Intset::FromBytes(std::string_view blob, bool deep) {
  if (blob.size() < kHeaderSize) return std::nullopt;
  auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  uint32_t width = Load<uint32_t>(p);
  if (width != 2 && width != 4 && width != 8) return std::nullopt;
  uint32_t count = Load<uint32_t>(p + 4);
  if (kHeaderSize + static_cast<uint64_t>(count) * width != blob.size()) return std::nullopt;
  if (count == 0) return std::nullopt;  // Redis refuses an empty set from RDB
  unsigned char* copy = Allocate(blob.size());
  std::memcpy(copy, blob.data(), blob.size());
  Intset set(copy);
  if (deep) {
    for (uint32_t i = 1; i < count; i++) {
      if (set.Get(i) <= set.Get(i - 1)) return std::nullopt;
    }
  }
  return set;
}

uint32_t Intset::size() const { return Load<uint32_t>(blob_ + 4); }
uint32_t Intset::width() const { return Load<uint32_t>(blob_); }
void Intset::SetSize(uint32_t n) { Store<uint32_t>(blob_ + 4, n); }
void Intset::SetWidth(uint32_t w) { Store<uint32_t>(blob_, w); }

std::string_view Intset::bytes() const {
  return {reinterpret_cast<const char*>(blob_), kHeaderSize + size_t{size()} * width()};
}

size_t Intset::MemoryUsage() const { return malloc_usable_size(blob_); }

int64_t Intset::GetWith(uint32_t pos, uint32_t w) const {
  const unsigned char* p = contents() + size_t{pos} * w;
  switch (w) {
    case 8:
      return Load<int64_t>(p);
    case 4:
      return Load<int32_t>(p);
    default:
      return Load<int16_t>(p);
  }
}

int64_t Intset::Get(uint32_t pos) const { return GetWith(pos, width()); }

void Intset::Set(uint32_t pos, int64_t v) {
  const uint32_t w = width();
  unsigned char* p = contents() + size_t{pos} * w;
  switch (w) {
    case 8:
      Store<int64_t>(p, v);
      break;
    case 4:
      Store<int32_t>(p, static_cast<int32_t>(v));
      break;
    default:
      Store<int16_t>(p, static_cast<int16_t>(v));
      break;
  }
}

void Intset::Resize(uint32_t n) {
  size_t bytes = kHeaderSize + size_t{n} * width();
  auto* p = static_cast<unsigned char*>(std::realloc(blob_, bytes));
  if (p == nullptr) throw std::bad_alloc();
  blob_ = p;
}

bool Intset::Search(int64_t v, uint32_t* pos) const {
  const uint32_t n = size();
  if (n == 0) {
    *pos = 0;
    return false;
  }
  // Outside the range: the insertion point is known without searching.
  if (v > Get(n - 1)) {
    *pos = n;
    return false;
  }
  if (v < Get(0)) {
    *pos = 0;
    return false;
  }
  uint32_t lo = 0, hi = n;  // [lo, hi)
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int64_t cur = Get(mid);
    if (cur == v) {
      *pos = mid;
      return true;
    }
    if (cur < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return false;
}

// A value wider than the current elements is beyond all of them: it goes first when negative,
// last otherwise. Elements are widened back to front so none is overwritten before it is read.
void Intset::UpgradeAndAdd(int64_t v) {
  const uint32_t old_width = width();
  const uint32_t n = size();
  const uint32_t prepend = v < 0 ? 1 : 0;
  SetWidth(WidthFor(v));
  Resize(n + 1);
  for (uint32_t i = n; i-- > 0;) Set(i + prepend, GetWith(i, old_width));
  Set(prepend ? 0 : n, v);
  SetSize(n + 1);
}

bool Intset::Add(int64_t v) {
  if (WidthFor(v) > width()) {
    UpgradeAndAdd(v);
    return true;
  }
  uint32_t pos;
  if (Search(v, &pos)) return false;
  const uint32_t n = size();
  Resize(n + 1);
  const uint32_t w = width();
  if (pos < n) {
    std::memmove(contents() + size_t{pos + 1} * w, contents() + size_t{pos} * w,
                 size_t{n - pos} * w);
  }
  Set(pos, v);
  SetSize(n + 1);
  return true;
}

bool Intset::Remove(int64_t v) {
  uint32_t pos;
  if (WidthFor(v) > width() || !Search(v, &pos)) return false;
  const uint32_t n = size();
  const uint32_t w = width();
  if (pos + 1 < n) {
    std::memmove(contents() + size_t{pos} * w, contents() + size_t{pos + 1} * w,
                 size_t{n - pos - 1} * w);
  }
  Resize(n - 1);
  SetSize(n - 1);
  return true;
}

bool Intset::Contains(int64_t v) const {
  uint32_t pos;
  return WidthFor(v) <= width() && Search(v, &pos);
}

}  // namespace keyward
