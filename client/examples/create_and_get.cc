// Example: create a payment intent, then read it back, with the client
// library. Exits 0 when both calls succeed; prints the error block and exits
// with the gRPC code otherwise.
//
//   create_and_get [TARGET]     (default localhost:50051)

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/payments_client.h"
#include "client/rpc_error.h"

int main(int argc, char** argv) {
  payments::client::ClientOptions options;
  if (argc > 1) options.target = argv[1];
  options.default_deadline = absl::Seconds(5);
  auto client = payments::client::PaymentsClient::Create(options);
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 2;
  }

  payments::v1::CreateIntentRequest create;
  // The reference is the idempotency key: repeating this exact call returns
  // the same intent (idempotent_replay) instead of creating a second one.
  create.set_reference(
      absl::StrCat("example-", absl::ToUnixMillis(absl::Now())));
  create.mutable_amount()->set_value(1250);
  create.mutable_amount()->set_currency_code("GBP");
  create.set_description("Example order");
  auto created = (*client)->CreateIntent(create, {.request_id = "example-1"});
  if (!created.ok()) {
    std::cerr << payments::client::FormatRpcError(
        payments::client::ParseRpcError(created.status()));
    return static_cast<int>(created.status().code());
  }
  std::cout << "created " << created->intent().id() << "\n";

  payments::v1::GetIntentRequest get;
  get.set_id(created->intent().id());
  auto got = (*client)->GetIntent(get);
  if (!got.ok()) {
    std::cerr << payments::client::FormatRpcError(
        payments::client::ParseRpcError(got.status()));
    return static_cast<int>(got.status().code());
  }
  std::cout << "status "
            << payments::v1::PaymentIntentStatus_Name(got->intent().status())
            << ", amount " << got->intent().amount().value() << " "
            << got->intent().amount().currency_code() << "\n";
  return 0;
}
