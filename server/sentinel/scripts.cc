// notification-script and client-reconfig-script: queued (at most 256, the oldest waiting one
// dropped first), at most 16 running at once, killed after script-max-runtime. A script that
// exits 1 or dies of a signal is retried up to 10 times, the delay doubling from
// script-retry-delay; any other non-zero exit is reported as -script-error.
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include "server/sentinel/sentinel.h"

extern char** environ;

namespace keyward::sentinel {

namespace {
constexpr size_t kMaxQueue = 256;
constexpr int kMaxRunning = 16;
constexpr int kMaxRetry = 10;
}  // namespace

void Sentinel::ScheduleScript(std::vector<std::string> argv) {
  scripts_queue_.push_back(ScriptJob{std::move(argv)});
  if (scripts_queue_.size() > kMaxQueue) {
    for (auto it = scripts_queue_.begin(); it != scripts_queue_.end(); ++it) {
      if (it->running) continue;
      scripts_queue_.erase(it);
      break;
    }
  }
}

void Sentinel::CallClientReconfScript(Instance& master, bool leader, const Addr& from,
                                      const Addr& to) {
  if (!master.client_reconfig_script) return;
  ScheduleScript({*master.client_reconfig_script, master.name, leader ? "leader" : "observer",
                  "start", Announce(from), std::to_string(from.port), Announce(to),
                  std::to_string(to.port)});
}

void Sentinel::RunPendingScripts() {
  const int64_t t = now();
  for (auto it = scripts_queue_.begin(); it != scripts_queue_.end();) {
    ScriptJob& job = *it;
    if (running_scripts_ >= kMaxRunning) break;
    if (job.running || (job.start_time && job.start_time > t)) {  // or a retry not due yet
      ++it;
      continue;
    }
    job.running = true;
    job.start_time = now();
    job.retry_num++;
    std::vector<char*> argv;
    for (auto& a : job.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      // What Redis reports when the exec in its child fails (exit code 2, not retried).
      Event(EventLevel::kWarning, "-script-error", nullptr, job.argv[0] + " 0 2");
      it = scripts_queue_.erase(it);
      continue;
    }
    running_scripts_++;
    job.pid = pid;
    Event(EventLevel::kDebug, "+script-child", nullptr, std::to_string(pid));
    ++it;
  }
}

void Sentinel::CollectTerminatedScripts() {
  for (auto it = scripts_queue_.begin(); it != scripts_queue_.end();) {
    ScriptJob& job = *it;
    int status = 0;
    if (!job.running || waitpid(job.pid, &status, WNOHANG) != job.pid) {
      ++it;
      continue;
    }
    const int exitcode = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    const int bysignal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    Event(
        EventLevel::kDebug, "-script-child", nullptr,
        std::to_string(job.pid) + " " + std::to_string(exitcode) + " " + std::to_string(bysignal));
    running_scripts_--;
    if ((bysignal || exitcode == 1) && job.retry_num != kMaxRetry) {
      job.running = false;
      job.pid = 0;
      int64_t delay = timing_.script_retry_delay;
      for (int r = job.retry_num; r > 1; r--) delay *= 2;
      job.start_time = now() + delay;
      ++it;
      continue;
    }
    if (bysignal || exitcode != 0) {
      Event(EventLevel::kWarning, "-script-error", nullptr,
            job.argv[0] + " " + std::to_string(bysignal) + " " + std::to_string(exitcode));
    }
    it = scripts_queue_.erase(it);
  }
}

void Sentinel::KillTimedoutScripts() {
  const int64_t t = now();
  for (auto& job : scripts_queue_) {
    if (job.running && t - job.start_time > timing_.script_max_runtime) {
      Event(EventLevel::kWarning, "-script-timeout", nullptr,
            job.argv[0] + " " + std::to_string(job.pid));
      kill(job.pid, SIGKILL);
    }
  }
}

}  // namespace keyward::sentinel
