// Load generator for the pub/sub benchmark (compare_pubsub.py). One process, one thread: N
// subscriber connections that SUBSCRIBE to one channel and read everything, and one publisher
// connection, all nonblocking and driven by one epoll loop. It speaks raw RESP2 over POSIX
// sockets (no client library), so what it measures is the server, and prints one JSON line.
//
//   keyward_pubsub_load --port P --mode throughput --subscribers 100 --publishes 200000
//                       [--depth 16] [--window 1] [--payload-size 16] [--server-pid PID]
//   keyward_pubsub_load --port P --mode latency --subscribers 1 --publishes 20000
//
// throughput: the publisher sends PUBLISH ch <payload> in batches of `depth` and waits for the
//   batch's replies before sending the next (redis-benchmark -P depth's pattern); with
//   `--window W`, W batches are in flight and a new one leaves as soon as the oldest one is
//   answered, so the server never waits for the generator's round trip. The run ends
//   when the last subscriber has received the last message, not when the last PUBLISH was
//   acknowledged: a server replies to PUBLISH as soon as the message is queued for the
//   subscribers, so timing the replies alone would overstate throughput. Every subscriber must
//   receive exactly `publishes` messages with the expected bytes, or the run fails.
// latency: one PUBLISH at a time whose payload is the send time (CLOCK_MONOTONIC ns, 16 hex
//   digits); the next one is sent only when the reply and every subscriber's copy have arrived.
//   Each delivery's latency is its receive time minus the time in its payload.
//
// Why C++ and not Python (compare_pubsub.py is Python): at 100 and 1000 subscribers the servers
// deliver millions of messages per second to as many sockets. The leanest Python loop (epoll,
// 1 MiB reads, messages counted by bytes) saturated its core at less than half of the rate this
// tool measures on the same server, so its numbers would describe Python. Here a recv() costs
// about a system call and a message a memcmp (perf: 93% of this tool's time is the kernel's TCP
// receive path). The output gives the tool's own CPU use (`loader_busy`), so the claim is
// checked on every run.
//
// Server CPU time (`--server-pid`, from /proc/<pid>/stat), the generator's CPU time (getrusage)
// and the machine's busy time (/proc/stat) are read at the start and the end of the measured
// interval itself: connecting and subscribing 1000 clients is not part of it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "load_flags.h"

