// Every client-visible error text, byte-identical to what Redis 7.0 sends. Texts are given without
// the leading '-' and the trailing CRLF; the reply builder adds both. Texts that need a value
// spliced in are built by the helpers at the bottom.
#pragma once

#include <string>
#include <string_view>

#include "keyward/error_codes.h"

namespace keyward::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kIncrNanOrInf = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kSameObject = "ERR source and destination objects are the same";
inline constexpr std::string_view kStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kOffsetOutOfRange = "ERR offset is out of range";
inline constexpr std::string_view kDecrementOverflow = "ERR decrement would overflow";
// LCS
inline constexpr std::string_view kLcsNotStrings =
    "ERR The specified keys must contain string values";
inline constexpr std::string_view kLcsLenAndIdx =
    "ERR If you want both the length and indexes, please just use IDX.";
inline constexpr std::string_view kLcsTooLong = "ERR String too long for LCS";
inline constexpr std::string_view kLcsMemoryLimit =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
inline constexpr std::string_view kLcsAllocFailed =
    "ERR Insufficient memory, failed allocating transient memory for LCS";
inline constexpr std::string_view kBitOffset = "ERR bit offset is not an integer or out of range";
inline constexpr std::string_view kBitValue = "ERR bit is not an integer or out of range";
inline constexpr std::string_view kBitposBit = "ERR The bit argument must be 1 or 0.";
inline constexpr std::string_view kBitopNotArity =
    "ERR BITOP NOT must be called with a single source key.";
inline constexpr std::string_view kBitfieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "
    "is.";
inline constexpr std::string_view kBitfieldOverflowType = "ERR Invalid OVERFLOW type specified";
inline constexpr std::string_view kBitfieldRoGetOnly =
    "ERR BITFIELD_RO only supports the GET subcommand";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kAuthNoPassword =
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?";
inline constexpr std::string_view kTimeoutNotInteger =
    "ERR timeout is not an integer or out of range";
inline constexpr std::string_view kTimeoutNegative = "ERR timeout is negative";
inline constexpr std::string_view kNoProto = "NOPROTO unsupported protocol version";
inline constexpr std::string_view kProtocolVersion =
    "ERR Protocol version is not an integer or out of range";
inline constexpr std::string_view kNoSuchClient = "ERR No such client";
inline constexpr std::string_view kClientNameSpaces =
    "ERR Client names cannot contain spaces, newlines or special characters.";
inline constexpr std::string_view kBusyKey = "BUSYKEY Target key name already exists.";
inline constexpr std::string_view kMaxClients = "ERR max number of clients reached";
inline constexpr std::string_view kNegativeCount = "ERR value is out of range, must be positive";
inline constexpr std::string_view kMultipleModes =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
inline constexpr std::string_view kGtLtNx =
    "ERR GT and LT options at the same time are not compatible";
inline constexpr std::string_view kInvalidCursor = "ERR invalid cursor";
inline constexpr std::string_view kInvalidFirstDbIndex = "ERR invalid first DB index";
inline constexpr std::string_view kInvalidSecondDbIndex = "ERR invalid second DB index";
// getIntFromObjectOrReply with no message of its own (MOVE, COPY DB, SELECT).
inline constexpr std::string_view kIntOutOfRange =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
inline constexpr std::string_view kLfuNotSelected =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust.";
inline constexpr std::string_view kLfuSelected =
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";
inline constexpr std::string_view kProtectedMode =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password "
    "is set for the default user. In this mode connections are only accepted from the loopback "
    "interface. If you want to connect from external computers to Redis you may adopt one of the "
    "following solutions: 1) Just disable protected mode sending the command 'CONFIG SET "
    "protected-mode no' from the loopback interface by connecting to Redis from the same host the "
    "server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    "so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable "
    "the protected mode by editing the Redis configuration file, and setting the protected mode "
    "option to 'no', and then restarting the server. 3) If you started the server manually just "
    "for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    "password for the default user. NOTE: You only need to do one of the above things in order "
    "for the server to start accepting connections from the outside.\r\n";

// The gatekeeper's refusals (Redis's shared error objects).
inline constexpr std::string_view kLoading = "LOADING Redis is loading the dataset in memory";
inline constexpr std::string_view kReadOnlyReplica =
    "READONLY You can't write against a read only replica.";
