// HyperLogLog values, in Redis 7.0's exact byte format (hyperloglog.c), so that a value written by
// Keyward reads back byte for byte as Redis would have written it, and the other way round.
//
// An HLL is an ordinary string:
//
//   +------+---+-----+----------+--------------------------------+
//   | HYLL | E | N/U | Cardin.  |  registers                     |
//   +------+---+-----+----------+--------------------------------+
//     4      1   3     8 (LE)
//
// E is the encoding (0 dense, 1 sparse), N/U three unused bytes (copied, never checked), and the
// cached cardinality is little endian, its most significant bit set when the registers changed
// since it was computed. There are 16384 registers of 6 bits:
//
//   dense   12288 bytes, register i in bits [6i, 6i+6) counted from the LSB of each byte.
//   sparse  run-length opcodes, purely positional:
//             ZERO   00xxxxxx            1..64 registers at 0
//             XZERO  01xxxxxx yyyyyyyy   1..16384 registers at 0 (14 bits)
//             VAL    1vvvvvxx            1..4 registers at 1..32
//
// A sparse value turns dense when a register needs a value above 32 or when an edit would make
// it longer than hll-sparse-max-bytes. Nothing here knows of clients or commands: values are
// bytes in and bytes out, and the corrupt ones (which a SET can store) are reported, never read
// past their end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace keyward::hll {

inline constexpr size_t kHeaderSize = 16;
inline constexpr int kP = 14;               // register index bits
inline constexpr int kQ = 64 - kP;          // bits left for the 000..1 pattern
inline constexpr int kRegisters = 1 << kP;  // 16384
inline constexpr int kBits = 6;
inline constexpr size_t kDenseSize = kHeaderSize + (kRegisters * kBits + 7) / 8;  // 12304
inline constexpr uint8_t kDense = 0;
inline constexpr uint8_t kSparse = 1;
inline constexpr uint64_t kHashSeed = 0xadc83b19ULL;

// One byte per register: the merge of several HLLs (PFCOUNT of many keys, PFMERGE).
using Registers = std::array<uint8_t, kRegisters>;

// MurmurHash2, 64-bit version, reading its input as little-endian words (as Redis does on every
// architecture).
uint64_t MurmurHash64A(std::string_view data, uint64_t seed);

// Where an element lands (hllPatLen): its register, and the length of the 000..1 run in the rest
// of its hash (1..51).
struct Pattern {
  uint32_t index;
  uint8_t count;
};
Pattern PatternOf(std::string_view element);

// The checks of Redis's isHLLObjectOrReply once the key is known to be a string: a whole header,
// the magic, a known encoding, and a dense value of exactly the dense size. The registers are not
// looked at (the operations report a corrupt sparse run themselves).
bool LooksLikeHll(std::string_view value);
// The encoding byte of a value LooksLikeHll accepted.
inline uint8_t EncodingOf(std::string_view value) { return static_cast<uint8_t>(value[4]); }

// A new, empty HLL (createHLLObject): sparse, a single XZERO:16384, cached cardinality 0.
std::string NewSparse();

// The cached cardinality, if its "invalid" bit is clear.
std::optional<uint64_t> CachedCardinality(std::string_view value);
// Stores `card` as the cached cardinality (whatever its top bit says).
void StoreCardinality(std::string& value, uint64_t card);

// The estimated cardinality of a dense or sparse value (hllCount, with 7.0's estimator from
// Ertl's "New cardinality estimation algorithms for HyperLogLog sketches"); nullopt when the
// sparse opcodes do not cover exactly 16384 registers.
std::optional<uint64_t> Count(std::string_view value);
// The same estimate for registers held one per byte.
uint64_t Count(const Registers& registers);

// max[i] = MAX(max[i], register i of `value`) for every register (hllMerge). False when the sparse
// opcodes do not cover exactly 16384 registers (`max` may then be partly updated).
bool MergeInto(Registers& max, std::string_view value);

// The value of register `index` of a dense value.
uint8_t DenseRegister(std::string_view value, uint32_t index);

// PFDEBUG DECODE's text of a sparse value: "Z:16384", "z:3 v:2,1 ...".
std::string DecodeSparse(std::string_view value);

// Edits an HLL value in place, as Redis edits its sds string: the value of a PFADD or PFMERGE
// destination. Sparse edits follow hllSparseSet step by step (opcode splits, the merge of equal
// neighbours, promotion), so that the bytes come out exactly as Redis's.
//
// Redis's sparse code may touch the bytes just past the string's end (the sds terminator, and
// the room it reserves for a split) when the last opcode of a corrupt value is cut short. Those
// bytes are kept here too, past the logical length, for as long as the editor lives; its
// destructor trims the string back to its logical length.
class Editor {
 public:
  // `value` must have passed LooksLikeHll. `sparse_max_bytes` is hll-sparse-max-bytes.
  Editor(std::string& value, int64_t sparse_max_bytes);
  ~Editor();
  Editor(const Editor&) = delete;
  Editor& operator=(const Editor&) = delete;

  // Adds an element: 1 when a register changed, 0 when none did, -1 when the sparse value is
  // corrupt (Redis's hllAdd).
  int Add(std::string_view element);
  // Raises register `index` to `count` if it is lower, in the current encoding (hllDenseSet or
  // hllSparseSet, whichever applies): 1, 0 or -1 as Add.
  int Set(uint32_t index, uint8_t count);
  // Converts a sparse value to dense (a dense one is left alone). False when the sparse value is
  // corrupt; the value is then unchanged.
  bool ToDense();
  // Sets the cached cardinality's "invalid" bit.
  void InvalidateCache();
  uint8_t encoding() const { return static_cast<uint8_t>(value_[4]); }
  // The value as it stands (without the bytes kept past its end).
  std::string_view value() const { return {value_.data(), len_}; }

 private:
  int SparseSet(uint32_t index, uint8_t count);
  void MakeRoom();
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(value_.data()); }
  // sdsIncrLen: moves the logical end, which reads as a zero byte.
  void IncrLen(long delta);

  std::string& value_;
  size_t len_;  // the logical length; value_ may hold a few bytes more while editing
  int64_t sparse_max_bytes_;
};

// PFSELFTEST: sets and reads back random dense registers `cycles` times, then adds `elements`
// distinct elements to a dense and to a sparse HLL side by side, checking at every power of ten
// that the sparse one stayed sparse while small, that both estimate the same, and that the error
// stays within six standard errors. Returns the TESTFAILED error text, or nullopt when all pass.
std::optional<std::string> SelfTest(std::mt19937_64& rng, int64_t sparse_max_bytes,
                                    int cycles = 1000, uint32_t elements = 10000000);

}  // namespace keyward::hll
