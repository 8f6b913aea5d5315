// What the keyspace reports (keyspace/database.h's KeyspaceListener), turned into the server's
// reactions: keyspace notifications (expired, new, keymiss), the propagated DEL of a key that
// expired, WATCHed keys touched, waiters told that a key may be ready, and observers above the
// engine (the lock manager's lock events) told that a key went away.
#pragma once

#include <string_view>
#include <vector>

#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/notifier.h"
#include "server/engine/propagation.h"
#include "server/engine/tracking.h"
#include "server/engine/transactions.h"
#include "server/keyspace/database.h"

namespace keyward {

// Told when a key leaves a database (any way) or a database is emptied or swapped.
class KeyRemovalObserver {
 public:
  virtual ~KeyRemovalObserver() = default;
  virtual void OnKeyRemoved(int db, std::string_view key) = 0;
  // The key was removed because it expired (after OnKeyRemoved).
  virtual void OnKeyExpired(int db, std::string_view key) {}
  virtual void OnDatabaseReset(int db) {}
};

class KeyspaceEvents : public KeyspaceListener {
 public:
  KeyspaceEvents(const ServerSettings& settings, KeyspaceNotifier& notifier,
                 Propagation& propagation, BlockingRegistry& blocking, Transactions& transactions,
                 Tracking& tracking)
      : settings_(settings),
        notifier_(notifier),
        propagation_(propagation),
        blocking_(blocking),
        transactions_(transactions),
        tracking_(tracking) {}

  void AddObserver(KeyRemovalObserver* observer) { observers_.push_back(observer); }

  void OnExpired(Database& db, std::string_view key) override;
  void OnKeyAdded(Database& db, std::string_view key) override;
  void OnKeyMiss(Database& db, std::string_view key) override;
  void OnKeyRemoved(Database& db, std::string_view key) override;
  void OnDatabaseResetting(Database& db, Database* replaced_with) override;
  void OnDatabaseReset(Database& db) override;

 private:
  const ServerSettings& settings_;
  KeyspaceNotifier& notifier_;
  Propagation& propagation_;
  BlockingRegistry& blocking_;
  Transactions& transactions_;
  Tracking& tracking_;
  std::vector<KeyRemovalObserver*> observers_;
};

}  // namespace keyward
