#ifndef TESTS_INTEGRATION_CREATE_FAULT_TEST_H_
#define TESTS_INTEGRATION_CREATE_FAULT_TEST_H_

// A StackTest for creates under upstream faults: the first call timed, what
// the emulator holds, and the reconciler's settlement, shared by the fault
// matrix over HTTP/1.1 (journal_fault_matrix_test) and over HTTP/2
// (http2_integration_test).

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {

class CreateFaultTest : public StackTest {
 protected:
  static constexpr absl::Duration kCallDeadline = absl::Seconds(5);
  // Short, so that "not created" cells finish quickly.
  static constexpr absl::Duration kSettlePeriod = absl::Seconds(10);

  // Servers that settle quickly, with the settle period above.
  static StackOptions FaultOptions(int servers = 1, std::string store = "") {
    return QuickSettleOptions(kSettlePeriod, servers, std::move(store));
  }

  struct FirstCall {
    grpc::Status status;
    v1::CreateIntentResponse response;
    absl::Duration took;
  };
  static FirstCall Call(const std::string& reference, int server = 0,
                        absl::Duration deadline = kCallDeadline) {
    FirstCall call;
    const absl::Time start = absl::Now();
    call.status =
        Stub(server)->CreateIntent(ContextWithDeadline(deadline).get(),
                                   MinimalCreate(reference), &call.response);
    call.took = absl::Now() - start;
    return call;
  }

  // The intents the emulator holds with `reference`.
  static std::vector<nlohmann::json> Intents(const std::string& reference) {
    auto found = stack_->Control(
        "GET", "/_emulator/payment-intents?reference=" + reference);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok()) return {};
    return (*found)["data"].get<std::vector<nlohmann::json>>();
  }

  // How many `method path` requests Dojo received.
  static int UpstreamCount(const std::string& method, const std::string& path) {
    int count = 0;
    for (const nlohmann::json& entry : stack_->UpstreamRequests()) {
      count += entry["method"] == method && entry["path"] == path;
    }
    return count;
  }

  // Operations settled so far (found, or settled as not created) over the
  // first `servers` servers.
  static double Settled(int servers = 1) {
    double settled = 0;
    for (int i = 0; i < servers; ++i) {
      for (const char* result : {"found", "not_created", "unsent"}) {
        settled += std::max(
            0.0,
            Metric(
                absl::StrCat(
                    R"(payments_reconciliations_total{kind="create",result=")",
                    result, "\"}"),
                i));
      }
    }
    return settled;
  }

  // Waits until an operation was settled since `before` and no create is
  // unknown on any server any more (the gauge is refreshed by every round).
  static bool WaitSettled(double before, int servers = 1) {
    return WaitFor(
        [&] {
          if (Settled(servers) <= before) return false;
          for (int i = 0; i < servers; ++i) {
            if (Metric(R"(payments_unknown_operations{kind="create"})", i) !=
                0) {
              return false;
            }
          }
          return true;
        },
        kSettlePeriod + absl::Seconds(20));
  }

  static void ExpectOutcomeUnknown(const FirstCall& first) {
    EXPECT_EQ(first.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << first.status.error_message();
    EXPECT_EQ(ReasonOf(first.status), "OUTCOME_UNKNOWN");
    EXPECT_TRUE(FindDetail<google::rpc::RetryInfo>(first.status).has_value());
  }

  struct LaterCall {
    grpc::Status status;
    v1::CreateIntentResponse response;
    size_t intents = 0;
  };
  // Once the fault has played out: the first caller was answered before its
  // deadline, the reconciler (or the call itself) settled the operation, the
  // emulator holds exactly one intent, and a later call with the same
  // reference (on the last server) returns it. `settled_before`: Settled()
  // before the first call.
  static LaterCall ExpectExactlyOnce(const std::string& reference,
                                     const FirstCall& first,
                                     double settled_before, int servers = 1) {
    EXPECT_LT(first.took, kCallDeadline)
        << "the first caller must be answered before its deadline";
    EXPECT_TRUE(WaitSettled(settled_before, servers))
        << "the operation was not settled";
    LaterCall later;
    later.status =
        Stub(servers - 1)
            ->CreateIntent(ContextWithDeadline().get(),
                           MinimalCreate(reference), &later.response);
    const std::vector<nlohmann::json> intents = Intents(reference);
    later.intents = intents.size();
    EXPECT_TRUE(later.status.ok()) << later.status.error_message();
    EXPECT_EQ(intents.size(), 1u) << "exactly one intent per reference";
    if (intents.size() == 1) {
      EXPECT_EQ(later.response.intent().id(),
                intents[0]["id"].get<std::string>());
    }
    if (first.status.ok()) {
      EXPECT_EQ(first.response.intent().id(), later.response.intent().id());
    }
    return later;
  }
};

}  // namespace payments::testing

#endif  // TESTS_INTEGRATION_CREATE_FAULT_TEST_H_
