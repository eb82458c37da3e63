#ifndef LIB_IDEMPOTENCY_STORE_URL_H_
#define LIB_IDEMPOTENCY_STORE_URL_H_

// What a PAYMENTS_STORE value may be, checked without any I/O, so that a
// configuration that can never connect is refused at start-up rather than
// leaving the server NOT_SERVING while it retries forever. OpenStore
// (idempotency_store.h) applies the same check.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace payments::idempotency {

// OK for "sqlite:<path>" with a non-empty path, and for a postgresql:// or
// postgres:// URL that libpq parses and whose options have valid values
// (sslmode, gssencmode, channel_binding, target_session_attrs, ports, one
// port per host). Otherwise INVALID_ARGUMENT "PAYMENTS_STORE: ..." naming the
// option at fault, never any value from the URL (it may hold a password).
absl::Status ValidateStoreUrl(absl::string_view url);

}  // namespace payments::idempotency

#endif  // LIB_IDEMPOTENCY_STORE_URL_H_
