#include "store/postgres_url.h"

#include <libpq-fe.h>

#include <string_view>

namespace spoofex::store {

// SOCI 4.0's PostgreSQL backend mangles libpq URIs ("dbname=" appended to the
// database name), so the URI is turned into libpq's keyword=value form by libpq itself.
Result<std::string> libpq_conninfo(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string why = err ? err : "out of memory";
    PQfreemem(err);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Error{"invalid PostgreSQL URL: " + why};
  }
  std::string out;
  bool has_timeout = false, has_options = false;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    const std::string_view keyword = o->keyword;
    has_timeout = has_timeout || keyword == "connect_timeout";
    has_options = has_options || keyword == "options";
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') value += '\\';
      value += *c;
    }
    out += std::string(keyword) + "='" + value + "' ";
  }
  PQconninfoFree(opts);
  // An unreachable host must fail in seconds, not minutes (records wait in the journal).
  if (!has_timeout) out += "connect_timeout='5' ";
  // "relation already exists, skipping" on every start is noise in an operator's log.
  if (!has_options) out += "options='-c client_min_messages=warning' ";
  return out;
}

std::string redacted(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace spoofex::store
