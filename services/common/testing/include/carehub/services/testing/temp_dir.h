// TempDir: a fresh directory for one test, removed with everything in it on destruction.
// Created under $TEST_TMPDIR when set (ctest, bazel-style runners), else under /tmp.
#ifndef CAREHUB_SERVICES_TESTING_TEMP_DIR_H_
#define CAREHUB_SERVICES_TESTING_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace carehub::services::testing {

class TempDir {
 public:
  // Aborts the test binary if no directory can be created: nothing useful can follow.
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace carehub::services::testing

#endif  // CAREHUB_SERVICES_TESTING_TEMP_DIR_H_
