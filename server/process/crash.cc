#include "server/process/crash.h"

#include <dirent.h>
#include <execinfo.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace keyward {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kSignalCount = sizeof(kSignals) / sizeof(kSignals[0]);

// A signal handler can reach nothing else: what it needs is copied here when it is installed.
struct CrashState {
  bool installed = false;
  bool memcheck = false;
  long utc_offset_s = 0;  // the local time zone's, taken at install: localtime_r may lock
  char logfile[4096] = {};
  struct sigaction previous[kSignalCount];
};
CrashState crash_state;

// The thread writing the report (0: none). A second crash, on another thread, waits for the
// first report to end the process; one on the reporting thread itself ends it at once.
std::atomic<long> crashing_thread{0};

// The memory test rewrites the heap word by word: the other threads (the lazy-free worker) are
// parked in this signal's handler first, as Redis's killThreads stops its threads.
const int kParkSignal = SIGRTMIN + 1;
std::atomic<int> parked_threads{0};

void OnPark(int) {
  parked_threads.fetch_add(1);
  for (;;) pause();
}

int OpenLog() {
  if (crash_state.logfile[0] == '\0') return STDOUT_FILENO;
  return open(crash_state.logfile, O_APPEND | O_CREAT | O_WRONLY, 0644);
}

void Write(int fd, const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = write(fd, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

// Redis's log line prefix: "<pid>:M <date> # ".
// The date is worked out by hand (days to civil date): strftime and localtime_r take glibc's
// time zone lock, which a crash inside them would hold.
void WriteLine(int fd, const char* text) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const long t = static_cast<long>(time(nullptr)) + crash_state.utc_offset_s;
  const long secs = ((t % 86400) + 86400) % 86400;
  long z = (t - secs) / 86400 + 719468;  // Howard Hinnant's civil_from_days
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  const long day = doy - (153 * mp + 2) / 5 + 1;
  const long month = mp < 10 ? mp + 3 : mp - 9;
  const long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char head[96];
  std::snprintf(head, sizeof(head), "%d:M %02ld %s %ld %02ld:%02ld:%02ld.000 # ",
                static_cast<int>(getpid()), day, kMonths[month - 1], year, secs / 3600,
                secs / 60 % 60, secs % 60);
  Write(fd, head);
  Write(fd, text);
  Write(fd, "\n");
}

#if !defined(__SANITIZE_ADDRESS__)
// One preserving pass over a region: each word is inverted, checked, and put back.
size_t TestRegion(volatile unsigned long* start, volatile unsigned long* end) {
  size_t errors = 0;
  for (volatile unsigned long* p = start; p < end; p++) {
    const unsigned long saved = *p;
    *p = ~saved;
    if (*p != ~saved) errors++;
    *p = 0xaaaaaaaaaaaaaaaaUL;
    if (*p != 0xaaaaaaaaaaaaaaaaUL) errors++;
    *p = saved;
  }
  return errors;
}

unsigned long ParseHex(const char*& p) {
  unsigned long v = 0;
  while (true) {
    const char c = *p;
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return v;
    }
    v = v * 16 + static_cast<unsigned long>(d);
    p++;
  }
}
#endif

#if !defined(__SANITIZE_ADDRESS__)
// Parks every thread but this one (Redis's killThreads) and waits, boundedly, until they are.
void ParkOtherThreads() {
  const int dir = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
  if (dir < 0) return;
  const long self = syscall(SYS_gettid);
  int signalled = 0;
  alignas(8) char entries[4096];
  long n;
  while ((n = syscall(SYS_getdents64, dir, entries, sizeof(entries))) > 0) {
    for (long off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(entries + off);
      off += e->d_reclen;
      long tid = 0;
      const char* p = e->d_name;
      if (*p < '0' || *p > '9') continue;
      while (*p >= '0' && *p <= '9') tid = tid * 10 + (*p++ - '0');
      if (tid == self) continue;
      if (syscall(SYS_tgkill, getpid(), tid, kParkSignal) == 0) signalled++;
    }
  }
  close(dir);
  for (int i = 0; i < 1000 && parked_threads.load() < signalled; i++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
}
#endif

// Redis's memtest_test_linux_anonymous_maps: the process's private, writable, anonymous memory.
void MemoryTest(int fd) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer's shadow memory is terabytes of anonymous mappings: not testable here.
  WriteLine(fd, "Fast memory test skipped: a sanitizer build.");
#else
  WriteLine(fd, "--- FAST MEMORY TEST");
  ParkOtherThreads();
  // This thread's own stack holds the test's locals; a thread's stack is not labelled [stack].
  const unsigned long own_stack = reinterpret_cast<unsigned long>(&fd);
  const int maps = open("/proc/self/maps", O_RDONLY);
  if (maps < 0) return;
  char buf[65536];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof(buf) - 1 && (n = read(maps, buf + len, sizeof(buf) - 1 - len)) > 0) {
    len += static_cast<size_t>(n);
  }
  close(maps);
  buf[len] = '\0';
  size_t errors = 0;
  for (const char* line = buf; *line != '\0';) {
    const char* eol = std::strchr(line, '\n');
    if (eol == nullptr) break;
    // start-end perms offset dev inode [path]
    const char* p = line;
    const unsigned long start = ParseHex(p);
    p++;
    const unsigned long end = ParseHex(p);
    p++;
    const bool rw_private = p[0] == 'r' && p[1] == 'w' && p[3] == 'p';
    // Anonymous memory has device 00:00 (the heap included); the stack, vdso and vsyscall are
    // left alone, as Redis leaves them.
    bool anonymous = false, excluded = false;
    for (const char* q = p; q + 5 <= eol; q++) {
      if (std::strncmp(q, " 00:00 ", 7) == 0) anonymous = true;
      if (std::strncmp(q, "stack", 5) == 0 || std::strncmp(q, "vdso", 4) == 0 ||
          std::strncmp(q, "vsyscall", 8) == 0 || std::strncmp(q, "vvar", 4) == 0) {
        excluded = true;
      }
    }
    if (own_stack >= start && own_stack < end) excluded = true;
    if (rw_private && anonymous && !excluded && end - start <= (1UL << 30)) {
      errors += TestRegion(reinterpret_cast<volatile unsigned long*>(start),
                           reinterpret_cast<volatile unsigned long*>(end));
    }
    line = eol + 1;
  }
  if (errors == 0) {
    WriteLine(fd,
              "Fast memory test PASSED, however your memory can still be broken. Please run a "
              "memory test for several hours if possible.");
  } else {
    char text[128];
    std::snprintf(text, sizeof(text), "!!! MEMORY ERROR DETECTED: %zu errors !!!", errors);
    WriteLine(fd, text);
  }
