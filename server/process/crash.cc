#include "server/process/crash.h"

#include <execinfo.h>
#include <fcntl.h>
#include <unistd.h>

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
  char logfile[4096] = {};
  struct sigaction previous[kSignalCount];
};
CrashState crash_state;

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
void WriteLine(int fd, const char* text) {
  char head[96];
  const time_t now = time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  char date[64];
  strftime(date, sizeof(date), "%d %b %Y %H:%M:%S", &tm);
  std::snprintf(head, sizeof(head), "%d:M %s.000 # ", static_cast<int>(getpid()), date);
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

// Redis's memtest_test_linux_anonymous_maps: the process's private, writable, anonymous memory.
void MemoryTest(int fd) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer's shadow memory is terabytes of anonymous mappings: not testable here.
  WriteLine(fd, "Fast memory test skipped: a sanitizer build.");
#else
  WriteLine(fd, "--- FAST MEMORY TEST");
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

void OnCrash(int sig, siginfo_t* info, void*) {
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
  // Then the signal takes its course: the handler there was before (a sanitizer's report), or
  // the default action (the core dump).
  for (int i = 0; i < kSignalCount; i++) {
    if (kSignals[i] == sig) sigaction(sig, &crash_state.previous[i], nullptr);
  }
  raise(sig);
}

}  // namespace

void SetUpCrashReport(const ServerSettings& settings) {
  crash_state.memcheck = settings.crash_memcheck_enabled;
  std::snprintf(crash_state.logfile, sizeof(crash_state.logfile), "%s", settings.logfile.c_str());
  if (settings.crash_log_enabled == crash_state.installed) return;
  if (settings.crash_log_enabled) {
    struct sigaction act {};
    sigemptyset(&act.sa_mask);
    // One report per crash: a crash inside the handler gets the default action.
    act.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    act.sa_sigaction = OnCrash;
    for (int i = 0; i < kSignalCount; i++) sigaction(kSignals[i], &act, &crash_state.previous[i]);
    crash_state.installed = true;
  } else {
    for (int i = 0; i < kSignalCount; i++) sigaction(kSignals[i], &crash_state.previous[i], nullptr);
    crash_state.installed = false;
  }
}

}  // namespace keyward