// Replication.
inline constexpr std::string_view kNoReplicas = "NOREPLICAS Not enough good replicas to write.";
inline constexpr std::string_view kMasterDown =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
// A script that declares its flags without allow-stale, on a stale replica.
inline constexpr std::string_view kMasterDownScript =
    "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and "
    "'allow-stale' flag is not set";
// A script's command not flagged stale, on a stale replica.
inline constexpr std::string_view kScriptStaleReplica =
    "ERR Can not execute the command on a stale replica";
inline constexpr std::string_view kSyncNoMasterLink =
    "NOMASTERLINK Can't SYNC while not connected with my master";
inline constexpr std::string_view kSyncPendingOutput =
    "ERR SYNC and PSYNC are invalid with pending output";
inline constexpr std::string_view kReplicaOfByReplica =
    "Command is not valid when client is a replica.";
inline constexpr std::string_view kInvalidMasterPort = "Invalid master port";
inline constexpr std::string_view kWaitOnReplica =
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
    "replica is configured to be writable (which is not the default) writes to replicas are just "
    "local and are not propagated.";
// lock-fence-replicas: a fenced answer whose record too few replicas acknowledged in time.
inline std::string FenceNotReplicated(int64_t acked, int64_t needed) {
  return "NOREPLICAS fencing record acknowledged by " + std::to_string(acked) + " of " +
         std::to_string(needed) + " replicas within lock-fence-timeout";
}
inline constexpr std::string_view kUnblockedRoleChange =
    "UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
    "replica?)";
inline constexpr std::string_view kOom = "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kNotAllowedInMulti =
    "ERR Command not allowed inside a transaction";
inline constexpr std::string_view kBusyScript =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kBusyFunction =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
// Client-side caching (CLIENT TRACKING, CLIENT CACHING).
inline constexpr std::string_view kTrackingOneRedirect =
    "ERR A client can only redirect to a single other client";
inline constexpr std::string_view kTrackingNoSuchRedirect =
    "ERR The client ID you want redirect to does not exist";
inline constexpr std::string_view kCachingNotTracking =
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
    "OPTOUT mode enabled";
inline constexpr std::string_view kCachingYesNotOptin =
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
inline constexpr std::string_view kCachingNoNotOptout =
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";
// HyperLogLog (Redis's hyperloglog.c). Redis sends the first two with addReplyError("-WRONGTYPE
// ...") and "-INVALIDOBJ ...": the code is the first word, no "ERR" in front.
inline constexpr std::string_view kHllNotHll =
    "WRONGTYPE Key is not a valid HyperLogLog string value.";
inline constexpr std::string_view kHllCorrupt = "INVALIDOBJ Corrupted HLL object detected";
inline constexpr std::string_view kHllNoKey = "ERR The specified key does not exist";
inline constexpr std::string_view kHllNotSparse = "ERR HLL encoding is not sparse";
// RESTORE (Redis's restoreCommand).
inline constexpr std::string_view kBadDataFormat = "ERR Bad data format";
inline constexpr std::string_view kInvalidTtl = "ERR Invalid TTL value, must be >= 0";
inline constexpr std::string_view kInvalidIdleTime = "ERR Invalid IDLETIME value, must be >= 0";
inline constexpr std::string_view kInvalidFreq = "ERR Invalid FREQ value, must be >= 0 and <= 255";
// Transactions (Redis's multi.c).
inline constexpr std::string_view kExecWithoutMulti = "ERR EXEC without MULTI";
inline constexpr std::string_view kDiscardWithoutMulti = "ERR DISCARD without MULTI";
inline constexpr std::string_view kMultiNested = "ERR MULTI calls can not be nested";
inline constexpr std::string_view kWatchInsideMulti = "ERR WATCH inside MULTI is not allowed";
inline constexpr std::string_view kExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";
// EXEC refused by the gatekeeper (READONLY, OOM, ...): the transaction goes, with the reason,
// whose generic "ERR " Redis does not repeat (it formats the reason without one).
inline std::string ExecAbortBecause(std::string_view error) {
  if (error.starts_with("ERR ")) error.remove_prefix(4);
  return "EXECABORT Transaction discarded because of: " + std::string(error);
}
// Keyward's own codes (include/keyward/error_codes.h, shared with redlock/).
inline std::string Fenced(int64_t token, int64_t seen, std::string_view resource) {
  return codes::FencedText(token, seen, resource);
}
inline std::string NotIssued(int64_t token, int64_t counter, std::string_view resource) {
  return codes::NotIssuedText(token, counter, resource);
}
inline std::string Unsettled() { return codes::UnsettledText(); }
inline std::string Restarting(int64_t left_ms, const char* option = "lock-restart-delay") {
  return codes::RestartingText(left_ms, option);
}
// Fencing tokens are integers from 1 to 2^53 - 1 (exact in JavaScript and Lua numbers).
inline constexpr std::string_view kTokenOutOfRange =
    "ERR fencing token is out of range (1 to 9007199254740991)";