#endif
}

// Then the signal takes its course: the handler there was before (a sanitizer's report), or
// the default action (the core dump).
void RestorePrevious() {
  for (int i = 0; i < kSignalCount; i++) sigaction(kSignals[i], &crash_state.previous[i], nullptr);
}

void OnCrash(int sig, siginfo_t* info, void*) {
  const long self = syscall(SYS_gettid);
  long none = 0;
  if (!crashing_thread.compare_exchange_strong(none, self)) {
    if (none == self) {  // a crash inside the report
      RestorePrevious();
      raise(sig);
    }
    for (;;) pause();  // the first report ends the process
  }
  const int fd = OpenLog();
  Write(fd, "\n\n=== KEYWARD BUG REPORT START: Cut & paste starting from here ===\n");
  char text[160];
  std::snprintf(text, sizeof(text), "Keyward %s crashed by signal: %d, si_code: %d",
                KEYWARD_VERSION, sig, info != nullptr ? info->si_code : 0);
  WriteLine(fd, text);
  if (info != nullptr && (sig == SIGSEGV || sig == SIGBUS)) {
    std::snprintf(text, sizeof(text), "Accessing address: %p", info->si_addr);
    WriteLine(fd, text);
  }
  Write(fd, "\n------ STACK TRACE ------\n");
  void* frames[64];
  const int depth = backtrace(frames, 64);
  backtrace_symbols_fd(frames, depth, fd);
  if (crash_state.memcheck) MemoryTest(fd);
  Write(fd,
        "\n=== KEYWARD BUG REPORT END. Make sure to include from START to END. ===\n\n"
        "       Please report the crash by opening an issue on the Keyward project.\n\n");
  if (fd != STDOUT_FILENO) close(fd);
  RestorePrevious();
  // A fault (si_code > 0) recurs when the instruction runs again, now with its full siginfo for
  // the previous handler; a sent signal (abort(), kill) is sent again.
  if (info != nullptr && info->si_code > 0 && sig != SIGABRT) return;
  raise(sig);
}

}  // namespace

void SetUpCrashReport(const ServerSettings& settings) {
  crash_state.memcheck = settings.crash_memcheck_enabled;
  std::snprintf(crash_state.logfile, sizeof(crash_state.logfile), "%s", settings.logfile.c_str());
  if (settings.crash_log_enabled == crash_state.installed) return;
  if (settings.crash_log_enabled) {
    // The first backtrace() loads libgcc_s (dlopen allocates): done here, not in the handler.
    void* frame[1];
    backtrace(frame, 1);
    const time_t now = time(nullptr);
    struct tm tm;
    localtime_r(&now, &tm);
    crash_state.utc_offset_s = tm.tm_gmtoff;
    struct sigaction park {};
    sigemptyset(&park.sa_mask);
    park.sa_handler = OnPark;
    sigaction(kParkSignal, &park, nullptr);
    struct sigaction act {};
    sigemptyset(&act.sa_mask);
    // One report per crash (crashing_thread): a crash inside the handler gets the action there
    // was before.
    act.sa_flags = SA_SIGINFO | SA_NODEFER;
    act.sa_sigaction = OnCrash;
    for (int i = 0; i < kSignalCount; i++) sigaction(kSignals[i], &act, &crash_state.previous[i]);
    crash_state.installed = true;
  } else {
    RestorePrevious();
    crash_state.installed = false;
  }
}

}  // namespace keyward
