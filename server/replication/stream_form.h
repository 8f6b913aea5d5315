// Keyward's coordination records on the wire of replication.
//
// The fencing state travels in the propagation stream as commands of Keyward's own (LOCK.RECORD,
// LOCK.FLOOR, LOCK.EPOCH, LOCK.LEASE: docs/commands/coordination.md). A Redis replica does not
// know them: outside a transaction it would log an error, inside one (a fenced acquisition is
// SET + LOCK.RECORD in MULTI/EXEC) it would abort the whole transaction, losing the SET. So the
// replication stream carries each as `ECHO <marker><the command in RESP>`: a Redis replica runs
// a harmless ECHO (its reply to the master is discarded), a Keyward replica unwraps and applies
// the record. The bytes are the same for every replica, so offsets, the backlog and chains are
// unaffected; the AOF keeps the plain commands.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/propagation.h"

namespace keyward {

inline constexpr std::string_view kRecordMarker = "keyward-record:";

// The form `argv` takes in the replication stream: the command itself, or its ECHO wrapping.
std::string ReplicationForm(const Argv& argv);
// The record an ECHO of the master's stream carries, if it is one.
std::optional<Argv> UnwrapRecord(std::span<const std::string_view> args);

}  // namespace keyward
