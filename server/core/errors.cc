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
  return "ERR " + std::string(command) +
         " command not allowed. If the " + std::string(option) +
         " option is set to \"local\", you can run it from a local connection, otherwise you "
         "need to set this option in the configuration file, and then restart the server.";
}

}  // namespace keyward::errors
