// Scripting in-process: EVAL/EVALSHA/SCRIPT and FUNCTION/FCALL through the real gatekeeper,
// conversions, the sandbox, script checks, effects propagation and keyspace notifications.
// Byte-level agreement with Redis 7.0 is checked by tests/differential/test_scripting.py.
#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

class ScriptingFamilyTest : public CommandTest {};

TEST_F(ScriptingFamilyTest, EvalSeesKeysAndArgv) {
  EXPECT_EQ(Run({"eval", "return {KEYS[1], ARGV[1], #KEYS, #ARGV}", "1", "k", "a"}).strings(),
            (std::vector<std::string>{"k", "a", "1", "1"}));
}

TEST_F(ScriptingFamilyTest, ConversionsLuaToReply) {
  EXPECT_EQ(RunRaw({"eval", "return 3.99", "0"}), ":3\r\n");
  EXPECT_EQ(RunRaw({"eval", "return 'x'", "0"}), "$1\r\nx\r\n");
  EXPECT_EQ(RunRaw({"eval", "return true", "0"}), ":1\r\n");
  EXPECT_EQ(RunRaw({"eval", "return false", "0"}), "$-1\r\n");
  EXPECT_EQ(RunRaw({"eval", "return nil", "0"}), "$-1\r\n");
  // Arrays stop at the first nil; false inside becomes a null.
  EXPECT_EQ(RunRaw({"eval", "return {1, false, 'a', nil, 5}", "0"}),
            "*3\r\n:1\r\n$-1\r\n$1\r\na\r\n");
  EXPECT_EQ(RunRaw({"eval", "return {err='My Error'}", "0"}), "-My Error\r\n");
  EXPECT_EQ(RunRaw({"eval", "return {ok='Fine'}", "0"}), "+Fine\r\n");
  EXPECT_EQ(RunRaw({"eval", "return redis.error_reply('-abc')", "0"}), "-ERR abc\r\n");
  // RESP3 forms reach a RESP2 caller in their RESP2 shape.
  EXPECT_EQ(RunRaw({"eval", "return {double=1.5}", "0"}), "$3\r\n1.5\r\n");
  EXPECT_EQ(RunRaw({"eval", "return {map={a=1}}", "0"}), "*2\r\n$1\r\na\r\n:1\r\n");
}

TEST_F(ScriptingFamilyTest, ConversionsReplyToLua) {
  Run({"set", "s", "v"});
  EXPECT_EQ(RunRaw({"eval", "return type(redis.call('get', 'nokey'))", "0"}), "$7\r\nboolean\r\n");
  EXPECT_EQ(RunRaw({"eval", "return redis.call('set', 'k', 'v').ok", "0"}), "$2\r\nOK\r\n");
  EXPECT_EQ(RunRaw({"eval", "return redis.pcall('incr', 's').err", "0"}),
            "$43\r\nERR value is not an integer or out of range\r\n");
  // Under RESP3 a missing key is nil, not false.
  EXPECT_EQ(RunRaw({"eval", "redis.setresp(3); return type(redis.call('get', 'nokey'))", "0"}),
            "$3\r\nnil\r\n");
}

TEST_F(ScriptingFamilyTest, ErrorsCarryTheScriptAndLine) {
  const std::string body = "local a = 1\nerror('boom')";
  std::string sha = Run({"script", "load", body}).str;
  EXPECT_EQ(RunRaw({"eval", body, "0"}),
            "-ERR user_script:2: boom script: " + sha + ", on @user_script:2.\r\n");
  EXPECT_EQ(RunRaw({"eval", "return redis.call('nosuch')", "0"}).substr(0, 53),
            "-ERR Unknown Redis command called from script script:");
  EXPECT_EQ(RunRaw({"eval", "return 1 +", "0"}),
            "-ERR Error compiling script (new function): user_script:1: unexpected symbol near "
            "'<eof>'\r\n");
}

