// Load generator for scripts/bench.sh: drives one RPC of a running
// payments-server (or one HTTP GET of the Dojo emulator) and prints one JSON
// line with what it measured.
//
//   payments-bench --mode=closed --rpc=get --target=127.0.0.1:P
//       --concurrency=64 --warmup=1 --duration=3 --server_pid=PID --id=pi_...
//
// Modes:
//   closed  keeps --concurrency calls in flight (each completion issues the
//           next) for --warmup + --duration seconds; counts the calls that
//           complete in the measured window and the server's CPU time
//           (utime + stime of /proc/PID/stat) over the same window.
//   rate    issues calls at a fixed --rate (open loop: latency runs from the
//           scheduled start, so a late generator shows up as latency) and
//           reports latency percentiles of the calls scheduled after warmup.
//   direct  the same open loop, but an HTTP GET of --url straight to the
//           emulator through one libcurl multi handle (keep-alive), the
//           client library the server uses upstream.
//
// RPCs (--rpc): check (grpc.health.v1 Check, the empty handler), get
// (GetIntent --id), create_fresh (CreateIntent with a new reference each
// call), create_replay (CreateIntent of --reference again: a store read),
// verify (VerifyWebhook of a new signed event each call: a store insert),
// verify_duplicate (VerifyWebhook of one event again and again: Dojo's
// redelivery, a store lookup; the secret comes from BENCH_WEBHOOK_SECRET). The
// direct mode's API key comes from BENCH_DOJO_API_KEY. Neither is printed.
//
// gRPC calls use the callback API over --channels channels (one HTTP/2
// connection each), so the generator's own threads are gRPC's and it does
// not limit what it measures. With --server_pid, the peak thread count of
// that process during the window and its VmHWM are reported too.

#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "lib/webhook/signature_verifier.h"
#include "payments/v1/payments_service.grpc.pb.h"

ABSL_FLAG(std::string, mode, "closed", "closed, rate or direct");
ABSL_FLAG(
    std::string, rpc, "check",
    "check, get, create_fresh, create_replay, verify or verify_duplicate");
ABSL_FLAG(std::string, target, "", "gRPC target host:port");
ABSL_FLAG(std::string, url, "", "direct mode: URL to GET");
ABSL_FLAG(std::string, id, "", "get: the intent id");
ABSL_FLAG(std::string, reference, "bench-replay", "create_replay: reference");
ABSL_FLAG(int, concurrency, 64, "closed mode: calls in flight");
ABSL_FLAG(int, channels, 2, "gRPC channels (connections)");
ABSL_FLAG(double, rate, 400, "rate/direct mode: calls per second");
ABSL_FLAG(double, warmup, 1, "seconds before the measured window");
ABSL_FLAG(double, duration, 3, "measured window, seconds");
ABSL_FLAG(double, deadline, 30, "per-call deadline, seconds");
ABSL_FLAG(int, server_pid, 0, "process whose CPU, threads and RSS to read");
ABSL_FLAG(std::string, label, "", "copied into the output line");

namespace {

using payments::v1::PaymentsService;

// utime + stime of `pid`, in seconds; -1 if unreadable.
double ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: fields count from its ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) {
      stime = std::atoll(field.c_str());
      break;
    }
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// A "Name:   value kB" line of /proc/PID/status, or -1.
long StatusField(int pid, const std::string& name) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      return std::atol(line.c_str() + name.size() + 1);
    }
  }
  return -1;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

