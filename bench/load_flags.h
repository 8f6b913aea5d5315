// "--name value" command-line flags for the load generators (client_load, pubsub_load): one
// table of names and targets instead of an if-chain per tool. Header-only, no dependencies.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace keyward::bench {

struct Flag {
  std::string_view name;  // "--depth"
  std::variant<std::string*, int*, long*> target;
};

// Prints `usage` and exits with status 2 (a bad command line).
[[noreturn]] inline void Usage(const char* usage) {
  std::fputs(usage, stderr);
  std::exit(2);
}

// Fills the targets from argv; Usage() on an unknown flag or a flag without its value.
inline void ParseFlags(int argc, char** argv, std::initializer_list<Flag> flags,
                       const char* usage) {
  auto fail = [usage] { Usage(usage); };
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) fail();
    const char* value = argv[++i];
    const Flag* found = nullptr;
    for (const Flag& f : flags) {
      if (f.name == name) found = &f;
    }
    if (found == nullptr) fail();
    std::visit(
        [value](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, std::string>) {
            *target = value;
          } else if constexpr (std::is_same_v<T, int>) {
            *target = std::atoi(value);
          } else {
            *target = std::atol(value);
          }
        },
        found->target);
  }
}

}  // namespace keyward::bench