namespace {

constexpr size_t kRecvBufferBytes = 1 << 20;
constexpr int kMaxEvents = 1024;
// A run in which nothing at all arrives for this long has lost messages (or a server hangs).
constexpr int kStallTimeoutMs = 20000;

[[noreturn]] void Die(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  std::fprintf(stderr, "keyward_pubsub_load: ");
  std::vfprintf(stderr, format, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::exit(1);
}

struct Args {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string mode = "throughput";
  int subscribers = 1;
  long publishes = 100000;
  int depth = 16;
  int window = 1;  // batches in flight (throughput mode)
  int payload_size = 16;
  std::string channel = "ch";
  long server_pid = 0;
  long warmup = -1;  // latency mode; default 1% of publishes
};

constexpr const char* kUsage =
    "usage: keyward_pubsub_load --port P [--host H] [--mode throughput|latency] "
    "[--subscribers N] [--publishes N] [--depth D] [--window W] [--payload-size B] "
    "[--channel NAME] [--server-pid PID] [--warmup N]\n";

Args Parse(int argc, char** argv) {
  Args args;
  keyward::bench::ParseFlags(argc, argv,
                             {{"--host", &args.host},
                              {"--port", &args.port},
                              {"--mode", &args.mode},
                              {"--subscribers", &args.subscribers},
                              {"--publishes", &args.publishes},
                              {"--depth", &args.depth},
                              {"--window", &args.window},
                              {"--payload-size", &args.payload_size},
                              {"--channel", &args.channel},
                              {"--server-pid", &args.server_pid},
                              {"--warmup", &args.warmup}},
                             kUsage);
  args.depth = std::max(1, args.depth);
  args.window = std::max(1, args.window);
  if (args.mode != "throughput" && args.mode != "latency") keyward::bench::Usage(kUsage);
  if (args.subscribers < 1 || args.publishes < 1) keyward::bench::Usage(kUsage);
  // The latency payload is the 16 hex digits of a timestamp.
  if (args.payload_size < (args.mode == "latency" ? 16 : 1)) keyward::bench::Usage(kUsage);
  if (args.warmup < 0) args.warmup = args.publishes / 100;
  return args;
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting, read at the edges of the measured interval.

struct CpuSnapshot {
  long server_ticks = 0;  // utime + stime of the server, all threads (clock ticks)
  double self_s = 0;      // this process, user + system
  long busy_ticks = 0;    // every process on every core, idle and iowait excluded
};

long ServerTicks(long pid) {
  if (pid <= 0) return 0;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) Die("cannot read %s", path);
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) Die("unexpected %s", path);
  p += 2;
  long utime = 0, stime = 0;
  for (int field = 3; field <= 15 && *p; ++field) {
    if (field == 14) utime = std::strtol(p, nullptr, 10);
    if (field == 15) stime = std::strtol(p, nullptr, 10);
    p = std::strchr(p, ' ');
    if (p == nullptr) break;
    ++p;
  }
  return utime + stime;
}

long BusyTicks() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return 0;
  long v[8] = {};
  // cpu user nice system idle iowait irq softirq steal
  const int got = std::fscanf(f, "cpu %ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3],
                              &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (got != 8) return 0;
  return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

double SelfCpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

CpuSnapshot Snapshot(long server_pid) {
  return CpuSnapshot{ServerTicks(server_pid), SelfCpuSeconds(), BusyTicks()};
}

// CPU seconds since `before`: the server's, this process's, and the whole machine's.
struct CpuSeconds {
  double server, self, busy;
};
CpuSeconds CpuSince(const CpuSnapshot& before, long server_pid) {
  const CpuSnapshot now = Snapshot(server_pid);
  const double clk_tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {static_cast<double>(now.server_ticks - before.server_ticks) / clk_tck,
          now.self_s - before.self_s,
          static_cast<double>(now.busy_ticks - before.busy_ticks) / clk_tck};
}

// ---------------------------------------------------------------------------------------------
// RESP2, only what this tool receives: arrays of bulk strings and integers (messages and
// subscription confirmations), integers (PUBLISH replies) and errors.

void AppendBulk(std::string& out, std::string_view s) {
  out.append("$").append(std::to_string(s.size())).append("\r\n").append(s).append("\r\n");
}

std::string Command(std::initializer_list<std::string_view> parts) {
  std::string out;
  out.append("*").append(std::to_string(parts.size())).append("\r\n");
  for (std::string_view p : parts) AppendBulk(out, p);
  return out;
}

struct Item {
  char type = 0;                 // '*', ':', '-', '+', '$'
  int64_t integer = 0;           // ':'
  std::string_view text;         // '$', '+', '-'
  std::string_view elements[4];  // '*': bulk strings (integers as their digits)
  int count = 0;
};

// The line starting at p, without its CRLF; nullptr when it is not complete yet.
const char* ReadLine(const char* p, const char* end, std::string_view* line) {
  const void* cr = std::memchr(p, '\r', static_cast<size_t>(end - p));
  if (cr == nullptr) return nullptr;
  const char* q = static_cast<const char*>(cr);
  if (q + 1 >= end) return nullptr;
  if (q[1] != '\n') Die("malformed RESP: CR without LF");
  *line = std::string_view(p, static_cast<size_t>(q - p));
  return q + 2;
}

int64_t ToInt(std::string_view s) {
  int64_t v = 0;
  bool negative = !s.empty() && s[0] == '-';
  for (size_t i = negative ? 1 : 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') Die("malformed RESP integer '%.*s'", int(s.size()), s.data());
    v = v * 10 + (s[i] - '0');
  }
  return negative ? -v : v;
}

// One scalar item at p; returns the end of it, or nullptr when incomplete.
const char* ParseScalar(const char* p, const char* end, char* type, std::string_view* text) {
  if (p >= end) return nullptr;
  std::string_view line;
  const char* next = ReadLine(p + 1, end, &line);
  if (next == nullptr) return nullptr;
  *type = *p;
  switch (*p) {
    case ':':
    case '+':
    case '-':
      *text = line;
      return next;
    case '$': {
      const int64_t n = ToInt(line);
      if (n < 0) Die("unexpected null bulk string");
      if (end - next < n + 2) return nullptr;
      *text = std::string_view(next, static_cast<size_t>(n));
      return next + n + 2;
    }
    default:
      Die("unexpected RESP type byte 0x%02x", static_cast<unsigned char>(*p));
  }
}

// One top-level item at p; returns the bytes it took, 0 when incomplete.
size_t ParseItem(const char* p, const char* end, Item* item) {
  if (p >= end) return 0;
  if (*p != '*') {
    const char* next = ParseScalar(p, end, &item->type, &item->text);
    if (next == nullptr) return 0;
    if (item->type == ':') item->integer = ToInt(item->text);
    return static_cast<size_t>(next - p);
  }
  std::string_view line;
  const char* q = ReadLine(p + 1, end, &line);
  if (q == nullptr) return 0;
  const int64_t n = ToInt(line);
  if (n < 0 || n > 4) Die("unexpected array of %" PRId64 " elements", n);
  item->type = '*';
  item->count = static_cast<int>(n);
  for (int i = 0; i < n; ++i) {
    char type;
    q = ParseScalar(q, end, &type, &item->elements[i]);
    if (q == nullptr) return 0;
    if (type == '*' || type == '-') Die("unexpected element type '%c'", type);
  }
  return static_cast<size_t>(q - p);
}

// ---------------------------------------------------------------------------------------------
// Sockets.

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) Die("fcntl: %s", strerror(errno));
}

