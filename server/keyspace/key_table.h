// The keyspace hash table: an IntrusiveTable (Redis's dict design, incremental rehash,
// reverse-binary SCAN cursor) whose nodes are the entries themselves, so a key costs one
// allocation and one bucket pointer.
#pragma once

#include "server/keyspace/entry.h"
#include "server/keyspace/intrusive_table.h"

namespace keyward {

using KeyTable = IntrusiveTable<Entry>;

}  // namespace keyward