TEST_F(ScriptingFamilyTest, SandboxIsReadOnly) {
  EXPECT_NE(RunRaw({"eval", "x = 1", "0"}).find("Attempt to modify a readonly table"),
            std::string::npos);
  EXPECT_NE(RunRaw({"eval", "string.upper = nil", "0"}).find("Attempt to modify a readonly table"),
            std::string::npos);
  EXPECT_NE(RunRaw({"eval", "return loadstring('y = 2')()", "0"})
                .find("Attempt to modify a readonly table"),
            std::string::npos);
  for (const char* name : {"os", "io", "debug", "require", "loadfile", "dofile", "print"}) {
    EXPECT_NE(RunRaw({"eval", std::string("return ") + name, "0"})
                  .find("Script attempted to access nonexistent global variable '" +
                        std::string(name) + "'"),
              std::string::npos)
        << name;
  }
  // One script cannot break the next one.
  RunRaw({"eval", "redis.call = nil", "0"});
  EXPECT_EQ(RunRaw({"eval", "return redis.call('ping').ok", "0"}), "$4\r\nPONG\r\n");
}

TEST_F(ScriptingFamilyTest, ScriptChecks) {
  EXPECT_EQ(RunRaw({"eval", "return redis.pcall('eval', 'return 1', '0').err", "0"}),
            "$49\r\nERR This Redis command is not allowed from script\r\n");
  EXPECT_EQ(RunRaw({"eval_ro", "return redis.pcall('set', 'k', 'v').err", "0"}),
            "$58\r\nERR Write commands are not allowed from read-only scripts.\r\n");
  EXPECT_EQ(RunRaw({"eval", "#!lua flags=no-writes\nreturn redis.pcall('set', 'k', 'v').err", "0"}),
            "$58\r\nERR Write commands are not allowed from read-only scripts.\r\n");
  EXPECT_TRUE(Run({"get", "k"}).is_null());
  EXPECT_EQ(RunRaw({"eval", "return 1", "-1"}), "-ERR Number of keys can't be negative\r\n");
  EXPECT_EQ(RunRaw({"eval", "return 1", "2", "a"}),
            "-ERR Number of keys can't be greater than number of args\r\n");
}

TEST_F(ScriptingFamilyTest, ScriptCache) {
  std::string sha = Run({"script", "load", "return 'cached'"}).str;
  EXPECT_EQ(sha.size(), 40u);
  EXPECT_EQ(Run({"evalsha", sha, "0"}).str, "cached");
  // SHA1s are matched case-insensitively.
  std::string upper = sha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Run({"script", "exists", upper, "0000"}).strings(),
            (std::vector<std::string>{"1", "0"}));
  EXPECT_EQ(Run({"script", "flush"}).str, "OK");
  EXPECT_EQ(RunRaw({"evalsha", sha, "0"}), "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  // EVAL caches what it runs.
  Run({"eval", "return 'again'", "0"});
  EXPECT_EQ(Run({"script", "exists",
                 Run({"eval", "return redis.sha1hex('return \\'again\\'')", "0"}).str})
                .strings(),
            (std::vector<std::string>{"1"}));
}

TEST_F(ScriptingFamilyTest, RedlockReleaseScript) {
  const std::string release =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else "
      "return 0 end";
  Run({"set", "lock", "owner-1", "px", "10000"});
  EXPECT_EQ(Run({"eval", release, "1", "lock", "owner-2"}).integer, 0);
  EXPECT_EQ(Run({"get", "lock"}).str, "owner-1");
  EXPECT_EQ(Run({"eval", release, "1", "lock", "owner-1"}).integer, 1);
  EXPECT_TRUE(Run({"get", "lock"}).is_null());
}

TEST_F(ScriptingFamilyTest, EffectsArePropagatedNotTheScript) {
  Run({"eval", "redis.call('set', 'a', '1'); redis.call('incr', 'a'); return 1", "0"});
  Run({"eval", "return redis.call('get', 'a')", "0"});  // reads propagate nothing
  Run({"eval", "redis.call('set', 'b', '1')", "0"});    // one write: no transaction
  Run({"eval", "redis.set_repl(redis.REPL_NONE); redis.call('set', 'c', '1')", "0"});
  std::vector<std::string> lines;
  for (const auto& argv : TakePropagated()) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    lines.push_back(line);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"MULTI", "set a 1", "incr a", "EXEC", "set b 1"}));
  EXPECT_EQ(Run({"get", "c"}).str, "1");  // REPL_NONE still runs the command
  SkipReplayCheck("REPL_NONE keeps a write out of the stream on purpose");
}

TEST_F(ScriptingFamilyTest, CommandsInScriptsFireKeyspaceEvents) {
  Run({"config", "set", "notify-keyspace-events", "E$"});
  RunRaw({"subscribe", "__keyevent@0__:set"}, "sub");
  Run({"eval", "redis.call('set', KEYS[1], 'v')", "1", "from-script"});
  EXPECT_NE(Send("", "sub").find("from-script"), std::string::npos);
}