int Connect(const Args& args) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket: %s", strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(args.port));
  if (inet_pton(AF_INET, args.host.c_str(), &addr.sin_addr) != 1) {
    Die("bad host %s", args.host.c_str());
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    Die("connect to %s:%d: %s", args.host.c_str(), args.port, strerror(errno));
  }
  // Latency mode sends one small command at a time: Nagle must not hold it back.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SetNonBlocking(fd);
  return fd;
}

// Writes as much of `out` (from `*offset`) as the socket takes now; true when all is written.
bool Flush(int fd, const std::string& out, size_t* offset) {
  while (*offset < out.size()) {
    const ssize_t n = send(fd, out.data() + *offset, out.size() - *offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      if (errno == EINTR) continue;
      Die("send: %s", strerror(errno));
    }
    *offset += static_cast<size_t>(n);
  }
  return true;
}

struct Conn {
  int fd = -1;
  std::string pending;  // the incomplete tail of the last read
  long received = 0;    // messages (not confirmations) received
  bool subscribed = false;
};

// ---------------------------------------------------------------------------------------------

class Load {
 public:
  explicit Load(const Args& args) : args_(args), buffer_(kRecvBufferBytes) {
    payload_.assign(static_cast<size_t>(args.payload_size), 'x');
    expected_message_ = "*3\r\n";
    for (std::string_view part : {std::string_view("message"), std::string_view(args.channel),
                                  std::string_view(payload_)}) {
      AppendBulk(expected_message_, part);
    }
    epoll_ = epoll_create1(0);
    if (epoll_ < 0) Die("epoll_create1: %s", strerror(errno));
  }

  void Setup() {
    // 1000 subscribers need as many descriptors: take the hard limit.
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    subs_.resize(static_cast<size_t>(args_.subscribers));
    const std::string subscribe = Command({"SUBSCRIBE", args_.channel});
    for (size_t i = 0; i < subs_.size(); ++i) {
      subs_[i].fd = Connect(args_);
      size_t offset = 0;
      while (!Flush(subs_[i].fd, subscribe, &offset)) {
      }
      Watch(subs_[i].fd, EPOLLIN, i);
    }
    publisher_ = Connect(args_);
    Watch(publisher_, EPOLLIN, kPublisher);
    // Every confirmation must be in before the first PUBLISH, or early messages would have no
    // receiver and the counts could never match.
    while (subscribed_ < subs_.size()) Poll();
  }

