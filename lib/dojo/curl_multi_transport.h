#ifndef LIB_DOJO_CURL_MULTI_TRANSPORT_H_
#define LIB_DOJO_CURL_MULTI_TRANSPORT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/dojo/http_transport.h"

namespace payments::dojo {

// HttpTransport over one libcurl multi handle driven by one event-loop thread.
//
// Every exchange and every RunAfter() timer runs on that single thread, so
// thousands of concurrent requests cost memory (one easy handle each), not
// threads. The loop is libcurl's socket interface on epoll: each wake-up costs
// in proportion to the sockets that are ready, not to the requests in flight,
// and many Send()s arriving together share one wake-up (an eventfd).
// Connections are pooled and reused (keep-alive); HTTPS endpoints that offer
// HTTP/2 are multiplexed over few connections. Redirects are never followed;
// signals are never used. Note that resolving a host *name* uses libcurl's
// threaded resolver (a short-lived thread per lookup, cached for 60 s); IP
// literals and cached names use none.
//
// TLS: peer and host name verification are always on. The system trust store
// (/etc/ssl/certs) is always trusted; `Options::ca_file` adds a PEM bundle to
// it (CURLOPT_CAINFO = ca_file plus CURLOPT_CAPATH = /etc/ssl/certs, which
// OpenSSL consults both).
//
// Results (see HttpTransport for the callback contract):
// - any HTTP response, whatever its status code, is OK;
// - DNS, connect, connect timeout, TLS handshake or certificate failure:
//   UNAVAILABLE with TransportStage::kNotSent;
// - timeout after the request started: DEADLINE_EXCEEDED with kSent;
// - send/receive error or connection closed mid-exchange: UNAVAILABLE, kSent;
// - a malformed request (bad URL, unsupported method, CR/LF in a header):
//   INVALID_ARGUMENT with kNotSent;
// - a request with reuse_connection = false that libcurl would re-send by
//   itself (its connection died unanswered): UNAVAILABLE, kSent; never sent
//   twice;
// - shutdown: CANCELLED.
// Error messages name the host and port, never header values or bodies.
//
// Thread safety: Send(), RunAfter() and ActiveRequests() may be called from
// any thread, including re-entrantly from callbacks. Callbacks run on the loop
// thread with no lock held and must not block.
class CurlMultiTransport final : public HttpTransport {
 public:
  struct Options {
    // Extra PEM CA bundle trusted in addition to the system store; empty
    // means the system store only.
    std::string ca_file;
    // Limit for DNS + TCP connect + TLS handshake, within each request's
    // own timeout.
    absl::Duration connect_timeout = absl::Seconds(5);
    // Concurrent connections per host; further requests queue inside libcurl
    // (their timeout runs while queued). HTTP/2 multiplexes on top.
    int max_connections_per_host = 64;
    std::string user_agent = "payments-gateway/1";
  };

  // Starts the event-loop thread. Fails with INVALID_ARGUMENT on a bad option
  // (including an unreadable `ca_file`), INTERNAL if libcurl cannot be
  // initialised.
  static absl::StatusOr<std::unique_ptr<CurlMultiTransport>> Create(
      Options options);

  // Stops the loop and joins its thread: every queued and in-flight request
  // completes with CANCELLED and every pending RunAfter() timer runs with
  // CANCELLED (each callback exactly once, on the loop thread, before
  // Shutdown returns), including work those callbacks add meanwhile. After
  // that, Send() and RunAfter() complete at once with CANCELLED on the
  // calling thread. Idempotent. Must not be called from a callback.
  void Shutdown();

  // Shutdown(). No other thread may call Send() or RunAfter() once
  // destruction has begun.
  ~CurlMultiTransport() override;

  CurlMultiTransport(const CurlMultiTransport&) = delete;
  CurlMultiTransport& operator=(const CurlMultiTransport&) = delete;

  void Send(HttpRequest request, HttpCallback done) override;

  // Runs `fn` with OK on the loop thread once `delay` has passed (timers due
  // at the same time run in the order they were added); see Shutdown() and
  // Timer for CANCELLED.
  void RunAfter(absl::Duration delay, TimerCallback fn) override;

  // Requests accepted by Send() whose callback has not started yet.
  size_t ActiveRequests() const;

 private:
  class Loop;

  explicit CurlMultiTransport(std::unique_ptr<Loop> loop);

  std::unique_ptr<Loop> loop_;
};

}  // namespace payments::dojo

#endif  // LIB_DOJO_CURL_MULTI_TRANSPORT_H_
