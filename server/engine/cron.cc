#include "server/engine/cron.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace keyward {

void Cron::RunTimers() {
  if (p_.state.busy_script) {
    // Later: the alarm is asked for again, to ring once the script is done.
    p_.timers.Rearm();
    return;
  }
  p_.executor.UpdateTime();
  const int64_t now = p_.keyspace.now_ms();
  while (auto due = p_.timers.PopDue(now)) p_.executor.RunUnit(*due);
  p_.output.ProcessDeferred();
  p_.timers.Rearm();
}

void Cron::ResizeQueryBuffer(Client& c, int64_t now_ms) {
  constexpr size_t kWasteThreshold = 4 * 1024;    // Redis: "wasting at least a few kbytes"
  constexpr size_t kResizeThreshold = 32 * 1024;  // PROTO_RESIZE_THRESHOLD
  net::Transport& t = *c.transport();
  // A big argument still arriving counts as used: Redis never resizes below c->bulklen.
  const size_t used = std::max(t.buffered_input(), c.parser().bytes_hint());
  const size_t capacity = t.input_capacity();
  // Idle time in whole seconds, as Redis's unixtime - lastinteraction.
  const int64_t idle_s = now_ms / 1000 - c.last_interaction_ms / 1000;
  if (capacity > used && capacity - used > kWasteThreshold) {
    if (idle_s > 2) {
      t.ShrinkInput(used);
    } else if (capacity > kResizeThreshold && capacity / 2 > c.query_buffer_peak) {
      t.ShrinkInput(std::max(used, c.query_buffer_peak));
    }
  }
  c.query_buffer_peak = used;
  c.reply_peak = 0;
}

void Cron::Tick() {
  if (p_.state.busy_script) return;
  p_.executor.UpdateTime();
  const int64_t now = p_.keyspace.now_ms();
  const int64_t tick_us = 1000000 / std::max<int64_t>(p_.settings.hz, 1);
  // Active expiry: at most a quarter of the tick, like Redis's slow cycle (more with
  // active-expire-effort). (Not while writes are paused: UpdateTime above told the keyspace.)
  if (active_expire_enabled) {
    const int64_t budget = tick_us * (25 + 2 * (p_.settings.active_expire_effort - 1)) / 100;
    const int64_t start_us = p_.clock.MonotonicUs();
    p_.keyspace.ActiveExpireCycle(budget, p_.clock);
    const int64_t elapsed_us = p_.clock.MonotonicUs() - start_us;
    p_.stats.expire_cycle_time_us += static_cast<uint64_t>(elapsed_us);
    // A slow cycle is a latency event of its own (Redis's activeExpireCycle).
    p_.executor.latency().AddSampleIfNeeded("expire-cycle", elapsed_us / 1000,
                                            p_.settings.latency_monitor_threshold,
                                            p_.clock.NowMs() / 1000);
  }
  // activerehashing: a millisecond per tick moves buckets of resizing tables along.
  p_.keyspace.Cron(p_.settings.activerehashing ? 1000 : 0, p_.clock);

  // Query buffers sized to what their clients use.
  for (Client* c : p_.clients.all()) ResizeQueryBuffer(*c, now);

  // Idle clients (timeout).
  if (p_.settings.timeout > 0) {
    const int64_t limit = p_.settings.timeout * 1000;
    std::vector<Client*> idle;
    for (Client* c : p_.clients.all()) {
      // Blocked clients are waiting on purpose (Redis exempts them from the idle timeout too);
      // replicas and the master link have repl-timeout instead.
      if (c->has(Client::kMonitor | Client::kPaused | Client::kBlocked | Client::kReplica |
                 Client::kMaster)) {
        continue;
      }
      if (now - c->last_interaction_ms > limit) idle.push_back(c);
    }
    for (Client* c : idle) {
      spdlog::info("Closing idle client id={}", c->id());
      p_.clients.Close(*c);
    }
  }
  p_.pause.Expire(now);
  for (auto& job : jobs_) job();
  // Keys that expired above go to their waiters; timers the host missed run too.
  if (p_.blocking.has_ready()) p_.blocking.ServeReady();
  RunTimers();
  // Expiry notifications sent above, and clients found over their output limits.
  p_.output.ProcessDeferred();
  p_.stats.SampleOps(now);
  // Redis's serverCron samples the peak too, so a peak between two INFOs is not missed.
  p_.stats.UpdatePeakMemory(UsedMemoryBytes());
}

}  // namespace keyward
