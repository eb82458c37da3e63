#ifndef TESTS_SUPPORT_TEMP_DIR_H_
#define TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace payments::testing {

// A fresh directory under $TMPDIR (or /tmp), removed recursively with
// everything in it on destruction unless PAYMENTS_TEST_KEEP_DIRS is set. Aborts
// the test binary if the directory cannot be created. Not copyable or movable.
class TempDir final {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace payments::testing

#endif  // TESTS_SUPPORT_TEMP_DIR_H_
