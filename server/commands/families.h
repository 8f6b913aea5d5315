// Each command family exports exactly one function, called explicitly by the server.
#pragma once

#include <string>
#include <vector>

namespace keyward {

class CommandRegistry;

void RegisterConnectionFamily(CommandRegistry& registry);     // connection_family.cc
void RegisterServerFamily(CommandRegistry& registry);         // server_family.cc
void RegisterConfigFamily(CommandRegistry& registry);         // config_family.cc
void RegisterClientFamily(CommandRegistry& registry);         // client_family.cc
void RegisterIntrospectionFamily(CommandRegistry& registry);  // command_family.cc (COMMAND)
void RegisterGenericFamily(CommandRegistry& registry);        // generic_family.cc
void RegisterDumpFamily(CommandRegistry& registry);           // dump_family.cc (DUMP, RESTORE)
void RegisterMemoryFamily(CommandRegistry& registry);         // memory_family.cc (MEMORY)
void RegisterExpireFamily(CommandRegistry& registry);         // expire_family.cc
void RegisterStringFamily(CommandRegistry& registry);         // string_family.cc
void RegisterBitopsFamily(CommandRegistry& registry);         // bitops_family.cc
void RegisterListFamily(CommandRegistry& registry);           // list_family.cc
void RegisterHashFamily(CommandRegistry& registry);           // hash_family.cc
void RegisterSetFamily(CommandRegistry& registry);            // set_family.cc
void RegisterZSetFamily(CommandRegistry& registry);           // zset_family.cc
void RegisterZSetOpsFamily(CommandRegistry& registry);        // zset_setops_family.cc
void RegisterSortFamily(CommandRegistry& registry);           // sort_family.cc (SORT, SORT_RO)
void RegisterGeoFamily(CommandRegistry& registry);            // geo_family.cc
void RegisterHyperLogLogFamily(CommandRegistry& registry);    // hyperloglog_family.cc (PF*)
void RegisterStreamFamily(CommandRegistry& registry);         // stream_family.cc (XADD, XREAD..)
// stream_group_family.cc (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO)
void RegisterStreamGroupFamily(CommandRegistry& registry);
void RegisterPubSubFamily(CommandRegistry& registry);       // pubsub_family.cc
void RegisterScriptingFamily(CommandRegistry& registry);    // scripting_family.cc
void RegisterFunctionFamily(CommandRegistry& registry);     // function_family.cc
void RegisterLockFamily(CommandRegistry& registry);         // lock_family.cc (LOCK.*)
void RegisterTransactionFamily(CommandRegistry& registry);  // transaction_family.cc
void RegisterLatencyFamily(CommandRegistry& registry);      // latency_family.cc (LATENCY)
void RegisterLolwutFamily(CommandRegistry& registry);       // lolwut_family.cc (LOLWUT)
void RegisterDebugFamily(CommandRegistry& registry);        // debug_family.cc (DEBUG)
void RegisterAclFamily(CommandRegistry& registry);          // acl_family.cc (ACL)
// replication_family.cc (REPLICAOF, SLAVEOF, REPLCONF, PSYNC, SYNC, ROLE, WAIT)
void RegisterReplicationFamily(CommandRegistry& registry);
// persistence_family.cc (SAVE, BGSAVE, LASTSAVE)
void RegisterPersistenceFamily(CommandRegistry& registry);
// sentinel_family.cc (SENTINEL, and a sentinel's ROLE and PUBLISH): registered last in sentinel
// mode, it keeps only the commands a sentinel serves.
void RegisterSentinelFamily(CommandRegistry& registry);

class Client;
class CommandContext;
struct Services;
// CLIENT LIST's and CLIENT INFO's line for a client (client_family.cc); ACL LOG shows it too.
std::string DescribeClient(Services& services, const Client& c);
// INFO's text for `sections` (none: the default ones), as the INFO command replies it
// (server_family.cc); the metrics endpoint reads it too.
std::string RenderInfo(Services& s, const std::vector<std::string>& sections);
// SCRIPT KILL (function = false) and FUNCTION KILL: stops the busy script, unless it has
// written (scripting_family.cc).
void KillBusyScript(CommandContext& ctx, bool function);

}  // namespace keyward
