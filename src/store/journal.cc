// store::Journal: call records and events kept on local disk while the database is away.
//
// The file is a sequence of entries, each one append():
//
//   offset 0   4 bytes   magic "SXJ1" (format version 1)
//          4   4 bytes   payload length N, unsigned little-endian, N > 0
//          8   4 bytes   CRC-32 of the payload (ISO-HDLC, as zlib's crc32()), little-endian
//         12   N bytes   payload: UTF-8 JSON {"calls": [CallRecord...], "events": [CallEvent...]}
//                        with the structs' field names as keys
//
// An entry is good when the whole of it is in the file, the magic and CRC match and the
// payload parses. Reading stops at the first entry that is not: a crash mid-append leaves
// at most one torn entry, at the end. That tail is never acknowledged (fdatasync had not
// returned), but it is copied to PATH.corrupt rather than thrown away, in case it is a
// damaged block with good entries after it, and then cut off so appends follow good data.
// The magic makes a zero-filled tail (a file extended but not written before power loss)
// fail: an all-zero header would otherwise be an empty entry with a matching CRC.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "store/store.h"

namespace spoofex::store {
namespace {

using Json = nlohmann::json;

constexpr char kMagic[4] = {'S', 'X', 'J', '1'};
constexpr std::size_t kHeader = 12;

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " journal '" + path + "': " + std::strerror(errno);
}

// CRC-32 (polynomial 0xEDB88320 reflected, as zlib, PNG and Ethernet use).
std::uint32_t crc32(const char* data, std::size_t size) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    c = table[(c ^ static_cast<unsigned char>(data[i])) & 0xFFu] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFu;
}

void put_u32(char* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}

std::uint32_t get_u32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

Json to_json(const CallRecord& c) {
  return {{"call_sid", c.call_sid},
          {"revision", c.revision},
          {"node", c.node},
          {"from_raw", c.from_raw},
          {"from_e164", c.from_e164},
          {"status", c.status},
          {"category", c.category},
          {"department", c.department},
          {"spam_listed", c.spam_listed},
          {"spoofed", c.spoofed},
          {"system_generated", c.system_generated},
          {"blank", c.blank},
          {"handled", c.handled},
          {"started_at", c.started_at},
          {"updated_at", c.updated_at},
          {"record_json", c.record_json}};
}

Json to_json(const CallEvent& e) {
  return {{"call_sid", e.call_sid},
          {"seq", e.seq},
          {"at", e.at},
          {"kind", e.kind},
          {"detail_json", e.detail_json}};
}

// Throws nlohmann::json::exception on a payload of the wrong shape.
CallRecord call_from_json(const Json& j) {
  CallRecord c;
  c.call_sid = j.at("call_sid").get<std::string>();
  c.revision = j.at("revision").get<std::int64_t>();
  c.node = j.at("node").get<std::string>();
  c.from_raw = j.at("from_raw").get<std::string>();
  c.from_e164 = j.at("from_e164").get<std::string>();
  c.status = j.at("status").get<std::string>();
  c.category = j.at("category").get<std::string>();
  c.department = j.at("department").get<std::string>();
  c.spam_listed = j.at("spam_listed").get<bool>();
  c.spoofed = j.at("spoofed").get<bool>();
  c.system_generated = j.at("system_generated").get<bool>();
  c.blank = j.at("blank").get<bool>();
  c.handled = j.at("handled").get<bool>();
  c.started_at = j.at("started_at").get<std::string>();
  c.updated_at = j.at("updated_at").get<std::string>();
  c.record_json = j.at("record_json").get<std::string>();
  return c;
}

CallEvent event_from_json(const Json& j) {
  CallEvent e;
  e.call_sid = j.at("call_sid").get<std::string>();
  e.seq = j.at("seq").get<int>();
  e.at = j.at("at").get<std::string>();
  e.kind = j.at("kind").get<std::string>();
  e.detail_json = j.at("detail_json").get<std::string>();
  return e;
}

