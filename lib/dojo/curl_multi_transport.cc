#include "lib/dojo/curl_multi_transport.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace payments::dojo {
namespace {

using Clock = std::chrono::steady_clock;

// Consulted in addition to `Options::ca_file`; Debian keeps the system trust
// store here as hashed links, which CURLOPT_CAPATH needs.
constexpr char kSystemCaDir[] = "/etc/ssl/certs";
// Upper bound on one epoll_wait(); new work interrupts it anyway.
constexpr long kIdlePollMs = 1000;
// Socket events handled per epoll_wait() call.
constexpr int kMaxEvents = 256;
// Dojo answers are small JSON documents; anything bigger is a broken peer.
constexpr size_t kMaxResponseBytes = 16 << 20;
// Finished easy handles kept for the next requests (curl_easy_reset instead
// of curl_easy_cleanup + curl_easy_init). Each holds a ~16 KB receive buffer,
// so only a modest number is kept: enough for the usual requests in flight,
// not the peak of a burst.
constexpr size_t kMaxIdleEasyHandles = 128;

absl::Status GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("dojo transport: curl_global_init failed: ",
                     curl_easy_strerror(result)));
  }
  return absl::OkStatus();
}

// One exchange. Owns everything libcurl points into while it runs; `easy`
// goes back to the loop's idle handles when it completes (Loop::Complete).
struct Transfer {
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
  }

  HttpRequest request;
  HttpCallback done;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::string host_port;  // For error messages only.
  HttpResponse response;
  bool request_started = false;  // Set by the PREREQ callback.
  // libcurl tried to send a `reuse_connection = false` request a second time
  // and OnRequestStart stopped it.
  bool resend_refused = false;
  bool response_too_large = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  absl::string_view line(data, length);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (absl::StartsWith(line, "HTTP/")) {
    // A new header block (after a 1xx response): keep only the final one.
    transfer->response.headers.clear();
    return length;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return length;
  transfer->response.headers.emplace_back(
      absl::AsciiStrToLower(line.substr(0, colon)),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return length;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (transfer->response.body.size() + length > kMaxResponseBytes) {
    transfer->response_too_large = true;
    return 0;  // Aborts the transfer with CURLE_WRITE_ERROR.
  }
  transfer->response.body.append(data, length);
  return length;
}

// libcurl calls this once the connection (TCP + TLS) is established or
// reused, right before the request is written: from here on the server may
// have seen it.
//
// libcurl also calls it again before it re-sends the request by itself
// (Curl_retry_request in lib/transfer.c, 7.88): when a connection with
// `bits.reuse` set dies before any response byte (CURLE_RECV_ERROR, or EOF
// on HTTP/1.1). `bits.reuse` belongs to the connection and is set as soon as
// any other transfer reuses it, which on HTTP/2 includes every request
// multiplexed onto the connection while ours is in flight, so
// CURLOPT_FRESH_CONNECT alone does not prevent it. It also re-sends after a
// refused HTTP/2 stream (safe) and, over HTTP/1.1, after an
// HTTP_1_1_REQUIRED reset. A request that must not be sent twice (a create)
// is stopped here, before the second copy is written: the first may have
// been processed. It fails as kSent, and the caller reconciles.
int OnRequestStart(void* user, char* /*primary_ip*/, char* /*local_ip*/,
                   int /*primary_port*/, int /*local_port*/) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->request_started && !transfer->request.reuse_connection) {
    transfer->resend_refused = true;
    return CURL_PREREQFUNC_ABORT;
  }
  transfer->request_started = true;
  return CURL_PREREQFUNC_OK;
}

absl::Status StageError(absl::StatusCode code, absl::string_view what,
                        absl::string_view host_port, TransportStage stage) {
  absl::Status status(
      code, host_port.empty()
                ? absl::StrCat("dojo transport: ", what)
                : absl::StrCat("dojo transport: ", what, " (", host_port, ")"));
  SetTransportStage(status, stage);
  return status;
}

// "host:port" of an http(s) URL, or an error for anything else.
absl::StatusOr<std::string> HostPort(const std::string& url) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) {
    return absl::ResourceExhaustedError("dojo transport: out of memory");
  }
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  absl::StatusOr<std::string> result =
      absl::InvalidArgumentError("dojo transport: malformed URL");
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
          CURLUE_OK) {
    if (absl::EqualsIgnoreCase(scheme, "http") ||
        absl::EqualsIgnoreCase(scheme, "https")) {
      result = absl::StrCat(host, ":", port);
    } else {
      result = absl::InvalidArgumentError(
          "dojo transport: only http and https URLs are supported");
    }
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(parsed);
  return result;
}