// A stream record's counters (LOCK.RECORD, LOCK.FLOOR): 0 (none yet) to 2^53 - 1.
inline constexpr std::string_view kCounterOutOfRange =
    "ERR fencing counter is out of range (0 to 9007199254740991)";
// LOCK.WAIT ... HANDOFF: the woken waiter's window, at most a minute (a queue behind a waiter that
// vanished waits that long for a free lock).
inline constexpr std::string_view kHandoffOutOfRange =
    "ERR HANDOFF window is out of range (0 to 60000 ms)";
inline std::string TokensExhausted(std::string_view resource) {
  return "ERR the fencing counter of '" + std::string(resource) +
         "' reached its maximum (9007199254740991)";
}
// A command run by a script, refused (Redis's scriptCall; the script raises these).
inline constexpr std::string_view kScriptUnknownCommand =
    "ERR Unknown Redis command called from script";
inline constexpr std::string_view kScriptWrongArgs =
    "ERR Wrong number of args calling Redis command from script";
inline constexpr std::string_view kScriptNoScript =
    "ERR This Redis command is not allowed from script";
inline constexpr std::string_view kScriptWriteInReadOnly =
    "ERR Write commands are not allowed from read-only scripts.";

// A text without its code ("ERR foo" -> "foo"), for the Lua paths whose raiser puts "ERR " back
// (RaiseError and RaiseRedisError normalise through NormalizeError). A suffix of a constant:
// .data() of the result is still NUL-terminated, so it may go where a const char* is wanted.
constexpr std::string_view WithoutCode(std::string_view text) {
  return text.substr(text.find(' ') + 1);
}

// SCRIPT / EVAL
inline constexpr std::string_view kNoScript = "NOSCRIPT No matching script. Please use EVAL.";
inline constexpr std::string_view kWriteScriptInRoCommand =
    "ERR Can not execute a script with write flag using *_ro command.";  // EVAL_RO, FCALL_RO
inline constexpr std::string_view kNumKeysNegative = "ERR Number of keys can't be negative";
inline constexpr std::string_view kNumKeysTooMany =
    "ERR Number of keys can't be greater than number of args";
inline constexpr std::string_view kInvalidShebang = "ERR Invalid script shebang";
inline constexpr std::string_view kInvalidShebangEngine = "ERR Invalid engine in script shebang";
inline constexpr std::string_view kScriptFlushMode =
    "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
inline constexpr std::string_view kScriptDebugUnsupported =
    "ERR SCRIPT DEBUG is not supported: Keyward has no Lua debugger";
inline constexpr std::string_view kScriptDebugMode = "ERR Use SCRIPT DEBUG YES/SYNC/NO";
// SCRIPT KILL / FUNCTION KILL
inline constexpr std::string_view kNotBusy = "NOTBUSY No scripts in execution right now.";
inline constexpr std::string_view kUnkillable =
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
    "NOSAVE command.";
inline constexpr std::string_view kScriptKilled = "ERR Script killed by user with SCRIPT KILL...";

// Lua: the sandbox and the redis.* API. On a Lua error path (lua_error longjmps past C++
// destructors) pass these as they are, or through WithoutCode, never as a built std::string.
inline constexpr std::string_view kLuaNoArgs =
    "ERR Please specify at least one argument for this redis lib call";
inline constexpr std::string_view kLuaArgType =
    "ERR Lua redis lib command arguments must be strings or integers";
