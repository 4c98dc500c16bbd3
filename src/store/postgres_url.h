// Private to store: PostgreSQL URLs as libpq wants them, and as logs may show them.
#pragma once

#include <string>

#include "base/result.h"

namespace spoofex::store {

// libpq's keyword=value form of a postgresql:// URL, with a 5 s connect timeout and
// server notices below warnings silenced, unless the URL says otherwise.
Result<std::string> libpq_conninfo(const std::string& url);

// The URL for messages: the password, if any, replaced by "***".
std::string redacted(const std::string& url);

}  // namespace spoofex::store
