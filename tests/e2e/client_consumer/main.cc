// Uses the installed client library: creates an intent, reads it back, and
// decodes the BadRequest of a refused request, with the google.rpc headers
// the package installs under its own include directory.
//
//   consumer TARGET      exits 0 when all of it worked

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/payments_client.h"
#include "client/rpc_error.h"
#include "google/rpc/error_details.pb.h"

namespace pc = payments::client;

int Fail(const std::string& what) {
  std::cerr << "consumer: " << what << "\n";
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: consumer TARGET");
  auto client = pc::PaymentsClient::Create({.target = argv[1]});
  if (!client.ok()) return Fail(client.status().ToString());

  payments::v1::CreateIntentRequest create;
  create.set_reference(
      absl::StrCat("consumer-", absl::ToUnixNanos(absl::Now())));
  create.mutable_amount()->set_value(700);
  create.mutable_amount()->set_currency_code("GBP");
  auto created = (*client)->CreateIntent(create, {.request_id = "consumer-1"});
  if (!created.ok()) return Fail(created.status().ToString());

  payments::v1::GetIntentRequest get;
  get.set_id(created->intent().id());
  auto got = (*client)->GetIntent(get);
  if (!got.ok()) return Fail(got.status().ToString());
  if (got->intent().status() != payments::v1::PAYMENT_INTENT_STATUS_CREATED) {
    return Fail("the new intent is not CREATED");
  }

  create.set_reference(absl::StrCat(create.reference(), "-usd"));
  create.mutable_amount()->set_currency_code("USD");
  auto refused = (*client)->CreateIntent(create);
  const pc::RpcError error = pc::ParseRpcError(refused.status());
  if (error.code != absl::StatusCode::kInvalidArgument ||
      error.field_violations.empty() ||
      error.field_violations[0].field != "amount.currency_code") {
    return Fail("want INVALID_ARGUMENT on amount.currency_code, got " +
                refused.status().ToString());
  }
  google::rpc::BadRequest::FieldViolation violation;  // the installed header
  violation.set_field(error.field_violations[0].field);
  std::cout << "consumer ok: " << got->intent().id() << " "
            << payments::v1::PaymentIntentStatus_Name(got->intent().status())
            << "; refused " << violation.field() << "\n";
  return 0;
}