  void RunThroughput() {
    one_publish_ = Command({"PUBLISH", args_.channel, payload_});
    const CpuSnapshot cpu0 = Snapshot(args_.server_pid);
    const int64_t t0 = NowNs();
    int64_t last_reply_ns = t0;
    streaming_ = true;
    SendBatches();
    while (acked_ < args_.publishes || delivered_ < total_expected()) {
      Poll();
      if (acked_ == args_.publishes && last_reply_ns == t0) last_reply_ns = NowNs();
    }
    const double seconds = static_cast<double>(NowNs() - t0) / 1e9;
    const auto [server_s, self_s, busy_s] = CpuSince(cpu0, args_.server_pid);
    const double other_cores = std::max(0.0, busy_s - server_s - self_s) / seconds;
    std::printf(
        "{\"mode\":\"throughput\",\"subscribers\":%d,\"depth\":%d,\"window\":%d,"
        "\"payload_size\":%d,"
        "\"publishes\":%ld,\"deliveries\":%ld,\"seconds\":%.6f,\"publish_seconds\":%.6f,"
        "\"publishes_per_s\":%.1f,\"deliveries_per_s\":%.1f,\"server_cpu_s\":%.3f,"
        "\"server_cpu_us_per_publish\":%.4f,\"server_busy\":%.3f,\"loader_cpu_s\":%.3f,"
        "\"loader_busy\":%.3f,\"other_cores\":%.3f}\n",
        args_.subscribers, args_.depth, args_.window, args_.payload_size, args_.publishes,
        delivered_, seconds, static_cast<double>(last_reply_ns - t0) / 1e9,
        static_cast<double>(args_.publishes) / seconds, static_cast<double>(delivered_) / seconds,
        server_s, server_s * 1e6 / static_cast<double>(args_.publishes), server_s / seconds, self_s,
        self_s / seconds, other_cores);
  }

  void RunLatency() {
    latencies_ns_.reserve(static_cast<size_t>(args_.publishes * args_.subscribers));
    last_of_fanout_ns_.reserve(static_cast<size_t>(args_.publishes));
    const CpuSnapshot cpu0 = Snapshot(args_.server_pid);
    const int64_t t0 = NowNs();
    const long total = args_.warmup + args_.publishes;
    for (long i = 0; i < total; ++i) {
      measuring_ = i >= args_.warmup;
      // The payload: the send time in 16 hex digits, padded to the payload size.
      char stamp[17];
      current_stamp_ = NowNs();
      std::snprintf(stamp, sizeof stamp, "%016" PRIx64, static_cast<uint64_t>(current_stamp_));
      std::string payload(stamp, 16);
      payload.resize(static_cast<size_t>(args_.payload_size), 'x');
      current_payload_ = payload;
      out_ = Command({"PUBLISH", args_.channel, payload});
      out_offset_ = 0;
      sent_ += 1;
      in_flight_ = 1;
      last_receive_ns_ = 0;
      SendOut();
      while (acked_ < sent_ || delivered_ < sent_ * static_cast<long>(subs_.size())) Poll();
      if (measuring_) last_of_fanout_ns_.push_back(last_receive_ns_ - current_stamp_);
    }
    const double seconds = static_cast<double>(NowNs() - t0) / 1e9;
    const auto [server_s, self_s, busy_s] = CpuSince(cpu0, args_.server_pid);
    std::printf(
        "{\"mode\":\"latency\",\"subscribers\":%d,\"payload_size\":%d,\"publishes\":%ld,"
        "\"samples\":%zu,\"seconds\":%.6f,\"p50_us\":%.3f,\"p90_us\":%.3f,\"p99_us\":%.3f,"
        "\"p999_us\":%.3f,\"max_us\":%.3f,\"mean_us\":%.3f,\"last_p50_us\":%.3f,"
        "\"last_p99_us\":%.3f,\"server_cpu_s\":%.3f,\"loader_cpu_s\":%.3f,\"other_cores\":%.3f}\n",
        args_.subscribers, args_.payload_size, args_.publishes, latencies_ns_.size(), seconds,
        Percentile(latencies_ns_, 50), Percentile(latencies_ns_, 90), Percentile(latencies_ns_, 99),
        Percentile(latencies_ns_, 99.9), Percentile(latencies_ns_, 100), Mean(latencies_ns_),
        Percentile(last_of_fanout_ns_, 50), Percentile(last_of_fanout_ns_, 99), server_s, self_s,
        std::max(0.0, busy_s - server_s - self_s) / seconds);
  }

