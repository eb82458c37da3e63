// The exactly-once fault matrix: a create against each way Dojo can be
// slow, lose an answer or fail mid-way, and each way this service can fail
// itself. In every cell: the exact code the first caller gets and how long
// it took, exactly one intent at the emulator once the reconciler has run,
// and a later call with the same reference returning that intent. The
// matrix is printed at the end of each suite.

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "payments/v1/payments_service.grpc.pb.h"
#include "tests/integration/create_fault_test.h"
#include "tests/integration/postgres_server.h"
#include "tests/integration/rpc_test_util.h"
#include "tests/integration/stack_test.h"
#include "tests/integration/test_stack.h"
#include "tests/support/wait_for.h"

namespace payments::testing {
namespace {

using nlohmann::json;

struct Row {
  std::string cell;
  std::string first_code;
  int64_t first_ms = 0;
  size_t intents = 0;
  std::string later;
};

class FaultMatrixTest : public CreateFaultTest {
 protected:
  static void SetUpTestSuite() { StartStack(FaultOptions()); }
  static void TearDownTestSuite() {
    PrintMatrix();
    StackTest::TearDownTestSuite();
  }

  void TearDown() override {
    (void)stack_->Control("POST", "/_emulator/settings",
                          json{{"searchLagMs", 0}});
  }

  static std::string Unique(absl::string_view cell) {
    return absl::StrCat("Order-", cell, "-", absl::ToUnixMicros(absl::Now()));
  }

  // ExpectExactlyOnce, and the cell's row in the printed matrix.
  static void ExpectExactlyOnce(const std::string& cell,
                                const std::string& reference,
                                const FirstCall& first, double settled_before,
                                int servers = 1) {
    const LaterCall later = CreateFaultTest::ExpectExactlyOnce(
        reference, first, settled_before, servers);
    Record({.cell = cell,
            .first_code = first.status.ok()
                              ? "OK"
                              : absl::StrCat(CodeName(first.status), " ",
                                             ReasonOf(first.status)),
            .first_ms = absl::ToInt64Milliseconds(first.took),
            .intents = later.intents,
            .later = later.response.idempotent_replay() ? "OK, replay"
                                                        : "OK, created"});
  }