TEST_F(ScriptingFamilyTest, FunctionsLoadCallListDelete) {
  const std::string library =
      "#!lua name=locks\n"
      "redis.register_function('release', function(keys, args)\n"
      "  if redis.call('get', keys[1]) == args[1] then return redis.call('del', keys[1]) end\n"
      "  return 0\n"
      "end)\n"
      "redis.register_function{function_name='holder', callback=function(keys)\n"
      "  return redis.call('get', keys[1]) end, flags={'no-writes'}, description='who holds'}\n";
  EXPECT_EQ(Run({"function", "load", library}).str, "locks");
  EXPECT_EQ(RunRaw({"function", "load", library}), "-ERR Library 'locks' already exists\r\n");
  EXPECT_EQ(Run({"function", "load", "replace", library}).str, "locks");
  Run({"set", "lock", "me"});
  EXPECT_EQ(Run({"fcall_ro", "holder", "1", "lock"}).str, "me");
  EXPECT_EQ(RunRaw({"fcall_ro", "release", "1", "lock", "me"}),
            "-ERR Can not execute a script with write flag using *_ro command.\r\n");
  EXPECT_EQ(Run({"fcall", "release", "1", "lock", "me"}).integer, 1);
  auto list = Run({"function", "list", "withcode"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].strings()[1], "locks");
  EXPECT_EQ(Run({"function", "stats"}).strings().size(), 4u);
  EXPECT_EQ(Run({"function", "delete", "locks"}).str, "OK");
  EXPECT_EQ(RunRaw({"fcall", "release", "0"}), "-ERR Function not found\r\n");
}

TEST_F(ScriptingFamilyTest, FailedLibraryLoadChangesNothing) {
  Run({"function", "load",
       "#!lua name=lib\nredis.register_function('f', function() return 1 end)"});
  EXPECT_EQ(RunRaw({"function", "load", "replace",
                    "#!lua name=lib\nredis.register_function('g', function() end)\nerror('x')"}),
            "-ERR Error registering functions: ERR user_function:3: Script attempted to access "
            "nonexistent global variable 'error'\r\n");
  EXPECT_EQ(Run({"fcall", "f", "0"}).integer, 1);
  EXPECT_EQ(RunRaw({"function", "load", "#!lua name=x\nlocal a = 1"}),
            "-ERR No functions registered\r\n");
}

TEST_F(ScriptingFamilyTest, FunctionDumpAndRestore) {
  Run({"function", "load",
       "#!lua name=a\nredis.register_function('fa', function() return 'a' end)"});
  Run({"function", "load",
       "#!lua name=b\nredis.register_function('fb', function() return 'b' end)"});
  const std::string payload = Run({"function", "dump"}).str;
  Run({"function", "flush"});
  EXPECT_EQ(Run({"function", "restore", payload}).str, "OK");
  EXPECT_EQ(Run({"fcall", "fa", "0"}).str, "a");
  EXPECT_EQ(Run({"fcall", "fb", "0"}).str, "b");
  // APPEND refuses what exists, and changes nothing; REPLACE and FLUSH succeed.
  EXPECT_EQ(RunRaw({"function", "restore", payload}), "-ERR Library a already exists\r\n");
  EXPECT_EQ(Run({"function", "restore", payload, "replace"}).str, "OK");
  EXPECT_EQ(Run({"function", "restore", payload, "flush"}).str, "OK");
  const std::string stats = RunRaw({"function", "stats"});
  EXPECT_NE(stats.find("$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n"),
            std::string::npos)
      << stats;
  std::string corrupted = payload;
  corrupted[3] ^= 1;
  EXPECT_EQ(RunRaw({"function", "restore", corrupted}),
            "-ERR DUMP payload version or checksum are wrong\r\n");
}

TEST_F(ScriptingFamilyTest, FunctionErrorsNameTheFunction) {
  Run({"function", "load",
       "#!lua name=lib\nredis.register_function('fails', function() error('inner') end)"});
  EXPECT_EQ(RunRaw({"fcall", "fails", "0"}),
            "-ERR user_function:2: inner script: fails, on @user_function:2.\r\n");
}

}  // namespace
}  // namespace keyward::test
