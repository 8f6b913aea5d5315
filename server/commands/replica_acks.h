// Waiting for replicas to acknowledge a client's last write: WAIT, and the fenced acquisitions
// that lock-fence-replicas holds until their record reached that many replicas.
#pragma once

#include <cstdint>
#include <functional>

#include "server/engine/context.h"

namespace keyward {

class Replication;

// What a served (or timed-out) wait writes, given how many replicas acknowledged.
using AckReply = std::function<void(ReplyBuilder& rb, int64_t acked)>;

// Blocks ctx's client until `needed` replicas acknowledged the offset of its last write (read
// when the wait is offered, so a write of the running command counts), then `reply`; at
// `deadline_ms` (-1: never), `timeout`. Every replica is asked for an ACK at once.
void BlockForReplicaAcks(CommandContext& ctx, int64_t needed, int64_t deadline_ms, AckReply reply,
                         AckReply timeout);

// lock-fence-replicas: a fenced answer waits until that many replicas acknowledged the
// command's records (their offset is the client's last write once the command's unit ended),
// so that a promoted replica among them holds the counter; after lock-fence-timeout it is an
// error (the counter was raised: the token is simply never used). Not on a replica, nor inside
// MULTI or a script, which cannot block: there the answer is immediate (false: write it now).
// Serves LOCK.ACQUIRE, LOCK.FENCE and a LOCK.ACQUIRE ... WAIT granted later.
bool HoldFencedReply(CommandContext& ctx, AckReply reply);

}  // namespace keyward
