#include "keyward/redlock/renewal.h"

#include <algorithm>

namespace keyward::redlock {

LeaseSchedule::LeaseSchedule(Millis ttl, Clock::time_point acquired, Clock::time_point valid_until,
                             LeaseLimits limits)
    : ttl_(ttl), acquired_(acquired), valid_until_(valid_until), limits_(limits) {
  period_ = limits_.renew_every.count() > 0 ? Clock::duration(limits_.renew_every)
                                            : Clock::duration(ttl_) / 3;
  // A period past half the TTL would let the validity run out between two renewals.
  period_ = std::min(period_, Clock::duration(ttl_) / 2);
  retry_after_ = std::clamp<Clock::duration>(Clock::duration(ttl_) / 10, Millis(1), Millis(1000));
  next_renewal_ = acquired_ + period_;
}

LeaseSchedule::Step LeaseSchedule::Lose(Error reason) {
  if (!loss_) loss_ = std::move(reason);
  Step step;
  step.kind = Step::Kind::kLost;
  step.reason = loss_;
  return step;
}

bool LeaseSchedule::RenewalAllowedAt(Clock::time_point t) const {
  if (limits_.max_renewals > 0 && renewals_ >= limits_.max_renewals) return false;
  return limits_.max_duration.count() <= 0 || t < acquired_ + limits_.max_duration;
}

Millis LeaseSchedule::RenewalTtl(Clock::time_point now) const {
  if (limits_.max_renewals > 0 && renewals_ >= limits_.max_renewals) return Millis(0);
  Millis ttl = ttl_;
  if (limits_.max_duration.count() > 0) {
    const Clock::time_point end = acquired_ + limits_.max_duration;
    if (now >= end) return Millis(0);
    ttl = std::min(ttl, FloorMillis(end - now));
    // A renewal that would not move the validity's end forward is pointless.
    if (ttl.count() <= 0 || ValidUntil(now, ttl) <= valid_until_) return Millis(0);
  }
  return ttl;
}

LeaseSchedule::Step LeaseSchedule::Next(Clock::time_point now) {
  if (loss_) return Lose(loss_);
  if (now >= valid_until_) {
    if (exhausted_) {
      const std::string limit =
          limits_.max_renewals > 0 && renewals_ >= limits_.max_renewals
              ? "its limit of " + std::to_string(limits_.max_renewals) + " renewals"
              : "its maximum duration of " + std::to_string(limits_.max_duration.count()) + " ms";
      return Lose(Error(LockError::kLeaseLost, "the lease ended: it reached " + limit));
    }
    std::string why = "the validity ran out before a majority renewed the lease";
    if (failures_ > 0) {
      why += " (" + std::to_string(failures_) +
             " failed renewals; last: " + last_failure_.message() + ")";
    }
    return Lose(Error(LockError::kLeaseLost, why));
  }
  Step step;
  step.kind = Step::Kind::kWait;
  if (!exhausted_ && now < next_renewal_ && !RenewalAllowedAt(next_renewal_)) {
    exhausted_ = true;  // the next renewal would fall past the bounds
  }
  if (exhausted_ || now < next_renewal_) {
    step.at = exhausted_ ? valid_until_ : std::min(next_renewal_, valid_until_);
    return step;
  }
  const Millis ttl = RenewalTtl(now);
  if (ttl.count() == 0) {
    // No more renewals: the lease ends with its validity.
    exhausted_ = true;
    step.at = valid_until_;
    return step;
  }
  step.kind = Step::Kind::kRenew;
  step.ttl = ttl;
  step.deadline = valid_until_;
  return step;
}

LeaseSchedule::Outcome LeaseSchedule::OnRound(Clock::time_point started, Clock::time_point now,
                                              Millis ttl, const RenewalTally& tally) {
  if (loss_) return Outcome::kLost;
  const size_t majority = Majority(tally.instances);
  const std::string counts = "renewed on " + std::to_string(tally.granted) +
                             ", gone or held by another owner on " + std::to_string(tally.refused) +
                             " of " + std::to_string(tally.instances) + " instances" +
                             (tally.detail.empty() ? "" : " (" + tally.detail + ")");
  if (now >= valid_until_) {
    // Even a majority of grants proves nothing once the validity is gone: another owner may have
    // held the lock in between.
    Lose(Error(LockError::kLeaseLost,
               "the validity ran out before a majority renewed the lease: " + counts));
    return Outcome::kLost;
  }
  if (tally.granted >= majority) {
    ++renewals_;
    failures_ = 0;
    valid_until_ = ValidUntil(started, ttl);
    next_renewal_ = started + period_;
    return Outcome::kRenewed;
  }
  if (tally.refused > tally.instances - majority) {
    // Too few instances still hold it for a majority to extend it ever again: it vanished (an
    // expiry, DEL, FLUSHALL, a restart without data) or was taken. Re-creating it would hide that
    // another owner may have held it in between.
    Lose(Error(LockError::kLeaseLost,
               "the lock is no longer the owner's on a majority of instances: " + counts));
    return Outcome::kLost;
  }
  ++failures_;
  last_failure_ = Error(
      tally.granted + tally.refused >= majority ? LockError::kHeldByOther : LockError::kNoQuorum,
      "renewal failed: " + counts);
  next_renewal_ = now + retry_after_;
  return Outcome::kFailed;
}

}  // namespace keyward::redlock
