// Owner tokens: the value a lock key holds, unique to one acquisition, so that release and
// extension succeed only for the holder that took the lock.
#pragma once

#include <string>

namespace keyward::redlock {

// 20 bytes from OpenSSL's RAND_bytes (a cryptographic source: a token must not be guessable by
// another client that could then release a lock it does not hold), as 40 lowercase hex digits.
// Throws std::runtime_error if the random generator fails (it cannot be seeded).
std::string NewOwnerToken();

}  // namespace keyward::redlock