bool HasLineBreakOrNul(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) !=
         std::string_view::npos;
}

// Maps a failed exchange to a status. `request_started` (not the error code)
// decides the stage: the code alone cannot tell a connect-phase timeout from
// a response timeout.
absl::Status TransferError(const Transfer& transfer, CURLcode code) {
  const TransportStage stage = transfer.request_started
                                   ? TransportStage::kSent
                                   : TransportStage::kNotSent;
  absl::StatusCode status_code = absl::StatusCode::kUnavailable;
  absl::string_view what;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      what = "cannot resolve host";
      break;
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(transfer.easy, CURLINFO_OS_ERRNO, &os_errno);
      what = os_errno == ECONNREFUSED ? "connection refused" : "cannot connect";
      break;
    }
    case CURLE_OPERATION_TIMEDOUT:
      if (stage == TransportStage::kSent) {
        status_code = absl::StatusCode::kDeadlineExceeded;
        what = "timed out waiting for the response";
      } else {
        what = "connect timed out";
      }
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      what = "TLS certificate verification failed";
      break;
    case CURLE_SSL_CONNECT_ERROR:
      what = "TLS handshake failed";
      break;
    case CURLE_SSL_CACERT_BADFILE:
      what = "cannot load the CA file";
      break;
    case CURLE_GOT_NOTHING:
      what = "connection closed without a response";
      break;
    case CURLE_SEND_ERROR:
      what = "send failed";
      break;
    case CURLE_RECV_ERROR:
      what = "receive failed";
      break;
    case CURLE_PARTIAL_FILE:
      what = "response truncated";
      break;
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      what = "HTTP/2 error";
      break;
    case CURLE_WEIRD_SERVER_REPLY:
      what = "malformed response";
      break;
    case CURLE_WRITE_ERROR:
      what = transfer.response_too_large ? "response too large"
                                         : curl_easy_strerror(code);
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      what = transfer.resend_refused
                 ? "connection lost before the response (not re-sent)"
                 : curl_easy_strerror(code);
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      status_code = absl::StatusCode::kInvalidArgument;
      what = "unsupported URL";
      break;
    default:
      // libcurl's fixed description of the code; it holds no request data.
      what = curl_easy_strerror(code);
      break;
  }
  return StageError(status_code, what, transfer.host_port, stage);
}

struct PendingTimer {
  Clock::time_point due;
  uint64_t sequence;
  TimerCallback fn;
};

// Orders a std::*_heap so that the front is the earliest (then oldest) timer.
bool LaterTimer(const PendingTimer& a, const PendingTimer& b) {
  if (a.due != b.due) return a.due > b.due;
  return a.sequence > b.sequence;
}

}  // namespace