 private:
  static constexpr uint64_t kPublisher = ~uint64_t{0};

  // Throughput mode: a new batch goes out as soon as the oldest one in flight is fully
  // answered, before the subscribers' data of the same wake-up is read. A real publisher is
  // another process and does not wait for the subscribers: here it must not wait either, or the
  // server would idle while this one thread drains a thousand sockets.
  void SendBatches() {
    const long max_in_flight = static_cast<long>(args_.depth) * args_.window;
    bool added = false;
    while (sent_ < args_.publishes && in_flight_ + args_.depth <= max_in_flight) {
      if (out_offset_ == out_.size()) {
        out_.clear();
        out_offset_ = 0;
      }
      const long batch = std::min<long>(args_.depth, args_.publishes - sent_);
      for (long i = 0; i < batch; ++i) out_ += one_publish_;
      sent_ += batch;
      in_flight_ += batch;
      added = true;
    }
    if (added) SendOut();
  }

  long total_expected() const { return args_.publishes * static_cast<long>(subs_.size()); }

  void Watch(int fd, uint32_t events, uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0) Die("epoll_ctl: %s", strerror(errno));
  }

  void SetPublisherEvents(uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = kPublisher;
    if (epoll_ctl(epoll_, EPOLL_CTL_MOD, publisher_, &ev) < 0)
      Die("epoll_ctl: %s", strerror(errno));
  }

  void SendOut() {
    const bool was_blocked = out_blocked_;
    out_blocked_ = !Flush(publisher_, out_, &out_offset_);
    if (out_blocked_ != was_blocked)
      SetPublisherEvents(out_blocked_ ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }

  void Poll() {
    epoll_event events[kMaxEvents];
    const int n = epoll_wait(epoll_, events, kMaxEvents, kStallTimeoutMs);
    if (n < 0) {
      if (errno == EINTR) return;
      Die("epoll_wait: %s", strerror(errno));
    }
    if (n == 0) {
      Die("nothing received for %d ms: %ld of %ld publishes acknowledged, %ld of %ld deliveries, "
          "%zu of %zu subscribed",
          kStallTimeoutMs, acked_, sent_, delivered_, sent_ * static_cast<long>(subs_.size()),
          subscribed_, subs_.size());
    }
    // The publisher first (see SendBatches), then the subscribers.
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 != kPublisher) continue;
      if (events[i].events & EPOLLOUT) SendOut();
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadPublisher();
      if (streaming_) SendBatches();
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 != kPublisher) ReadSubscriber(subs_[events[i].data.u64]);
    }
  }

  // Reads what is available; returns the bytes to parse (the pending tail of the last read
  // followed by the new data), empty when nothing new arrived. *read_bytes is what recv() gave.
  std::string_view Receive(int fd, std::string& pending, const char* who, size_t* read_bytes) {
    *read_bytes = 0;
    const ssize_t n = recv(fd, buffer_.data(), buffer_.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
      Die("recv from %s: %s", who, strerror(errno));
    }
    if (n == 0) {
      Die("%s: connection closed by the server (output buffer limit?) after %ld deliveries", who,
          delivered_);
    }
    *read_bytes = static_cast<size_t>(n);
    if (pending.empty()) return std::string_view(buffer_.data(), static_cast<size_t>(n));
    pending.append(buffer_.data(), static_cast<size_t>(n));
    return pending;
  }

  // Keeps the unparsed tail of `data` for the next read.
  static void KeepTail(std::string& pending, std::string_view data, size_t consumed) {
    if (consumed == data.size()) {
      pending.clear();
    } else if (data.data() == pending.data()) {
      pending.erase(0, consumed);
    } else {
      pending.assign(data.substr(consumed));
    }
  }

  void ReadPublisher() {
    size_t read_bytes;
    std::string_view data = Receive(publisher_, publisher_pending_, "publisher", &read_bytes);
    if (data.empty()) return;
    size_t pos = 0;
    Item item;
    while (pos < data.size()) {
      const size_t used = ParseItem(data.data() + pos, data.data() + data.size(), &item);
      if (used == 0) break;
      pos += used;
      if (item.type == '-') Die("PUBLISH failed: %.*s", int(item.text.size()), item.text.data());
      if (item.type != ':') Die("unexpected reply to PUBLISH (type '%c')", item.type);
      // PUBLISH answers the number of receivers: anything else means a subscriber is missing.
      if (item.integer != static_cast<int64_t>(subs_.size())) {
        Die("PUBLISH reached %" PRId64 " subscribers, expected %zu", item.integer, subs_.size());
      }
      ++acked_;
      --in_flight_;
    }
    KeepTail(publisher_pending_, data, pos);
  }

  void ReadSubscriber(Conn& c) {
    // A full buffer means more may be waiting: read again rather than go back to epoll_wait.
    for (;;) {
      size_t read_bytes;
      std::string_view data = Receive(c.fd, c.pending, "subscriber", &read_bytes);
      if (data.empty()) return;
      const int64_t now = NowNs();
      size_t pos = 0;
      const std::string_view expected = expected_message_;
      const bool throughput = args_.mode == "throughput";
      while (pos < data.size()) {
        // Throughput mode's messages are all the same bytes: compare, don't parse.
        if (throughput && data.size() - pos >= expected.size() &&
            std::memcmp(data.data() + pos, expected.data(), expected.size()) == 0) {
          pos += expected.size();
          ++c.received;
          ++delivered_;
          continue;
        }
        Item item;
        const size_t used = ParseItem(data.data() + pos, data.data() + data.size(), &item);
        if (used == 0) break;
        pos += used;
        OnSubscriberItem(c, item, now);
      }
      KeepTail(c.pending, data, pos);
      if (read_bytes < buffer_.size()) return;
    }
  }

  void OnSubscriberItem(Conn& c, const Item& item, int64_t now) {
    if (item.type != '*' || item.count != 3) Die("unexpected item on a subscriber connection");
    if (item.elements[0] == "subscribe") {
      if (c.subscribed) Die("second subscribe confirmation");
      c.subscribed = true;
      ++subscribed_;
      return;
    }
    if (item.elements[0] != "message" || item.elements[1] != args_.channel) {
      Die("unexpected push '%.*s'", int(item.elements[0].size()), item.elements[0].data());
    }
    const std::string_view payload = item.elements[2];
    if (args_.mode == "throughput") {
      if (payload != payload_) Die("wrong payload");
    } else if (payload != current_payload_) {
      // One publish at a time: anything else is a lost, duplicated or reordered message.
      Die("payload of another publish received");
    } else {
      if (measuring_) latencies_ns_.push_back(now - current_stamp_);
      last_receive_ns_ = std::max(last_receive_ns_, now);
    }
    ++c.received;
    ++delivered_;
  }

  static double Percentile(std::vector<int64_t>& v, double p) {
    if (v.empty()) return 0;
    // Nearest rank: the smallest sample with at least p% of the samples at or below it.
    size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, v.size());
    std::nth_element(v.begin(), v.begin() + static_cast<long>(rank - 1), v.end());
    return static_cast<double>(v[rank - 1]) / 1000.0;
  }

  static double Mean(const std::vector<int64_t>& v) {
    if (v.empty()) return 0;
    double sum = 0;
    for (int64_t x : v) sum += static_cast<double>(x);
    return sum / static_cast<double>(v.size()) / 1000.0;
  }

  const Args& args_;
  std::vector<char> buffer_;
  std::string payload_;
  std::string expected_message_;
  int epoll_ = -1;
  std::vector<Conn> subs_;
  size_t subscribed_ = 0;
  int publisher_ = -1;
  std::string publisher_pending_;
  std::string out_;
  size_t out_offset_ = 0;
  bool out_blocked_ = false;
  bool streaming_ = false;  // throughput mode, publishing
  std::string one_publish_;
  long sent_ = 0;
  long acked_ = 0;
  long in_flight_ = 0;
  long delivered_ = 0;
  // Latency mode.
  bool measuring_ = false;
  int64_t current_stamp_ = 0;
  std::string current_payload_;
  int64_t last_receive_ns_ = 0;
  std::vector<int64_t> latencies_ns_;
  std::vector<int64_t> last_of_fanout_ns_;
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  Load load(args);
  load.Setup();
  if (args.mode == "throughput") {
    load.RunThroughput();
  } else {
    load.RunLatency();
  }
  return 0;
}