  static std::string CodeName(const grpc::Status& status) {
    static const std::map<grpc::StatusCode, std::string> kNames = {
        {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"},
        {grpc::StatusCode::ABORTED, "ABORTED"},
        {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
        {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"}};
    auto it = kNames.find(status.error_code());
    return it == kNames.end() ? absl::StrCat(status.error_code()) : it->second;
  }

  static void Record(Row row) {
    absl::MutexLock lock(&mu_);
    rows_.push_back(std::move(row));
  }
  // Prints the suite's rows, and appends them to MATRIX_FILE.
  static void PrintMatrix() {
    absl::MutexLock lock(&mu_);
    std::string table =
        absl::StrFormat("%-40s | %-32s | %7s | %7s | %s\n", "create x fault",
                        "first caller", "took ms", "intents", "later call");
    for (const Row& row : rows_) {
      absl::StrAppendFormat(&table, "%-40s | %-32s | %7d | %7d | %s\n",
                            row.cell, row.first_code, row.first_ms, row.intents,
                            row.later);
    }
    rows_.clear();
    PublishMatrix(table, MATRIX_FILE);
  }

  inline static absl::Mutex mu_;
  inline static std::vector<Row> rows_;
};

// Dojo commits the intent 8 s after receiving it; the caller's deadline is
// 5 s. The call's search cannot see it yet: unknown, not re-sent.
TEST_F(FaultMatrixTest, SlowCommitPastTheDeadline) {
  const std::string reference = Unique("slow-commit");
  const double before = Settled();
  Script("POST", "/payment-intents",
         json::parse(R"([{"commitDelayMs":8000}])"));
  const FirstCall first = Call(reference);
  ExpectOutcomeUnknown(first);
  ExpectExactlyOnce("slow commit past the deadline", reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
}

// Processed, answer lost, and search 7 s behind: longer than the call.
TEST_F(FaultMatrixTest, SearchLagLongerThanTheCall) {
  const std::string reference = Unique("search-lag");
  const double before = Settled();
  ASSERT_TRUE(
      stack_
          ->Control("POST", "/_emulator/settings", json{{"searchLagMs", 7000}})
          .ok());
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  const FirstCall first = Call(reference);
  ExpectOutcomeUnknown(first);
  ExpectExactlyOnce("search lag longer than the call", reference, first,
                    before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
}

TEST_F(FaultMatrixTest, ProcessedThenDropped) {
  const std::string reference = Unique("dropped-after");
  const double before = Settled();
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  const FirstCall first = Call(reference);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ExpectExactlyOnce("processed then dropped", reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
}

TEST_F(FaultMatrixTest, ServerErrorAfterProcessing) {
  const std::string reference = Unique("5xx-after");
  const double before = Settled();
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenStatus":503}])"));
  const FirstCall first = Call(reference);
  // Found by the call's own search.
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ExpectExactlyOnce("5xx after processing", reference, first, before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
}

// The connection drops before Dojo processed the request (nothing was
// created; from here it may have been): unknown until the settle period has
// passed with nothing found; then the reference is free and the later call
// creates the one intent. (A request that provably never left, a refused
// connection, is sent again at once: UnreachableDojoTest.)
TEST_F(FaultMatrixTest, DroppedBeforeSending) {
  const std::string reference = Unique("dropped-before");
  const double before = Settled();
  Script("POST", "/payment-intents", json::parse(R"([{"drop":true}])"));
  const FirstCall first = Call(reference);
  ExpectOutcomeUnknown(first);
  ExpectExactlyOnce("dropped before sending (unprocessed)", reference, first,
                    before);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 2)
      << "sent again only after settling as not created";
}

// The server is killed while Dojo processes the create; it restarts, and
// its reconciler settles the operation the dead call left "sent" once the
// call's lease lapses.
TEST_F(FaultMatrixTest, SigkillMidCallAndRestart) {
  const std::string reference = Unique("sigkill");
  Script("POST", "/payment-intents", json::parse(R"([{"delayMs":3000}])"));
  FirstCall first;
  std::thread caller([&] { first = Call(reference); });
  ASSERT_TRUE(WaitFor([&] { return Intents(reference).size() == 1; },
                      absl::Seconds(5)));
  const absl::Time lease_lapses =
      absl::Now() + kCallDeadline + absl::Seconds(6);
  stack_->StopServer(0, SIGKILL);
  caller.join();
  EXPECT_EQ(first.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(stack_->RestartServer(0).ok());
  // The dead call's record stays "sent" (not unknown) until its lease
  // lapses; only then may anyone settle it.
  absl::SleepFor(lease_lapses - absl::Now());
  ExpectExactlyOnce("SIGKILL mid-call and restart", reference, first,
                    /*settled_before=*/0);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
}

// A busy account: 5,000 intents newer than ours in the window, and ours
// visible to search only after the call: the reconciler reads every page.
TEST_F(FaultMatrixTest, FiveThousandOtherIntentsInTheWindow) {
  const std::string reference = Unique("busy");
  const double before = Settled();
  ASSERT_TRUE(
      stack_
          ->Control("POST", "/_emulator/settings", json{{"searchLagMs", 3000}})
          .ok());
  Script("POST", "/payment-intents",
         json::parse(R"([{"processThenDrop":true}])"));
  const FirstCall first = Call(reference);
  ExpectOutcomeUnknown(first);
  ASSERT_TRUE(
      stack_
          ->Control("POST", "/_emulator/payment-intents/bulk",
                    json{{"account", "default"},
                         {"count", 5000},
                         {"referencePrefix", Unique("busy-other")},
                         {"amount", {{"value", 100}, {"currencyCode", "GBP"}}}})
          .ok());
  ExpectExactlyOnce("5,000 other intents in the window", reference, first,
                    before);
  EXPECT_GE(UpstreamCount("POST", "/payment-intents/search"), 51);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
}

// Two replicas on one PostgreSQL: the same reference through both while
// Dojo commits slowly. One intent; the replicas share the settling.
class PostgresFaultMatrixTest : public FaultMatrixTest {
 protected:
  static void SetUpTestSuite() {
    postgres_ = Postgres::Start().release();
    if (postgres_ == nullptr) return FailStart("PostgreSQL did not start");
    StartStack(FaultOptions(/*servers=*/2, postgres_->url()));
  }
  static void TearDownTestSuite() {
    FaultMatrixTest::TearDownTestSuite();
    delete postgres_;
    postgres_ = nullptr;
  }
  inline static Postgres* postgres_ = nullptr;
};

TEST_F(PostgresFaultMatrixTest, TwoReplicasOnOnePostgres) {
  const std::string reference = Unique("two-replicas");
  const double before = Settled(2);
  Script("POST", "/payment-intents",
         json::parse(R"([{"commitDelayMs":6000}])"));
  FirstCall first;
  FirstCall second;
  std::thread one([&] { first = Call(reference, 0); });
  absl::SleepFor(absl::Milliseconds(300));
  std::thread two([&] { second = Call(reference, 1); });
  one.join();
  two.join();
  ExpectOutcomeUnknown(first);
  EXPECT_LT(second.took, kCallDeadline);
  EXPECT_TRUE(second.status.error_code() == grpc::StatusCode::UNAVAILABLE ||
              second.status.error_code() == grpc::StatusCode::ABORTED)
      << second.status.error_message();
  ExpectExactlyOnce("two replicas on one PostgreSQL", reference, first, before,
                    /*servers=*/2);
  EXPECT_EQ(UpstreamCount("POST", "/payment-intents"), 1);
  const double found =
      Metric(R"(payments_reconciliations_total{kind="create",result="found"})",
             0) +
      Metric(R"(payments_reconciliations_total{kind="create",result="found"})",
             1);
  EXPECT_EQ(found, 1) << "settled once, by one replica";
}

}  // namespace
}  // namespace payments::testing
