// Reads one intent with GetIntent in a loop, on one PaymentsClient (the C++
// library, whose channel carries proto/service_config.json), for a while:
//
//   e2e_read_loop TARGET INTENT_ID SECONDS
//
// Each failed call prints "FAIL <error> after <s>"; the summary line is
// "calls N failed F slowest S". Exits 1 if any call failed.

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "client/payments_client.h"

int main(int argc, char** argv) {
  double seconds = 0;
  if (argc != 4 || !absl::SimpleAtod(argv[3], &seconds)) {
    std::cerr << "usage: e2e_read_loop TARGET INTENT_ID SECONDS\n";
    return 2;
  }
  payments::client::ClientOptions options;
  options.target = argv[1];
  auto client = payments::client::PaymentsClient::Create(options);
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 2;
  }
  payments::v1::GetIntentRequest request;
  request.set_id(argv[2]);
  int calls = 0, failed = 0;
  absl::Duration slowest;
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  while (absl::Now() < end) {
    const absl::Time start = absl::Now();
    ++calls;
    payments::client::CallOptions call;
    call.deadline = absl::Seconds(20);
    auto got = (*client)->GetIntent(request, call);
    const absl::Duration took = absl::Now() - start;
    if (!got.ok() || got->intent().id() != request.id()) {
      ++failed;
      std::cout << "FAIL " << got.status() << " after "
                << absl::FormatDuration(took) << std::endl;
    }
    slowest = std::max(slowest, took);
    absl::SleepFor(absl::Milliseconds(100));
  }
  std::printf("calls %d failed %d slowest %.2f\n", calls, failed,
              absl::ToDoubleSeconds(slowest));
  return failed == 0 ? 0 : 1;
}
