// str_cat: builds error messages from mixed values without iostream noise at call sites.
#pragma once
#include <sstream>
#include <string>
#include <vector>

namespace hs {

template <typename T>
void str_append(std::ostringstream& os, const T& value) { os << value; }

template <typename T>
void str_append(std::ostringstream& os, const std::vector<T>& values) {
  os << '[';
  for (size_t i = 0; i < values.size(); ++i) os << (i ? "," : "") << values[i];
  os << ']';
}

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (str_append(os, args), ...);
  return os.str();
}

}  // namespace hs