inline constexpr std::string_view kLuaReplyArgs = "ERR wrong number or type of arguments";
inline constexpr std::string_view kLuaWrongArgs = "ERR wrong number of arguments";
inline constexpr std::string_view kLuaLogArgs = "ERR redis.log() requires two arguments or more.";
inline constexpr std::string_view kLuaLogLevelType =
    "ERR First argument must be a number (log level).";
inline constexpr std::string_view kLuaLogLevel = "ERR Invalid debug level.";
inline constexpr std::string_view kLuaSetRespArgs = "ERR redis.setresp() requires one argument.";
inline constexpr std::string_view kLuaRespVersion = "ERR RESP version must be 2 or 3.";
// Redis's text says "two arguments" although set_repl takes one.
inline constexpr std::string_view kLuaSetReplArgs = "ERR redis.set_repl() requires two arguments.";
inline constexpr std::string_view kLuaReplFlags =
    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.";
inline constexpr std::string_view kLuaAclCheckCmd =
    "ERR Invalid command passed to redis.acl_check_cmd()";
inline constexpr std::string_view kLuaStackLimit = "ERR reached lua stack limit";
inline constexpr std::string_view kLuaUnknownError = "ERR unknown error";
// The error handler's 'ERR ' .. tostring(err) for a non-string error value.
inline constexpr std::string_view kLuaErrorNil = "ERR nil";
inline constexpr std::string_view kLuaErrorTrue = "ERR true";
inline constexpr std::string_view kLuaErrorFalse = "ERR false";
// Plain Lua errors, without a code: the position ("user_script:1: ") goes in front, and the
// error handler adds "ERR " before that.
inline constexpr std::string_view kLuaReadOnlyTable = "Attempt to modify a readonly table";
// A printf-style format (lua_pushfstring): %s is the global's name.
inline constexpr std::string_view kLuaNonexistentGlobalFormat =
    "Script attempted to access nonexistent global variable '%s'";
inline constexpr std::string_view kLuaIntervalEmpty = "interval is empty";  // math.random

// FUNCTION / FCALL
inline constexpr std::string_view kFunctionNotFound = "ERR Function not found";
inline constexpr std::string_view kLibraryNotFound = "ERR Library not found";
inline constexpr std::string_view kFcallBadNumKeys = "ERR Bad number of keys provided";
inline constexpr std::string_view kFunctionFlushMode =
    "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
inline constexpr std::string_view kLibraryNameArgMissing =
    "ERR library name argument was not given";
inline constexpr std::string_view kRestorePolicy =
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
inline constexpr std::string_view kMissingLibraryMetadata = "ERR Missing library metadata";
inline constexpr std::string_view kLibraryNameMissing = "ERR Library name was not given";
inline constexpr std::string_view kInvalidLibraryName =
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least "
    "one character long";
inline constexpr std::string_view kNoFunctionsRegistered = "ERR No functions registered";
inline constexpr std::string_view kBadPayload = "ERR DUMP payload version or checksum are wrong";
inline constexpr std::string_view kPreGaFunctionFormat = "ERR Pre-GA function format not supported";
inline constexpr std::string_view kNotAFunction = "ERR given type is not a function";
inline constexpr std::string_view kFunctionPayloadLoad =
    "ERR failed loading the given functions payload";
// The start of LibraryExists (FUNCTION RESTORE recognises that text by it).
inline constexpr std::string_view kLibraryExistsPrefix = "ERR Library '";
// redis.register_function, raised through RaiseError (pass WithoutCode of these).
inline constexpr std::string_view kRegisterOutsideLoad =
    "ERR redis.register_function can only be called on FUNCTION LOAD command";
inline constexpr std::string_view kRegisterUnknownFlag = "ERR unknown flag given";
inline constexpr std::string_view kRegisterUnknownArg =
    "ERR unknown argument given to redis.register_function";
inline constexpr std::string_view kRegisterNoName =
    "ERR redis.register_function must get a function name argument";
inline constexpr std::string_view kRegisterNoCallback =
    "ERR redis.register_function must get a callback argument";
inline constexpr std::string_view kRegisterNameType =
    "ERR first argument to redis.register_function must be a string";