class CurlMultiTransport::Loop {
 public:
  // Takes ownership of `multi`, `epoll_fd` and `wake_fd`.
  Loop(CurlMultiTransport::Options options, CURLM* multi, int epoll_fd,
       int wake_fd)
      : options_(std::move(options)),
        multi_(multi),
        epoll_fd_(epoll_fd),
        wake_fd_(wake_fd) {
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Loop::OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Loop::OnCurlTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, static_cast<void*>(this));
  }

  ~Loop() {
    for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
    close(wake_fd_);
    close(epoll_fd_);
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  // Idempotent; the first caller joins the loop thread.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    Signal();
    if (thread_.joinable()) thread_.join();
  }

  void Send(HttpRequest request, HttpCallback done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->done = std::move(done);
    active_.fetch_add(1, std::memory_order_relaxed);
    {
      absl::MutexLock lock(&mu_);
      if (!stopped_) incoming_.push_back(std::move(transfer));
    }
    if (transfer == nullptr) {
      Wake();
      return;
    }
    Complete(std::move(transfer),
             StageError(absl::StatusCode::kCancelled, "shut down", "",
                        TransportStage::kNotSent));
  }

  void RunAfter(absl::Duration delay, TimerCallback fn) {
    // Clamped so that InfiniteDuration cannot overflow the time point.
    const absl::Duration clamped =
        std::clamp(delay, absl::ZeroDuration(), absl::Hours(24 * 365));
    const Clock::time_point due =
        Clock::now() + absl::ToChronoNanoseconds(clamped);
    bool queued = false;
    {
      absl::MutexLock lock(&mu_);
      if (!stopped_) {
        timers_.push_back(
            PendingTimer{due, next_timer_sequence_++, std::move(fn)});
        std::push_heap(timers_.begin(), timers_.end(), LaterTimer);
        queued = true;
      }
    }
    if (queued) {
      Wake();
      return;
    }
    std::move(fn)(absl::CancelledError("dojo transport: shut down"));
  }

  size_t ActiveRequests() const {
    return active_.load(std::memory_order_relaxed);
  }

 private:
  using Completion =
      std::pair<std::unique_ptr<Transfer>, absl::StatusOr<HttpResponse>>;

  // Wakes the loop unless a wake-up is already pending: under load many
  // Send()s share one eventfd write and one loop iteration.
  void Wake() {
    if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) Signal();
  }

  void Signal() {
    const uint64_t one = 1;
    // EAGAIN (counter full) still leaves the eventfd readable.
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }

  // libcurl's CURLMOPT_SOCKETFUNCTION: mirrors the sockets it wants watched
  // into the epoll set (level-triggered). `socketp` is non-null once added.
  static int OnSocket(CURL* /*easy*/, curl_socket_t socket, int what,
                      void* user, void* socketp) {
    auto* loop = static_cast<Loop*>(user);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(loop->epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
      curl_multi_assign(loop->multi_, socket, nullptr);
      return 0;
    }
    epoll_event event{};
    event.data.fd = socket;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
      event.events |= EPOLLIN;
    }
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
      event.events |= EPOLLOUT;
    }
    int op = socketp == nullptr ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(loop->epoll_fd_, op, socket, &event) != 0) {
      // A descriptor number libcurl reused behind our back: retry the
      // other operation.
      op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (epoll_ctl(loop->epoll_fd_, op, socket, &event) != 0) return -1;
    }
    if (socketp == nullptr) {
      curl_multi_assign(loop->multi_, socket, static_cast<void*>(loop));
    }
    return 0;
  }

  // libcurl's CURLMOPT_TIMERFUNCTION: when to call socket_action(TIMEOUT).
  static int OnCurlTimer(CURLM* /*multi*/, long timeout_ms, void* user) {
    auto* loop = static_cast<Loop*>(user);
    if (timeout_ms < 0) {
      loop->curl_due_.reset();
    } else {
      loop->curl_due_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  void Run() {
    std::vector<Completion> completions;
    epoll_event events[kMaxEvents];
    for (;;) {
      // Cleared before the queue is read: a Send() after this point wakes
      // the loop again.
      wake_pending_.store(false, std::memory_order_release);
      std::vector<std::unique_ptr<Transfer>> incoming;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;
        incoming.swap(incoming_);
      }
      for (std::unique_ptr<Transfer>& transfer : incoming) {
        StartTransfer(std::move(transfer), completions);
      }

      int running = 0;
      if (curl_due_.has_value() && *curl_due_ <= Clock::now()) {
        curl_due_.reset();
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      CollectFinished(completions);
      RunCompletions(completions);
      RunDueTimers();

      const int ready = epoll_wait(epoll_fd_, events, kMaxEvents,
                                   static_cast<int>(PollTimeoutMs()));
      for (int i = 0; i < ready; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          uint64_t count = 0;
          [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
          continue;
        }
        int mask = 0;
        if (events[i].events & (EPOLLIN | EPOLLHUP)) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & EPOLLERR) mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi_, fd, mask, &running);
      }
      CollectFinished(completions);
      RunCompletions(completions);
    }
    Shutdown();
  }

  void CollectFinished(std::vector<Completion>& completions) {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      std::unique_ptr<Transfer> transfer = Detach(message->easy_handle);
      const CURLcode code = message->data.result;
      absl::StatusOr<HttpResponse> result = Finish(*transfer, code);
      completions.emplace_back(std::move(transfer), std::move(result));
    }
  }

  // Configures and adds an easy handle, or queues an immediate failure.
  void StartTransfer(std::unique_ptr<Transfer> transfer,
                     std::vector<Completion>& completions) {
    absl::Status status = Configure(*transfer);
    if (status.ok() &&
        curl_multi_add_handle(multi_, transfer->easy) != CURLM_OK) {
      status =
          StageError(absl::StatusCode::kUnavailable, "cannot start the request",
                     transfer->host_port, TransportStage::kNotSent);
    }
    if (!status.ok()) {
      completions.emplace_back(std::move(transfer), std::move(status));
      return;
    }
    Transfer* raw = transfer.get();
    running_.emplace(raw, std::move(transfer));
  }

  absl::Status Configure(Transfer& transfer) {
    const HttpRequest& request = transfer.request;
    absl::StatusOr<std::string> host_port = HostPort(request.url);
    if (!host_port.ok()) {
      absl::Status status = host_port.status();
      SetTransportStage(status, TransportStage::kNotSent);
      return status;
    }
    transfer.host_port = *std::move(host_port);
    auto invalid = [&](absl::string_view what) {
      return StageError(absl::StatusCode::kInvalidArgument, what,
                        transfer.host_port, TransportStage::kNotSent);
    };
    const std::string& method = request.method;
    if (method != "GET" && method != "POST" && method != "DELETE" &&
        method != "PUT" && method != "PATCH") {
      return invalid("unsupported method");
    }

    bool has_content_type = false;
    auto append = [&](const std::string& line) {
      curl_slist* extended =
          curl_slist_append(transfer.header_list, line.c_str());
      if (extended == nullptr) return false;
      transfer.header_list = extended;
      return true;
    };
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || HasLineBreakOrNul(name) || HasLineBreakOrNul(value) ||
          name.find(':') != std::string::npos) {
        return invalid("invalid header");
      }
      if (absl::EqualsIgnoreCase(name, "content-type")) has_content_type = true;
      // "Name;" is libcurl's spelling of a header with an empty value.
      if (!append(value.empty() ? absl::StrCat(name, ";")
                                : absl::StrCat(name, ": ", value))) {
        return absl::ResourceExhaustedError("dojo transport: out of memory");
      }
    }
    // No "Expect: 100-continue" round trip; no implicit form content type.
    if (!append("Expect:") || (!has_content_type && !append("Content-Type:"))) {
      return absl::ResourceExhaustedError("dojo transport: out of memory");
    }

    transfer.easy = AcquireEasy();
    if (transfer.easy == nullptr) {
      return absl::ResourceExhaustedError("dojo transport: out of memory");
    }
    CURL* easy = transfer.easy;
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
    };
    set(CURLOPT_PRIVATE, static_cast<void*>(&transfer));
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_TIMEOUT_MS, TimeoutMs(request.timeout));
    set(CURLOPT_CONNECTTIMEOUT_MS, TimeoutMs(options_.connect_timeout));
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) {
      // CAINFO replaces the built-in bundle; CAPATH keeps the system store.
      set(CURLOPT_CAINFO, options_.ca_file.c_str());
      set(CURLOPT_CAPATH, kSystemCaDir);
    }
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    if (absl::StartsWithIgnoreCase(request.url, "https:")) {
      // Prefer waiting for a connection that may multiplex (HTTP/2, known
      // after the TLS handshake) over opening another. Not for plain http:
      // there libcurl learns that HTTP/1.1 cannot multiplex only from the
      // first response, and every other request would wait for it.
      set(CURLOPT_PIPEWAIT, 1L);
    }
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    // libcurl re-sends a request, POST included, when a reused connection
    // dies before the answer starts; a fresh connection is never re-sent.
    // It is closed after the answer too: kept, it would join the idle cache
    // (one more connection per create, up to the per-host limit).
    if (!request.reuse_connection) {
      set(CURLOPT_FRESH_CONNECT, 1L);
      set(CURLOPT_FORBID_REUSE, 1L);
    }
    set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(CURLOPT_HTTPHEADER, transfer.header_list);
    set(CURLOPT_HEADERFUNCTION, &OnHeader);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
    set(CURLOPT_WRITEFUNCTION, &OnBody);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
    set(CURLOPT_PREREQFUNCTION, &OnRequestStart);
    set(CURLOPT_PREREQDATA, static_cast<void*>(&transfer));
    if (method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else {
      if (method != "POST") set(CURLOPT_CUSTOMREQUEST, method.c_str());
      if (method == "POST" || !request.body.empty()) {
        // Sends Content-Length, also when it is 0. libcurl does not copy the
        // body: it lives in `transfer.request` until the handle is gone.
        set(CURLOPT_POSTFIELDSIZE_LARGE,
            static_cast<curl_off_t>(request.body.size()));
        set(CURLOPT_POSTFIELDS, request.body.data());
      }
    }
    if (rc != CURLE_OK) {
      return StageError(absl::StatusCode::kInternal, curl_easy_strerror(rc),
                        transfer.host_port, TransportStage::kNotSent);
    }
    return absl::OkStatus();
  }

  static long TimeoutMs(absl::Duration timeout) {
    if (timeout == absl::InfiniteDuration()) return 0;  // 0 = no limit.
    const int64_t millis =
        absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
    // Never 0, which libcurl reads as "no timeout".
    return static_cast<long>(std::clamp<int64_t>(millis, 1, LONG_MAX));
  }

  std::unique_ptr<Transfer> Detach(CURL* easy) {
    curl_multi_remove_handle(multi_, easy);
    void* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    auto it = running_.find(static_cast<Transfer*>(raw));
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    running_.erase(it);
    return transfer;
  }

  static absl::StatusOr<HttpResponse> Finish(Transfer& transfer,
                                             CURLcode code) {
    if (code != CURLE_OK) return TransferError(transfer, code);
    long status_code = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status_code);
    transfer.response.status_code = static_cast<int>(status_code);
    return std::move(transfer.response);
  }

  // Runs callbacks with no lock held; they may call Send()/RunAfter().
  void RunCompletions(std::vector<Completion>& completions) {
    for (auto& [transfer, result] : completions) {
      Complete(std::move(transfer), std::move(result));
    }
    completions.clear();
  }

  // An idle easy handle reset to libcurl's defaults, else a new one (null
  // when out of memory). Loop thread only.
  CURL* AcquireEasy() {
    if (idle_easy_.empty()) return curl_easy_init();
    CURL* easy = idle_easy_.back();
    idle_easy_.pop_back();
    return easy;
  }

  // Keeps `easy` (no longer in the multi handle) for AcquireEasy, or frees
  // it. Reset here rather than when taken, so that an idle handle holds no
  // pointer into a finished Transfer. Loop thread only.
  void ReleaseEasy(CURL* easy) {
    if (idle_easy_.size() >= kMaxIdleEasyHandles) {
      curl_easy_cleanup(easy);
      return;
    }
    curl_easy_reset(easy);
    idle_easy_.push_back(easy);
  }

  // On the loop thread, or on a Send() caller's thread for a transfer that
  // never got an easy handle.
  void Complete(std::unique_ptr<Transfer> transfer,
                absl::StatusOr<HttpResponse> result) {
    HttpCallback done = std::move(transfer->done);
    if (transfer->easy != nullptr) {
      ReleaseEasy(std::exchange(transfer->easy, nullptr));
    }
    transfer.reset();
    active_.fetch_sub(1, std::memory_order_relaxed);
    std::move(done)(std::move(result));
  }

  void RunDueTimers() {
    std::vector<TimerCallback> due;
    {
      absl::MutexLock lock(&mu_);
      const Clock::time_point now = Clock::now();
      while (!timers_.empty() && timers_.front().due <= now) {
        std::pop_heap(timers_.begin(), timers_.end(), LaterTimer);
        due.push_back(std::move(timers_.back().fn));
        timers_.pop_back();
      }
    }
    for (auto& fn : due) std::move(fn)(absl::OkStatus());
  }

  // Until the next RunAfter() timer or libcurl timeout, at most kIdlePollMs.
  long PollTimeoutMs() {
    Clock::time_point due =
        Clock::now() + std::chrono::milliseconds(kIdlePollMs);
    {
      absl::MutexLock lock(&mu_);
      if (!timers_.empty()) due = std::min(due, timers_.front().due);
    }
    if (curl_due_.has_value()) due = std::min(due, *curl_due_);
    const auto wait = due - Clock::now();
    // Round up so a timer a fraction of a millisecond away does not spin.
    const auto millis =
        std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return static_cast<long>(std::clamp<int64_t>(millis, 0, kIdlePollMs));
  }

  void Shutdown() {
    std::vector<Completion> completions;
    for (auto& [raw, transfer] : running_) {
      curl_multi_remove_handle(multi_, transfer->easy);
      const TransportStage stage = transfer->request_started
                                       ? TransportStage::kSent
                                       : TransportStage::kNotSent;
      absl::Status status = StageError(absl::StatusCode::kCancelled,
                                       "shut down", transfer->host_port, stage);
      completions.emplace_back(std::move(transfer), std::move(status));
    }
    running_.clear();
    RunCompletions(completions);
    // Callbacks may queue more requests and timers: cancel until none are
    // left, then refuse new ones (they are cancelled on the caller's thread).
    for (;;) {
      std::vector<std::unique_ptr<Transfer>> incoming;
      std::vector<PendingTimer> timers;
      {
        absl::MutexLock lock(&mu_);
        if (incoming_.empty() && timers_.empty()) {
          stopped_ = true;
          break;
        }
        incoming.swap(incoming_);
        timers.swap(timers_);
      }
      for (std::unique_ptr<Transfer>& transfer : incoming) {
        Complete(std::move(transfer),
                 StageError(absl::StatusCode::kCancelled, "shut down", "",
                            TransportStage::kNotSent));
      }
      // In due order, as they would have run.
      std::sort(timers.begin(), timers.end(),
                [](const PendingTimer& a, const PendingTimer& b) {
                  return LaterTimer(b, a);
                });
      for (PendingTimer& timer : timers) {
        std::move(timer.fn)(absl::CancelledError("dojo transport: shut down"));
      }
    }
  }

  const CurlMultiTransport::Options options_;
  CURLM* const multi_;
  const int epoll_fd_;
  const int wake_fd_;  // eventfd, in the epoll set: new work or Stop().
  std::thread thread_;
  std::atomic<size_t> active_{0};
  std::atomic<bool> wake_pending_{false};

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Transfer>> incoming_ ABSL_GUARDED_BY(mu_);
  std::vector<PendingTimer> timers_
      ABSL_GUARDED_BY(mu_);  // Heap, see LaterTimer.
  uint64_t next_timer_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;

  // Loop thread only.
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> running_;
  std::optional<Clock::time_point> curl_due_;  // libcurl's next timeout.
  std::vector<CURL*>
      idle_easy_;  // At most kMaxIdleEasyHandles, see ReleaseEasy.
};