// Samples the server's thread count while the window runs.
class ThreadSampler {
 public:
  explicit ThreadSampler(int pid) : pid_(pid) {
    if (pid_ <= 0) return;
    thread_ = std::thread([this] {
      while (!done_.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
        peak_ = std::max(peak_.load(), StatusField(pid_, "Threads"));
      }
    });
  }
  ~ThreadSampler() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    done_.Notify();
    thread_.join();
  }
  long peak() const { return peak_.load(); }

 private:
  const int pid_;
  absl::Notification done_;
  std::atomic<long> peak_{-1};
  std::thread thread_;
};

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(
      values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

// Issues one RPC of the chosen kind; `done` gets whether it returned OK.
class RpcIssuer {
 public:
  RpcIssuer(const std::string& target, int channels, std::string rpc)
      : rpc_(std::move(rpc)),
        run_tag_(absl::StrCat(getpid(), "-", absl::ToUnixMillis(absl::Now()))),
        webhook_secret_(std::getenv("BENCH_WEBHOOK_SECRET") != nullptr
                            ? std::getenv("BENCH_WEBHOOK_SECRET")
                            : "") {
    for (int i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      // One connection per channel, not one shared subchannel.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("bench.channel", i);
      auto channel = grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(), args);
      payments_.push_back(PaymentsService::NewStub(channel));
      health_.push_back(grpc::health::v1::Health::NewStub(channel));
    }
  }

  bool valid() const {
    return rpc_ == "check" || rpc_ == "get" || rpc_ == "create_fresh" ||
           rpc_ == "create_replay" || rpc_ == "verify" ||
           rpc_ == "verify_duplicate";
  }

  // Thread-safe. `done(ok, error_message)` runs on a gRPC thread.
  template <typename Done>
  void Issue(absl::Duration deadline, Done done) {
    const uint64_t n = sequence_.fetch_add(1, std::memory_order_relaxed);
    const size_t channel = n % payments_.size();
    auto* context = new grpc::ClientContext;
    context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    auto finish = [context, done = std::move(done)](grpc::Status status,
                                                    auto* response) mutable {
      delete context;
      delete response;
      done(status.ok(), status.ok() ? std::string() : status.error_message());
    };
    if (rpc_ == "check") {
      grpc::health::v1::HealthCheckRequest request;
      auto* response = new grpc::health::v1::HealthCheckResponse;
      health_[channel]->async()->Check(
          context, &request, response,
          [finish = std::move(finish), response](grpc::Status s) mutable {
            finish(std::move(s), response);
          });
    } else if (rpc_ == "get") {
      payments::v1::GetIntentRequest request;
      request.set_id(absl::GetFlag(FLAGS_id));
      auto* response = new payments::v1::GetIntentResponse;
      payments_[channel]->async()->GetIntent(
          context, &request, response,
          [finish = std::move(finish), response](grpc::Status s) mutable {
            finish(std::move(s), response);
          });
    } else if (rpc_ == "create_fresh" || rpc_ == "create_replay") {
      payments::v1::CreateIntentRequest request;
      request.set_reference(rpc_ == "create_fresh"
                                ? absl::StrCat("bench-", run_tag_, "-", n)
                                : absl::GetFlag(FLAGS_reference));
      request.mutable_amount()->set_value(1000);
      request.mutable_amount()->set_currency_code("GBP");
      auto* response = new payments::v1::CreateIntentResponse;
      payments_[channel]->async()->CreateIntent(
          context, &request, response,
          [finish = std::move(finish), response](grpc::Status s) mutable {
            finish(std::move(s), response);
          });
    } else {
      payments::v1::VerifyWebhookRequest request;
      // A duplicate repeats the run's first event id.
      request.set_body(absl::StrCat(
          R"({"id":"evt_bench_)", run_tag_, "_",
          rpc_ == "verify_duplicate" ? uint64_t{0} : n,
          R"(","event":"payment_intent.status_updated","accountId":"acc_bench",)",
          R"("createdAt":"2026-01-01T10:00:00Z","data":{"paymentIntentId":)",
          R"("pi_sandbox_bench","paymentStatus":"Captured","captureMode":"Auto"}})"));
      request.set_signature(
          payments::webhook::ComputeSignature(webhook_secret_, request.body()));
      auto* response = new payments::v1::VerifyWebhookResponse;
      payments_[channel]->async()->VerifyWebhook(
          context, &request, response,
          [finish = std::move(finish), response](grpc::Status s) mutable {
            finish(std::move(s), response);
          });
    }
  }

 private:
  const std::string rpc_;
  const std::string run_tag_;
  const std::string webhook_secret_;
  std::atomic<uint64_t> sequence_{0};
  std::vector<std::unique_ptr<PaymentsService::Stub>> payments_;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health_;
};

struct Result {
  int64_t calls = 0;   // Completed in the window (closed) or scheduled (rate).
  int64_t errors = 0;  // Of those.
  double seconds = 0;
  double server_cpu = -1;  // Seconds over the window.
  double client_cpu = 0;
  std::vector<double> latencies_ms;
  std::string first_error;
  long threads_peak = -1;
};

// Counts completions; shared by the gRPC threads.
struct Counters {
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> failed{0};
  absl::Mutex mu;
  std::string first_error ABSL_GUARDED_BY(mu);
  void Record(bool ok, const std::string& error) {
    completed.fetch_add(1, std::memory_order_relaxed);
    if (ok) return;
    failed.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&mu);
    if (first_error.empty()) first_error = error;
  }
};

