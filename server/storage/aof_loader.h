// Replaying one file of an AOF (Redis 7.0's loadSingleAppendOnlyFile): an RDB part first when the
// file starts with "REDIS" (an RDB base, or an old-style file with an RDB preamble), then commands
// in RESP multibulk form, "#..." annotation lines (timestamps) skipped.
//
// A file that ends in the middle of a command, or inside MULTI without its EXEC, is truncated:
// what came before `valid_up_to` is loaded, the rest is not (what was between MULTI and the end
// is never applied: the loader hands a transaction over only at its EXEC). A byte that cannot
// start a command or an argument is a format error; nothing after it is loaded.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/engine/command.h"

namespace keyward {

struct AofReplayHandlers {
  // Applies one command (MULTI and EXEC included, around the commands of a transaction); the
  // error text when it cannot be (an unknown command).
  std::function<std::optional<std::string>(CmdArgs args)> apply;
  // Whether a command exists: checked when a command is queued inside MULTI, as Redis looks
  // every command up when it reads it (an unknown one fails the load even in a transaction
  // that never ends).
  std::function<bool(CmdArgs args)> known;
  // Loads the RDB part at the start of `data`: the bytes it used, or the error.
  std::function<std::optional<std::string>(std::string_view data, size_t* used)> load_rdb;
  // An annotation line ("#..." without its CRLF), otherwise skipped.
  std::function<void(std::string_view line)> annotation;
  // Called every 1024 commands with the bytes read so far (clients are served -LOADING).
  std::function<void(size_t loaded)> progress;
};

struct AofReplayResult {
  enum Status { kOk, kEmpty, kTruncated, kFailed };
  Status status = kOk;
  size_t valid_up_to = 0;  // kTruncated: the end of the last complete command outside MULTI
  std::string error;       // kFailed, kTruncated: what to log
  size_t commands = 0;
};

AofReplayResult ReplayAof(std::string_view data, const std::string& name,
                          const AofReplayHandlers& handlers);

}  // namespace keyward