inline constexpr std::string_view kRegisterCallbackType =
    "ERR second argument to redis.register_function must be a function";
inline constexpr std::string_view kRegisterArgCount =
    "ERR wrong number of arguments to redis.register_function";
inline constexpr std::string_view kFunctionExistsInLibrary =
    "ERR Function already exists in the library";

// CLIENT
inline constexpr std::string_view kInvalidClientId = "ERR Invalid client ID";
inline constexpr std::string_view kClientIdNotPositive = "ERR client-id should be greater than 0";
inline constexpr std::string_view kClientPauseMode = "ERR CLIENT PAUSE mode must be WRITE or ALL";
inline constexpr std::string_view kClientUnblockReason =
    "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";

// HELLO
inline constexpr std::string_view kHelloNoAuth =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
    "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
    "version at the same time";

// COMMAND
inline constexpr std::string_view kInvalidCommand = "ERR Invalid command specified";
inline constexpr std::string_view kInvalidCommandArgs =
    "ERR Invalid number of arguments specified for command";
inline constexpr std::string_view kNoKeyArguments = "ERR The command has no key arguments";

// SHUTDOWN, SLOWLOG
inline constexpr std::string_view kNoShutdownInProgress = "ERR No shutdown in progress.";
inline constexpr std::string_view kShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";
inline constexpr std::string_view kBgsaveInProgress = "ERR Background save already in progress";
inline constexpr std::string_view kSlowlogCount = "ERR count should be greater than or equal to -1";

// CONFIG
inline constexpr std::string_view kNoConfigFile = "ERR The server is running without a config file";
// The reasons ConfigSetFailed gives for an option CONFIG SET refuses outright.
inline constexpr std::string_view kConfigImmutable = "can't set immutable config";
inline constexpr std::string_view kConfigProtected = "can't set protected config";
inline constexpr std::string_view kConfigDuplicate = "duplicate parameter";

// LOCK.GUARD asked to run something that is not a plain write.
inline std::string GuardNotAWrite(std::string_view full_name) {
  return "ERR LOCK.GUARD can only run write commands, '" + std::string(full_name) +
         "' is not one it runs";
}

// "ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", ..."
std::string ProtectedCommand(std::string_view command, std::string_view option);

// "ERR wrong number of arguments for 'get' command"
inline std::string WrongArgs(std::string_view full_name) {
  return "ERR wrong number of arguments for '" + std::string(full_name) + "' command";
}

// "ERR unknown subcommand 'foo'. Try CONFIG HELP."
std::string UnknownSubcommand(std::string_view container, std::string_view sub);

// "ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP." (Redis's
// addReplySubcommandSyntaxError: a known subcommand with the wrong number of arguments)
std::string SubcommandSyntax(std::string_view container, std::string_view sub);

// A RESP2 connection in subscribed mode running anything but the pub/sub commands.
std::string NotAllowedWhileSubscribed(std::string_view full_name);

// "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t nargs);

// "ERR Unsupported option foo" (EXPIRE and friends)
inline std::string UnsupportedOption(std::string_view option) {
  return "ERR Unsupported option " + std::string(option);
}

inline std::string InvalidExpireTime(std::string_view cmd) {
  return "ERR invalid expire time in '" + std::string(cmd) + "' command";
}

// SCRIPT / EVAL
inline std::string UnexpectedShebangEngine(std::string_view engine) {
  return "ERR Unexpected engine in script shebang: " + std::string(engine);
}
inline std::string UnknownShebangOption(std::string_view option) {
  return "ERR Unknown lua shebang option: " + std::string(option);
}
inline std::string UnexpectedShebangFlag(std::string_view flag) {
  return "ERR Unexpected flag in script shebang: " + std::string(flag);
}
// `lua_message` is Lua's own compile error.
inline std::string ScriptCompileFailed(std::string_view lua_message) {
  return "ERR Error compiling script (new function): " + std::string(lua_message);
}
// A script's error as Redis reports it: "<err> script: <name>, on <source>:<line>.". `err` keeps
// the code it has (none is added), so the caller writes it raw rather than through SendError.
std::string ScriptErrorAt(std::string_view err, std::string_view name, std::string_view source,
                          long line);
// A script's error that has no position to give (out of memory, an error in the error handler).
std::string ScriptRunFailed(std::string_view name, std::string_view message);