Result RunClosed(RpcIssuer& issuer, int concurrency, int server_pid) {
  const absl::Duration deadline = absl::Seconds(absl::GetFlag(FLAGS_deadline));
  Counters counters;
  std::atomic<bool> stop{false};
  std::atomic<int> outstanding{concurrency};
  absl::Notification drained;
  std::function<void()> issue = [&] {
    issuer.Issue(deadline, [&](bool ok, const std::string& error) {
      counters.Record(ok, error);
      if (!stop.load(std::memory_order_relaxed)) {
        issue();
      } else if (outstanding.fetch_sub(1) == 1) {
        drained.Notify();
      }
    });
  };
  for (int i = 0; i < concurrency; ++i) issue();

  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_warmup)));
  ThreadSampler sampler(server_pid);
  Result result;
  const int64_t calls0 = counters.completed.load();
  const int64_t errors0 = counters.failed.load();
  const double cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  const double self0 = SelfCpuSeconds();
  const absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_duration)));
  const int64_t calls1 = counters.completed.load();
  const int64_t errors1 = counters.failed.load();
  const double cpu1 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  result.client_cpu = SelfCpuSeconds() - self0;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  sampler.Stop();
  stop = true;
  drained.WaitForNotificationWithTimeout(deadline + absl::Seconds(5));
  result.calls = calls1 - calls0;
  result.errors = errors1 - errors0;
  if (server_pid > 0) result.server_cpu = cpu1 - cpu0;
  result.threads_peak = sampler.peak();
  absl::MutexLock lock(&counters.mu);
  result.first_error = counters.first_error;
  return result;
}

// Runs `issue(index, scheduled)` at a fixed rate on this thread.
template <typename Issue>
void Pace(double rate, double seconds, Issue issue) {
  const int64_t total = static_cast<int64_t>(rate * seconds);
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < total; ++i) {
    const absl::Time scheduled = start + absl::Seconds(i / rate);
    const absl::Duration wait = scheduled - absl::Now();
    if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
    issue(i, scheduled);
  }
}

Result RunRate(RpcIssuer& issuer, int server_pid) {
  const double rate = absl::GetFlag(FLAGS_rate);
  const double warmup = absl::GetFlag(FLAGS_warmup);
  const double seconds = warmup + absl::GetFlag(FLAGS_duration);
  const int64_t warm_calls = static_cast<int64_t>(rate * warmup);
  const int64_t total = static_cast<int64_t>(rate * seconds);
  const absl::Duration deadline = absl::Seconds(absl::GetFlag(FLAGS_deadline));
  std::vector<double> latencies(total, -1);
  Counters counters;
  absl::Notification all_done;
  std::atomic<int64_t> remaining{total};
  ThreadSampler sampler(server_pid);
  const double self0 = SelfCpuSeconds();
  Pace(rate, seconds, [&](int64_t i, absl::Time scheduled) {
    issuer.Issue(deadline, [&, i, scheduled](bool ok, const std::string& e) {
      latencies[i] = absl::ToDoubleMilliseconds(absl::Now() - scheduled);
      if (i >= warm_calls) counters.Record(ok, e);
      if (remaining.fetch_sub(1) == 1) all_done.Notify();
    });
  });
  all_done.WaitForNotificationWithTimeout(deadline + absl::Seconds(5));
  sampler.Stop();
  Result result;
  result.client_cpu = SelfCpuSeconds() - self0;
  result.seconds = absl::GetFlag(FLAGS_duration);
  result.calls = total - warm_calls;
  result.errors = counters.failed.load();
  result.latencies_ms.assign(latencies.begin() + warm_calls, latencies.end());
  result.threads_peak = sampler.peak();
  absl::MutexLock lock(&counters.mu);
  result.first_error = counters.first_error;
  return result;
}

