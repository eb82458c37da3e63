#ifndef LIB_DOJO_HTTP_TRANSPORT_H_
#define LIB_DOJO_HTTP_TRANSPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/common/timer.h"

namespace payments::dojo {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE".
  std::string url;     // Absolute URL.
  HttpHeaders headers;
  std::string body;  // Sent only when non-empty or method is POST.
  // Whole-exchange timeout for this attempt (connect + send + receive).
  absl::Duration timeout = absl::Seconds(30);
  // False for a request that must never be sent twice (a create). HTTP
  // clients silently re-send a request whose reused (or, on HTTP/2, shared)
  // connection dies before any answer. Such a request gets a fresh
  // connection, closed after its answer, and a transport must fail it (as
  // sent) rather than send it a second time.
  bool reuse_connection = true;
};

struct HttpResponse {
  int status_code = 0;
  HttpHeaders headers;  // Names lower-cased.
  std::string body;

  // The first header named `name` (lower-case), or empty.
  std::string Header(std::string_view name) const;
};

// How far a failed exchange got, which decides whether it may be re-sent.
enum class TransportStage {
  kNotSent,  // Connect, DNS or TLS failure: the request never left.
  kSent,     // The request may have reached the server (timeout, reset).
};

// A transport failure: UNAVAILABLE or DEADLINE_EXCEEDED statuses carry the
// stage as a payload readable with GetTransportStage().
TransportStage GetTransportStage(const absl::Status& status);
void SetTransportStage(absl::Status& status, TransportStage stage);

// Completion callback. Runs on the transport's event-loop thread: it must not
// block; it may call Send() again.
using HttpCallback = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;

// Asynchronous HTTP exchange. Thread-safe. Every Send() invokes `done`
// exactly once, also when the transport shuts down (with CANCELLED). Its
// timers (RunAfter) run on the thread that runs callbacks.
class HttpTransport : public Timer {
 public:
  virtual ~HttpTransport() = default;
  virtual void Send(HttpRequest request, HttpCallback done) = 0;
};

}  // namespace payments::dojo

#endif  // LIB_DOJO_HTTP_TRANSPORT_H_
