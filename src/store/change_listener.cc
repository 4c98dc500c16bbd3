// store::ChangeListener: LISTEN on a libpq connection of its own (SOCI has no
// notification API), waited on with poll(2).
#include <libpq-fe.h>
#include <poll.h>

#include "store/postgres_url.h"
#include "store/store.h"

namespace spoofex::store {

namespace {
constexpr const char* kListen = "LISTEN spoofex_changes";  // channel of migration 5
}  // namespace

struct ChangeListener::Connection {
  std::string conninfo;
  PGconn* conn = nullptr;
  bool listening = false;

  ~Connection() {
    if (conn != nullptr) PQfinish(conn);
  }

  // (Re)connects and LISTENs; false while the server is away.
  bool connect() {
    if (conn != nullptr) PQfinish(conn);
    conn = PQconnectdb(conninfo.c_str());
    listening = false;
    if (PQstatus(conn) != CONNECTION_OK) return false;
    PGresult* res = PQexec(conn, kListen);
    listening = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return listening;
  }

  // Consumes every pending notification; returns how many there were.
  int drain() {
    int n = 0;
    while (PGnotify* note = PQnotifies(conn)) {
      ++n;
      PQfreemem(note);
    }
    return n;
  }
};

ChangeListener::ChangeListener(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}

ChangeListener::~ChangeListener() = default;

Result<std::unique_ptr<ChangeListener>> ChangeListener::open(const std::string& url) {
  if (url.starts_with("sqlite:")) return std::unique_ptr<ChangeListener>{};
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    return Error{"unsupported database URL '" + redacted(url) + "'"};
  }
  auto conninfo = libpq_conninfo(url);
  if (!conninfo) return Error{conninfo.error()};
  auto connection = std::make_unique<Connection>();
  connection->conninfo = *conninfo;
  if (!connection->connect()) {
    const std::string why = PQerrorMessage(connection->conn);
    return Error{"listening for changes on '" + redacted(url) + "': " + why};
  }
  return std::unique_ptr<ChangeListener>(new ChangeListener(std::move(connection)));
}

bool ChangeListener::listening() const { return connection_->listening; }

bool ChangeListener::wait(std::chrono::milliseconds timeout) {
  Connection& c = *connection_;
  if (!c.listening || PQstatus(c.conn) != CONNECTION_OK) {
    // Whatever changed while the connection was down went unheard: say "look now".
    if (c.connect()) return true;
    pollfd none{};
    ::poll(&none, 0, static_cast<int>(timeout.count()));  // sleep: the server is away
    return false;
  }
  if (c.drain() > 0) return true;  // arrived with an earlier read
  pollfd fd{PQsocket(c.conn), POLLIN, 0};
  const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return false;
  if (PQconsumeInput(c.conn) == 0) {
    c.listening = false;  // the connection broke; reconnect on the next wait
    return false;
  }
  return c.drain() > 0;
}

}  // namespace spoofex::store