// Open-loop GETs over one curl multi handle on this thread.
Result RunDirect() {
  const double rate = absl::GetFlag(FLAGS_rate);
  const double warmup = absl::GetFlag(FLAGS_warmup);
  const int64_t warm_calls = static_cast<int64_t>(rate * warmup);
  const int64_t total =
      static_cast<int64_t>(rate * (warmup + absl::GetFlag(FLAGS_duration)));
  const std::string url = absl::GetFlag(FLAGS_url);
  const char* key = std::getenv("BENCH_DOJO_API_KEY");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(
      headers, absl::StrCat("Authorization: Basic ", key ? key : "").c_str());
  headers = curl_slist_append(headers, "version: 2026-02-27");
  struct Call {
    CURL* easy;
    int64_t index;
    absl::Time scheduled;
    std::string body;
  };
  std::vector<Call*> idle;
  std::vector<double> latencies(total, -1);
  Result result;
  auto on_body = +[](char* data, size_t size, size_t count, void* user) {
    static_cast<Call*>(user)->body.append(data, size * count);
    return size * count;
  };
  const absl::Time start = absl::Now();
  int64_t next = 0, finished = 0;
  const double self0 = SelfCpuSeconds();
  while (finished < total) {
    const absl::Time now = absl::Now();
    while (next < total && start + absl::Seconds(next / rate) <= now) {
      Call* call;
      if (idle.empty()) {
        call = new Call{curl_easy_init(), 0, {}, {}};
        curl_easy_setopt(call->easy, CURLOPT_URL, url.c_str());
        curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
        curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
        curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L);
      } else {
        call = idle.back();
        idle.pop_back();
      }
      call->index = next;
      call->scheduled = start + absl::Seconds(next / rate);
      call->body.clear();
      curl_multi_add_handle(multi, call->easy);
      ++next;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      Call* call = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &call);
      long status = 0;
      curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
      latencies[call->index] =
          absl::ToDoubleMilliseconds(absl::Now() - call->scheduled);
      if (call->index >= warm_calls &&
          (message->data.result != CURLE_OK || status != 200)) {
        ++result.errors;
        if (result.first_error.empty()) {
          result.first_error = absl::StrCat(
              curl_easy_strerror(message->data.result), " HTTP ", status);
        }
      }
      curl_multi_remove_handle(multi, call->easy);
      idle.push_back(call);
      ++finished;
    }
    int wait_ms = 10;
    if (next < total) {
      const absl::Duration until =
          start + absl::Seconds(next / rate) - absl::Now();
      wait_ms = static_cast<int>(
          std::clamp<int64_t>(absl::ToInt64Microseconds(until) / 1000, 0, 10));
    }
    if (running > 0 || wait_ms > 0) {
      curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
    }
  }
  result.client_cpu = SelfCpuSeconds() - self0;
  for (Call* call : idle) {
    curl_easy_cleanup(call->easy);
    delete call;
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  result.seconds = absl::GetFlag(FLAGS_duration);
  result.calls = total - warm_calls;
  result.latencies_ms.assign(latencies.begin() + warm_calls, latencies.end());
  return result;
}

std::string JsonEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  Result result;
  if (mode == "direct") {
    result = RunDirect();
  } else if (mode == "closed" || mode == "rate") {
    RpcIssuer issuer(absl::GetFlag(FLAGS_target), absl::GetFlag(FLAGS_channels),
                     absl::GetFlag(FLAGS_rpc));
    if (!issuer.valid()) {
      std::cerr << "payments-bench: unknown --rpc\n";
      return 2;
    }
    result =
        mode == "closed"
            ? RunClosed(issuer, absl::GetFlag(FLAGS_concurrency), server_pid)
            : RunRate(issuer, server_pid);
  } else {
    std::cerr << "payments-bench: --mode must be closed, rate or direct\n";
    return 2;
  }
  const double p50 = Percentile(result.latencies_ms, 0.50);
  const double p99 = Percentile(result.latencies_ms, 0.99);
  const double per_call_us = result.server_cpu >= 0 && result.calls > 0
                                 ? result.server_cpu / result.calls * 1e6
                                 : -1;
  std::printf(
      "{\"label\":\"%s\",\"mode\":\"%s\",\"rpc\":\"%s\",\"calls\":%lld,"
      "\"errors\":%lld,\"seconds\":%.3f,\"throughput\":%.1f,"
      "\"server_cpu_s\":%.3f,\"cpu_us_per_call\":%.2f,\"client_cpu_s\":%.3f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"threads_peak\":%ld,"
      "\"vmhwm_kb\":%ld,\"first_error\":\"%s\"}\n",
      JsonEscape(absl::GetFlag(FLAGS_label)).c_str(), mode.c_str(),
      mode == "direct" ? "http_get" : absl::GetFlag(FLAGS_rpc).c_str(),
      static_cast<long long>(result.calls),
      static_cast<long long>(result.errors), result.seconds,
      result.seconds > 0 ? result.calls / result.seconds : 0, result.server_cpu,
      per_call_us, result.client_cpu, p50, p99, result.threads_peak,
      server_pid > 0 ? StatusField(server_pid, "VmHWM") : -1L,
      JsonEscape(result.first_error).c_str());
  return 0;
}