// Reads exactly `size` bytes at `offset`; false on a short read or an error (errno set).
bool read_at(int fd, std::uint64_t offset, char* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    out += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// A new, renamed or removed file is durable only once its directory is synced.
Status sync_parent(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{errno_text("syncing the folder of", path)};
  const bool ok = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return Error{errno_text("syncing the folder of", path)};
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::open(const std::string& path) {
  if (path.empty()) return Error{"journal path is empty"};
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{errno_text("cannot open", path)};
  std::unique_ptr<Journal> journal(new Journal(path, fd));
  // Two writers would replay and clear each other's entries: one process per file.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{"journal '" + path +
                   "' is in use by another process; give each spoofex process its own"};
    }
    return Error{errno_text("cannot lock", path)};
  }
  if (auto st = sync_parent(path); !st) return Error{st.error()};
  if (auto scanned = journal->scan(nullptr); !scanned) return Error{scanned.error()};
  return journal;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::append(const std::vector<CallRecord>& calls, const std::vector<CallEvent>& events) {
  Json payload = {{"calls", Json::array()}, {"events", Json::array()}};
  for (const auto& c : calls) payload["calls"].push_back(to_json(c));
  for (const auto& e : events) payload["events"].push_back(to_json(e));
  // Callers' bytes may be invalid UTF-8: replaced (U+FFFD), as the call record's JSON does,
  // rather than refused, which would lose the whole entry.
  std::string buf(kHeader, '\0');
  buf += payload.dump(-1, ' ', false, Json::error_handler_t::replace);
  const std::size_t n = buf.size() - kHeader;
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    return Error{"journal entry of " + std::to_string(n) + " bytes is too large"};
  }
  std::memcpy(buf.data(), kMagic, 4);
  put_u32(buf.data() + 4, static_cast<std::uint32_t>(n));
  put_u32(buf.data() + 8, crc32(buf.data() + kHeader, n));
  if (!write_all(fd_, buf.data(), buf.size()) || ::fdatasync(fd_) != 0) {
    const std::string why = errno_text("cannot write to", path_);
    // Take back a partial entry, or the next append would land after garbage.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      return Error{why + "; and cutting off the partial entry failed: " + std::strerror(errno)};
    }
    return Error{why};
  }
  size_ += buf.size();
  ++entries_;
  return Ok{};
}

Result<std::size_t> Journal::replay(const Visit& visit) { return scan(&visit); }

Status Journal::clear() {
  if (::ftruncate(fd_, 0) != 0 || ::fsync(fd_) != 0)
    return Error{errno_text("cannot clear", path_)};
  size_ = 0;
  entries_ = 0;
  return Ok{};
}

Status Journal::rename(const std::string& new_path) {
  if (::rename(path_.c_str(), new_path.c_str()) != 0) {
    return Error{errno_text("cannot rename to '" + new_path + "' the", path_)};
  }
  path_ = new_path;
  return sync_parent(path_);
}

Result<std::size_t> Journal::scan(const Visit* visit) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Error{errno_text("cannot read", path_)};
  const auto end = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t at = 0;
  std::size_t count = 0;
  std::string payload;
  std::string bad;  // why reading stopped before `end`
  damage_.clear();
  while (at < end) {
    char header[kHeader];
    if (end - at < kHeader) {
      bad = "a torn entry header";
      break;
    }
    if (!read_at(fd_, at, header, kHeader)) return Error{errno_text("cannot read", path_)};
    const std::uint32_t n = get_u32(header + 4);
    if (std::memcmp(header, kMagic, 4) != 0 || n == 0) {
      bad = "an entry without a valid header";
      break;
    }
    if (end - at - kHeader < n) {
      bad = "a torn entry";
      break;
    }
    payload.resize(n);
    if (!read_at(fd_, at + kHeader, payload.data(), n))
      return Error{errno_text("cannot read", path_)};
    if (crc32(payload.data(), n) != get_u32(header + 8)) {
      bad = "an entry whose checksum does not match";
      break;
    }
    std::vector<CallRecord> calls;
    std::vector<CallEvent> events;
    try {
      const Json j = Json::parse(payload);
      for (const auto& c : j.at("calls")) calls.push_back(call_from_json(c));
      for (const auto& e : j.at("events")) events.push_back(event_from_json(e));
    } catch (const Json::exception& e) {
      bad = std::string("an entry that does not parse (") + e.what() + ")";
      break;
    }
    if (visit) {
      if (auto st2 = (*visit)(calls, events); !st2) return Error{st2.error()};
    }
    ++count;
    at += kHeader + n;
  }
  size_ = at;
  entries_ = count;
  if (!bad.empty()) {
    if (auto st2 = cut_tail(at, end, bad); !st2) return Error{st2.error()};
  }
  return count;
}

// Keeps bytes [good, end) in PATH.corrupt for an operator, then cuts them off.
Status Journal::cut_tail(std::uint64_t good, std::uint64_t end, const std::string& why) {
  const std::string aside = path_ + ".corrupt";
  std::string tail(static_cast<std::size_t>(end - good), '\0');
  if (!read_at(fd_, good, tail.data(), tail.size())) return Error{errno_text("cannot read", path_)};
  const int fd = ::open(aside.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{errno_text("cannot open", aside)};
  const bool saved = write_all(fd, tail.data(), tail.size()) && ::fdatasync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  if (!saved) return Error{errno_text("cannot write", aside)};
  if (auto st = sync_parent(aside); !st) return st;
  if (::ftruncate(fd_, static_cast<off_t>(good)) != 0 || ::fsync(fd_) != 0) {
    return Error{errno_text("cannot cut the damaged tail off", path_)};
  }
  damage_ = "journal '" + path_ + "': " + why + " after " + std::to_string(entries_) +
            " good entries; " + std::to_string(end - good) + " bytes moved to '" + aside + "'";
  return Ok{};
}

}  // namespace spoofex::store
