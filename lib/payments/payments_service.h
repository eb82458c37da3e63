#ifndef LIB_PAYMENTS_PAYMENTS_SERVICE_H_
#define LIB_PAYMENTS_PAYMENTS_SERVICE_H_

// The use cases behind the five RPCs, free of gRPC server types: validate
// locally, pick the account's key, call Dojo, shape the answer.

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/common/call_context.h"
#include "lib/common/reloadable.h"
#include "lib/dojo/dojo_client.h"
#include "lib/idempotency/idempotency_store.h"
#include "lib/idempotency/worker_pool.h"
#include "lib/metrics/metrics.h"
#include "lib/payments/account_keys.h"
#include "lib/payments/idempotent_creator.h"
#include "lib/payments/intent_operations.h"
#include "lib/webhook/signature_verifier.h"
#include "payments/v1/payments_service.pb.h"

namespace payments {

template <typename Response>
using Done = absl::AnyInvocable<void(absl::StatusOr<Response>) &&>;

struct PaymentsServiceOptions {
  size_t max_webhook_body_bytes = 64 * 1024;
  // How long webhook event ids are remembered to spot redeliveries.
  absl::Duration webhook_retention = absl::Hours(24 * 3);
};

// Thread-safe. Asynchronous methods call `done` exactly once, either inline
// (invalid input: nothing is sent upstream) or on the Dojo transport's
// event-loop thread, so `done` must not block. `context` bounds all
// upstream work of the call (deadline, cancellation).
class PaymentsService final {
 public:
  // All references must outlive the service; `metrics` may be null.
  // `accounts` and `verifier` may be replaced while the service runs (key
  // and secret rotation); each call uses the snapshot current at its start.
  PaymentsService(dojo::DojoClient& dojo, IdempotentCreator& creator,
                  IntentOperations& operations,
                  idempotency::IdempotencyStore& store,
                  idempotency::WorkerPool& pool,
                  const Reloadable<AccountKeys>& accounts,
                  const Reloadable<webhook::SignatureVerifier>& verifier,
                  PaymentsServiceOptions options, metrics::Metrics* metrics);

  void CreateIntent(const v1::CreateIntentRequest& request,
                    const CallContext& context,
                    Done<v1::CreateIntentResponse> done);
  // The intent as Dojo has it now (no store). The response is built field
  // by field from Dojo's JSON, so it never carries unknown fields.
  void GetIntent(const v1::GetIntentRequest& request,
                 const CallContext& context, Done<v1::GetIntentResponse> done);
  // As CreateIntent for CreateRequestForLink(request), never with a client
  // session secret; the answer carries none either.
  void CreatePaymentLink(const v1::CreatePaymentLinkRequest& request,
                         const CallContext& context,
                         Done<v1::CreatePaymentLinkResponse> done);
  void RefreshClientSessionSecret(
      const v1::RefreshClientSessionSecretRequest& request,
      const CallContext& context,
      Done<v1::RefreshClientSessionSecretResponse> done);

  // The lifecycle (intent_operations.h): journaled, idempotent, serialised
  // per intent, preconditions checked before anything is sent.
  void CancelIntent(const v1::CancelIntentRequest& request,
                    const CallContext& context,
                    Done<v1::CancelIntentResponse> done);
  void CaptureIntent(const v1::CaptureIntentRequest& request,
                     const CallContext& context,
                     Done<v1::CaptureIntentResponse> done);
  void ReverseIntent(const v1::ReverseIntentRequest& request,
                     const CallContext& context,
                     Done<v1::ReverseIntentResponse> done);
  void RefundIntent(const v1::RefundIntentRequest& request,
                    const CallContext& context,
                    Done<v1::RefundIntentResponse> done);
  // Reads, retried.
  void GetRefund(const v1::GetRefundRequest& request,
                 const CallContext& context, Done<v1::GetRefundResponse> done);
  void ListIntents(const v1::ListIntentsRequest& request,
                   const CallContext& context,
                   Done<v1::ListIntentsResponse> done);

  // Checks the signature and parses the event (inline, no I/O), then
  // remembers the event id in the store (worker pool) to flag redeliveries;
  // a redelivery the store can tell without waiting is flagged inline.
  // The response is built field by field: it never carries unknown fields.
  void VerifyWebhook(const v1::VerifyWebhookRequest& request,
                     Done<v1::VerifyWebhookResponse> done);

 private:
  // A configured account ("" resolved to the default) and its key.
  struct AccountKey {
    std::string account;
    std::string key;
  };
  // INVALID_ARGUMENT UNKNOWN_ACCOUNT if `account` is not configured.
  absl::StatusOr<AccountKey> ResolveAccount(absl::string_view account) const;

  // Validates, creates the intent idempotently and, unless it is a replay,
  // issues a client session secret if asked.
  void CreateValidatedIntent(v1::CreateIntentRequest request,
                             const CallContext& context, CreateDone done);
  absl::StatusOr<v1::VerifyWebhookResponse> VerifyWebhookSignature(
      const v1::VerifyWebhookRequest& request) const;
  // A refresh Dojo refused: FAILED_PRECONDITION INTENT_NOT_CREATED if the
  // intent is no longer Created, else `refused` as it is.
  void ExplainRefusedRefresh(const std::string& key, const std::string& id,
                             absl::Status refused, const CallContext& context,
                             Done<v1::RefreshClientSessionSecretResponse> done);
  // Resolves the account and runs a lifecycle operation (`request` valid).
  void RunOperation(OperationRequest request, const CallContext& context,
                    OperationDone done);

  dojo::DojoClient& dojo_;
  IdempotentCreator& creator_;
  IntentOperations& operations_;
  idempotency::IdempotencyStore& store_;
  idempotency::WorkerPool& pool_;
  const Reloadable<AccountKeys>& accounts_;
  const Reloadable<webhook::SignatureVerifier>& verifier_;
  const PaymentsServiceOptions options_;
  metrics::Metrics* const metrics_;
};

// The CreateIntentRequest a link request stands for: its known fields only
// (unknown fields, at any depth, are dropped), so a link request can never
// ask for what it does not define, e.g. a client session secret. INTERNAL
// if the two messages no longer share their field numbers and types.
absl::StatusOr<v1::CreateIntentRequest> CreateRequestForLink(
    const v1::CreatePaymentLinkRequest& link);
// True while every CreatePaymentLinkRequest field has a CreateIntentRequest
// field of the same number, name and type.
bool LinkFieldsMatchCreateFields();

// The hosted checkout URL of an intent: Dojo's `paymentLink` when present,
// else https://pay.dojo.tech/checkout/{id}.
std::string PaymentLinkOf(const v1::PaymentIntent& intent);

}  // namespace payments

#endif  // LIB_PAYMENTS_PAYMENTS_SERVICE_H_
