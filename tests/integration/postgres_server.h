#ifndef TESTS_INTEGRATION_POSTGRES_SERVER_H_
#define TESTS_INTEGRATION_POSTGRES_SERVER_H_

// A PostgreSQL server of the test's own, started and stopped through
// scripts/postgres-test.sh (POSTGRES_SCRIPT, defined by the test target).

#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace payments::testing {

// On a loopback port; stopped by the destructor.
class Postgres {
 public:
  static std::unique_ptr<Postgres> Start() {
    auto pg = std::unique_ptr<Postgres>(new Postgres());
    // PostgreSQL runs as the postgres user, who must reach the cluster.
    chmod(pg->dir_.path().c_str(), 0755);
    if (!pg->Run("start")) return nullptr;
    auto url = ReadFile(pg->dir_.File("url"));
    if (!url.ok()) return nullptr;
    pg->url_ = std::string(absl::StripAsciiWhitespace(*url));
    return pg;
  }
  ~Postgres() { Run("stop"); }

  bool Stop() { return Run("stop"); }
  bool Restart() { return Run("start"); }
  const std::string& url() const { return url_; }

 private:
  Postgres() = default;
  // `start` picks a free port the first time and keeps it on restarts; it
  // prints the URL (kept in DIR/url).
  bool Run(absl::string_view verb) {
    const std::string command = absl::StrCat(
        POSTGRES_SCRIPT, " ", verb, " ", dir_.File("pg"),
        verb == "start" ? absl::StrCat(" > ", dir_.File("url")) : "", " 2>> ",
        dir_.File("pg.log"));
    return std::system(command.c_str()) == 0;
  }

  TempDir dir_;
  std::string url_;
};

}  // namespace payments::testing

#endif  // TESTS_INTEGRATION_POSTGRES_SERVER_H_