absl::StatusOr<std::unique_ptr<CurlMultiTransport>> CurlMultiTransport::Create(
    Options options) {
  if (options.max_connections_per_host < 1) {
    return absl::InvalidArgumentError(
        "dojo transport: max_connections_per_host must be at least 1");
  }
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "dojo transport: connect_timeout must be positive");
  }
  if (!options.ca_file.empty() && access(options.ca_file.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dojo transport: cannot read CA file ", options.ca_file));
  }
  if (absl::Status status = GlobalInit(); !status.ok()) return status;
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) {
    return absl::InternalError("dojo transport: curl_multi_init failed");
  }
  const long per_host = options.max_connections_per_host;
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
  // Idle connections kept for reuse: room for a couple of hosts at full use.
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 2 * per_host);
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd;
  if (epoll_fd < 0 || wake_fd < 0 ||
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0) {
    if (epoll_fd >= 0) close(epoll_fd);
    if (wake_fd >= 0) close(wake_fd);
    curl_multi_cleanup(multi);
    return absl::InternalError("dojo transport: cannot create the event loop");
  }
  auto loop =
      std::make_unique<Loop>(std::move(options), multi, epoll_fd, wake_fd);
  loop->Start();
  return std::unique_ptr<CurlMultiTransport>(
      new CurlMultiTransport(std::move(loop)));
}

CurlMultiTransport::CurlMultiTransport(std::unique_ptr<Loop> loop)
    : loop_(std::move(loop)) {}

CurlMultiTransport::~CurlMultiTransport() { loop_->Stop(); }

void CurlMultiTransport::Shutdown() { loop_->Stop(); }

void CurlMultiTransport::Send(HttpRequest request, HttpCallback done) {
  loop_->Send(std::move(request), std::move(done));
}

void CurlMultiTransport::RunAfter(absl::Duration delay, TimerCallback fn) {
  loop_->RunAfter(delay, std::move(fn));
}

size_t CurlMultiTransport::ActiveRequests() const {
  return loop_->ActiveRequests();
}

}  // namespace payments::dojo
