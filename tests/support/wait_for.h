#ifndef TESTS_SUPPORT_WAIT_FOR_H_
#define TESTS_SUPPORT_WAIT_FOR_H_

// Small helpers for tests that start servers: ports, files, readiness waits.
// All are thread-safe.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace payments::testing {

// A TCP port on 127.0.0.1 that was free a moment ago, drawn at random from
// below the kernel's ephemeral range (net.ipv4.ip_local_port_range), so that
// no outgoing connection is given it before the caller binds it. Another
// test picking ports may still take it, which is unlikely: picks spread over
// 12,768 ports with Linux's default range.
absl::StatusOr<int> PickFreePort();

// OK once a TCP connection to 127.0.0.1:`port` succeeds; DEADLINE_EXCEEDED
// if none did within `timeout`.
absl::Status WaitForTcpPort(int port, absl::Duration timeout);

// OK once `path` exists; DEADLINE_EXCEEDED if it did not within `timeout`.
absl::Status WaitForFile(const std::string& path, absl::Duration timeout);

// Polls `condition` every 50 ms until it holds (true) or `timeout` passes
// (false).
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout);

// The whole file; NOT_FOUND or INTERNAL (with the errno text) on failure.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace payments::testing

#endif  // TESTS_SUPPORT_WAIT_FOR_H_
