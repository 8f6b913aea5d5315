#include "server/engine/keyspace_events.h"

#include "server/core/notify.h"

namespace keyward {

void KeyspaceEvents::OnExpired(Database& db, std::string_view key) {
  notifier_.Notify(notify::kExpired, "expired", key, db.index());
  // Replicas and the AOF delete the key when the master does, so they never disagree about it;
  // UNLINK when it was freed lazily (lazyfree-lazy-expire), as Redis propagates it.
  propagation_.Delete(db.index(), key, settings_.lazyfree_lazy_expire);
  for (KeyRemovalObserver* o : observers_) o->OnKeyExpired(db.index(), key);
}

void KeyspaceEvents::OnKeyAdded(Database& db, std::string_view key) {
  notifier_.Notify(notify::kNew, "new", key, db.index());
  blocking_.SignalKeyReady(db.index(), key);
}

void KeyspaceEvents::OnKeyMiss(Database& db, std::string_view key) {
  notifier_.Notify(notify::kKeyMiss, "keymiss", key, db.index());
}

void KeyspaceEvents::OnKeyRemoved(Database& db, std::string_view key) {
  // However the key went (DEL, expiry, RENAME, MOVE), the transactions watching it fail, except
  // those that watched it already expired (transactions.h).
  transactions_.Touch(db, key);
  // Clients caching the key hear that it went.
  tracking_.InvalidateKey(key);
  blocking_.SignalKeyReady(db.index(), key);
  for (KeyRemovalObserver* o : observers_) o->OnKeyRemoved(db.index(), key);
}

void KeyspaceEvents::OnDatabaseResetting(Database& db, Database* replaced_with) {
  transactions_.TouchDatabase(db, replaced_with);
}

void KeyspaceEvents::OnDatabaseReset(Database& db) {
  blocking_.SignalDatabaseReady(db.index());
  for (KeyRemovalObserver* o : observers_) o->OnDatabaseReset(db.index());
}

}  // namespace keyward
