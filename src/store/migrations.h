// Private to store: the versioned schema.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace spoofex::store {

enum class Dialect { sqlite, postgresql };

struct Migration {
  int version;
  std::string_view description;
  std::vector<std::string> statements;
};

std::vector<Migration> migrations(Dialect dialect);

}  // namespace spoofex::store
