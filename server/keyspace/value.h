// The value layer: what every data type provides to the keyspace.
//
// Strings are the entry's own type: short ones live inside the entry, long or in-place-modified
// ones in a growable buffer it points to (entry.h). Every other type (list, hash, set, sorted set,
// stream) is a `Value` subclass the entry points to, and its virtual table is the type's table of
// operations: freeing (the destructor), copying for COPY, memory usage, the encoding OBJECT
// ENCODING names, the lazy-free cost, and serialisation for RDB and DUMP. A new type is a new
// file in keyspace/ with its subclass, plus a family in commands/; nothing else changes.
//
// Values know nothing of keys, expiry, clients or commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace keyward {

// Numbering follows Redis's OBJ_* constants (they appear in RDB and OBJECT replies).
enum class ObjType : uint8_t {
  kString = 0,
  kList = 1,
  kSet = 2,
  kZSet = 3,
  kHash = 4,
  kStream = 6
};

// Numbering follows Redis's OBJ_ENCODING_* constants.
enum class Encoding : uint8_t {
  kRaw = 0,
  kInt = 1,
  kHashTable = 2,
  kIntSet = 6,
  kSkipList = 7,
  kEmbStr = 8,
  kQuickList = 9,
  kStream = 10,
  kListPack = 11,
};

std::string_view TypeName(ObjType type);           // "string", "list", ...
std::string_view EncodingName(Encoding encoding);  // "raw", "int", "embstr", ...

// Where a value writes its serialised form. The persistence layer's byte streams (an RDB file, a
// DUMP payload, a replica's full sync) implement it, so one serialiser serves them all.
class ValueSink {
 public:
  virtual ~ValueSink() = default;
  virtual void Write(std::string_view bytes) = 0;
  // Whether strings may be LZF-compressed (rdbcompression).
  virtual bool compress() const { return true; }
};

// Writes a value's serialised form a piece at a time, so that a background snapshot spreads a
// big value over several steps of the event loop. The value must not change between calls (the
// snapshot finishes a value before anything may touch it). The pieces, end to end, are exactly
// what Serialise writes.
class ValueWriter {
 public:
  virtual ~ValueWriter() = default;
  // Writes about `budget` more elements (at least some progress); true once the value is done.
  virtual bool WriteSome(ValueSink& out, size_t budget) = 0;
};

class Value {
 public:
  virtual ~Value() = default;

  virtual ObjType type() const = 0;
  // The representation in use; a type may change it as the value grows (listpack to hashtable).
  virtual Encoding encoding() const = 0;
  // A deep copy (COPY): the copy shares nothing with this value.
  virtual std::unique_ptr<Value> Clone() const = 0;
  // Bytes allocated for the value's structure, the Value object included (MEMORY USAGE).
  virtual size_t MemoryUsage() const = 0;
  // Redis's lazyfreeGetFreeEffort: about how many allocations freeing the value takes. Values
  // over a threshold are freed on the background thread (UNLINK, FLUSHALL ASYNC, lazyfree-*).
  virtual size_t FreeEffort() const = 0;
  // The RDB value type byte this value is written with (RDB_TYPE_*), and its payload in that
  // type's format (what follows the type byte and the key in an RDB file, or the type byte in a
  // DUMP payload).
  virtual uint8_t rdb_type() const = 0;
  virtual void Serialise(ValueSink& out) const = 0;
  // The same form a piece at a time. The default writes it all at once: types whose values can
  // be big (tables, skiplists, quicklists, streams) write theirs element by element, and their
  // Serialise runs that writer to its end.
  virtual std::unique_ptr<ValueWriter> NewWriter() const;
};

// Serialise for a type with a writer of its own: the writer run to its end.
void SerialiseWithWriter(const Value& v, ValueSink& out);

}  // namespace keyward
