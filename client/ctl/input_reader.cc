#include "client/ctl/input_reader.h"

#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "client/ctl/exit_code.h"

namespace payments::ctl {

absl::StatusOr<std::string> ReadInput(absl::string_view path) {
  if (path == "-") {
    std::cin >> std::noskipws;
    std::string data((std::istreambuf_iterator<char>(std::cin)),
                     std::istreambuf_iterator<char>());
    if (std::cin.bad()) return UsageError("cannot read standard input");
    return data;
  }
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return UsageError(absl::StrCat("cannot read ", path));
  std::string data((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) return UsageError(absl::StrCat("cannot read ", path));
  return data;
}

}  // namespace payments::ctl
