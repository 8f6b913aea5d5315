#include "server/core/errors.h"

#include "server/core/strings.h"

namespace keyward::errors {

std::string UnknownSubcommand(std::string_view container, std::string_view sub) {
  return "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " +
         ToUpper(container) + " HELP.";
}

std::string SubcommandSyntax(std::string_view container, std::string_view sub) {
  return "ERR unknown subcommand or wrong number of arguments for '" +
         std::string(sub.substr(0, 128)) + "'. Try " + ToUpper(container) + " HELP.";
}

std::string NotAllowedWhileSubscribed(std::string_view full_name) {
  // Appended piece by piece: g++ 12 at -O3 warns (-Wrestrict, a known false positive) on the
  // "literal" + std::string + "literal" form here.
  std::string out = "ERR Can't execute '";
  out.append(full_name);
  out.append(
      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
      "context");
  return out;
}

namespace {

// Redis formats these texts with printf's %s, which stops at a NUL byte.
std::string_view UpToNul(std::string_view s) { return s.substr(0, s.find('\0')); }

}  // namespace

std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t nargs) {
  name = UpToNul(name);
  // Redis lists the arguments, quoted, until the list reaches 128 bytes.
  std::string list;
  for (size_t i = 0; i < nargs && list.size() < 128; i++) {
    size_t room = 128 - list.size();
    list += '\'';
    list += UpToNul(args[i]).substr(0, room);
    list += "' ";
  }
  std::string text = "ERR unknown command '";
  text += name.substr(0, 128);
  text += "', with args beginning with: ";
  text += list;
  return text;
}

std::string ProtectedCommand(std::string_view command, std::string_view option) {
  return "ERR " + std::string(command) + " command not allowed. If the " + std::string(option) +
         " option is set to \"local\", you can run it from a local connection, otherwise you "
         "need to set this option in the configuration file, and then restart the server.";
}

std::string ScriptErrorAt(std::string_view err, std::string_view name, std::string_view source,
                          long line) {
  std::string out(err);
  out.append(" script: ");
  out.append(name);
  out.append(", on ");
  out.append(source);
  out.append(":");
  out.append(std::to_string(line));
  out.append(".");
  return out;
}

std::string ScriptRunFailed(std::string_view name, std::string_view message) {
  std::string out = "ERR Error running script ";
  out.append(name);
  out.append(": ");
  out.append(message);
  return out;
}

std::string EngineNotFound(std::string_view engine) {
  std::string out = "ERR Engine '";
  out.append(engine);
  out.append("' not found");
  return out;
}

std::string LibraryExists(std::string_view name) {
  std::string out(kLibraryExistsPrefix);
  out.append(name);
  out.append("' already exists");
  return out;
}

std::string LibraryExistsUnquoted(std::string_view name) {
  std::string out = "ERR Library ";
  out.append(name);
  out.append(" already exists");
  return out;
}

std::string FunctionExists(std::string_view name) {
  std::string out = "ERR Function ";
  out.append(name);
  out.append(" already exists");
  return out;
}

std::string UnknownClientType(std::string_view type) {
  std::string out = "ERR Unknown client type '";
  out.append(type);
  out.append("'");
  return out;
}

std::string NoSuchUser(std::string_view user) {
  std::string out = "ERR No such user '";
  out.append(user);
  out.append("'");
  return out;
}

std::string HelloSyntax(std::string_view option) {
  std::string out = "ERR Syntax error in HELLO option '";
  out.append(option);
  out.append("'");
  return out;
}

std::string UnknownConfigOption(std::string_view name) {
  std::string out = "ERR Unknown option or number of arguments for CONFIG SET - '";
  out.append(name);
  out.append("'");
  return out;
}

std::string ConfigSetFailed(std::string_view name, std::string_view reason) {
  std::string out = "ERR CONFIG SET failed (possibly related to argument '";
  out.append(name);
  out.append("') - ");
  out.append(reason);
  return out;
}

}  // namespace keyward::errors