// FUNCTION
inline std::string FunctionUnknownOption(std::string_view option) {
  return "ERR Unknown option given: " + std::string(option);
}
inline std::string FunctionUnknownArgument(std::string_view argument) {
  return "ERR Unknown argument " + std::string(argument);
}
std::string EngineNotFound(std::string_view engine);
inline std::string InvalidMetadata(std::string_view option) {
  return "ERR Invalid metadata value given: " + std::string(option);
}
// "ERR Library 'name' already exists" (FUNCTION LOAD without REPLACE)
std::string LibraryExists(std::string_view name);
// "ERR Library name already exists": FUNCTION RESTORE APPEND (Redis's libraryJoin, no quotes)
std::string LibraryExistsUnquoted(std::string_view name);
std::string FunctionExists(std::string_view name);
inline std::string FunctionCompileFailed(std::string_view lua_message) {
  return "ERR Error compiling function: " + std::string(lua_message);
}
inline std::string FunctionRegisterFailed(std::string_view message) {
  return "ERR Error registering functions: " + std::string(message);
}

// CLIENT
std::string UnknownClientType(std::string_view type);
std::string NoSuchUser(std::string_view user);

// HELLO
std::string HelloSyntax(std::string_view option);

// ACL (server/acl/, commands/acl_family.cc)
inline constexpr std::string_view kAclUsernameSpaces =
    "ERR Usernames can't contain spaces or null characters";
inline constexpr std::string_view kAclDefaultUserUndeletable =
    "ERR The 'default' user cannot be removed";
inline constexpr std::string_view kAclNoFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users "
    "via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
    "configuration file set) in order to store users in the Redis configuration.";
inline constexpr std::string_view kAclSaveFailed =
    "ERR There was an error trying to save the ACLs. Please check the server logs for more "
    "information";
inline constexpr std::string_view kAclGenpassBits =
    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
    "number up to 4096";
inline std::string AclUnmatchedParenthesis(std::string_view arg) {
  return "ERR Unmatched parenthesis in acl selector starting at '" + std::string(arg) + "'.";
}
inline std::string AclUnknownCategory(std::string_view name) {
  return "ERR Unknown category '" + std::string(name.substr(0, 128)) + "'";
}
inline std::string AclUserNotFound(std::string_view name) {
  return "ERR User '" + std::string(name) + "' not found";
}
inline std::string AclCommandNotFound(std::string_view name) {
  return "ERR Command '" + std::string(name) + "' not found";
}
inline std::string AclSetUserRule(std::string_view rule, std::string_view reason) {
  return "ERR Error in ACL SETUSER modifier '" + std::string(rule) + "': " + std::string(reason);
}
// A command refused by the ACL, as each caller words it (processCommand, scriptVerifyACL,
// execCommand).
inline std::string NoPermCommand(std::string_view full_name) {
  return "NOPERM this user has no permissions to run the '" + std::string(full_name) + "' command";
}
inline constexpr std::string_view kNoPermKey =
    "NOPERM this user has no permissions to access one of the keys used as arguments";
inline constexpr std::string_view kNoPermChannel =
    "NOPERM this user has no permissions to access one of the channels used as arguments";
inline constexpr std::string_view kScriptAclPrefix = "ERR The user executing the script ";
inline constexpr std::string_view kExecAclPrefix =
    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
    "call. This command is no longer allowed for the following reason: ";
inline constexpr std::string_view kSortByDenied =
    "ERR BY option of SORT denied due to insufficient ACL permissions.";
inline constexpr std::string_view kSortGetDenied =
    "ERR GET option of SORT denied due to insufficient ACL permissions.";

// CONFIG
std::string UnknownConfigOption(std::string_view name);
// "ERR CONFIG SET failed (possibly related to argument 'name') - reason"
std::string ConfigSetFailed(std::string_view name, std::string_view reason);
inline std::string ConfigRewriteFailed(std::string_view reason) {
  return "ERR Rewriting config file: " + std::string(reason);
}

// A protocol error: `detail` is the request parser's text ("Protocol error: ...").
inline std::string Protocol(std::string_view detail) { return "ERR " + std::string(detail); }

}  // namespace keyward::errors
