#ifndef TESTS_UNIT_IDEMPOTENCY_STORE_CONFORMANCE_H_
#define TESTS_UNIT_IDEMPOTENCY_STORE_CONFORMANCE_H_

// The behaviour every IdempotencyStore backend must share
// (lib/idempotency/idempotency_store.h). A test binary instantiates it for
// a backend:
//
//   INSTANTIATE_TEST_SUITE_P(SQLite, StoreConformanceTest,
//                            ::testing::Values(SqliteBackend()),
//                            StoreConformanceTest::Name);

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "lib/idempotency/idempotency_store.h"

namespace payments::idempotency::testing {

// One database, fresh and empty (not migrated) when created; each Open()
// is another store object on it (another replica, or a restart).
class StoreDatabase {
 public:
  virtual ~StoreDatabase() = default;
  virtual absl::StatusOr<std::unique_ptr<IdempotencyStore>> Open() = 0;
};

struct StoreBackend {
  std::string name;
  // A fresh database, or an error to skip the tests with (such as "no
  // PostgreSQL configured").
  std::function<absl::StatusOr<std::unique_ptr<StoreDatabase>>()> create;
};

// Names the parameter in test output (and in ctest's test names).
inline void PrintTo(const StoreBackend& backend, std::ostream* os) {
  *os << backend.name;
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 public:
  static std::string Name(const ::testing::TestParamInfo<StoreBackend>& info) {
    return info.param.name;
  }

 protected:
  void SetUp() override;

  // Another store on the same database, migrated.
  std::unique_ptr<IdempotencyStore> OpenAnother();

  std::unique_ptr<StoreDatabase> database_;
  std::unique_ptr<IdempotencyStore> store_;
};

}  // namespace payments::idempotency::testing

#endif  // TESTS_UNIT_IDEMPOTENCY_STORE_CONFORMANCE_H_
