#include <bit>
#include <mutex>

#include "screening/screening.h"

namespace spoofex::screening {
namespace {

constexpr int kKeyBits = 50;  // 10^15 - 1 < 2^50: every E.164 number fits
constexpr std::uint64_t kKeyMask = (std::uint64_t{1} << kKeyBits) - 1;
constexpr std::uint16_t kMaxReasons = (1u << (64 - kKeyBits)) - 1;
constexpr std::size_t kMinCapacity = 1024;

std::uint64_t slot_key(std::uint64_t slot) { return slot & kKeyMask; }
std::uint16_t slot_reason(std::uint64_t slot) {
  return static_cast<std::uint16_t>(slot >> kKeyBits);
}

// Fibonacci hashing: spreads the low-entropy digit keys over the table.
std::size_t home(std::uint64_t key, std::size_t mask) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

}  // namespace

SpamList::SpamList() : slots_(kMinCapacity, 0), reasons_{""} {}

std::optional<std::size_t> SpamList::find_slot(std::uint64_t key) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(key, mask);; i = (i + 1) & mask) {
    const std::uint64_t s = slots_[i];
    if (s == 0) return std::nullopt;
    if (slot_key(s) == key) return i;
  }
}

void SpamList::grow(std::size_t min_capacity) {
  std::size_t capacity = std::bit_ceil(std::max(min_capacity, kMinCapacity));
  if (capacity <= slots_.size()) return;
  std::vector<std::uint64_t> old(capacity, 0);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (std::uint64_t s : old) {
    if (s == 0) continue;
    std::size_t i = home(slot_key(s), mask);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

std::uint16_t SpamList::intern(std::string_view reason) {
  if (reason.empty()) return 0;
  std::string r(reason);
  if (auto it = reason_index_.find(r); it != reason_index_.end()) return it->second;
  if (reasons_.size() > kMaxReasons) return 0;  // table full: the store keeps the text
  const auto idx = static_cast<std::uint16_t>(reasons_.size());
  reasons_.push_back(r);
  reason_index_.emplace(std::move(r), idx);
  return idx;
}

bool SpamList::add(std::string_view e164, std::string_view reason) {
  const auto key = numbering::e164_key(e164);
  if (!key) return false;
  std::unique_lock lock(mu_);
  if (find_slot(*key)) return false;
  // Keep the load factor at or below 0.7 so probes stay short.
  if ((size_ + 1) * 10 > slots_.size() * 7) grow(slots_.size() * 2);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(*key, mask);
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = *key | (std::uint64_t{intern(reason)} << kKeyBits);
  ++size_;
  return true;
}

bool SpamList::remove(std::string_view e164) {
  const auto key = numbering::e164_key(e164);
  if (!key) return false;
  std::unique_lock lock(mu_);
  auto found = find_slot(*key);
  if (!found) return false;
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = *found;
  for (std::size_t j = (hole + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
    const std::size_t want = home(slot_key(slots_[j]), mask);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (hole < want && want <= j) : (hole < want || want <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = 0;
  --size_;
  return true;
}

bool SpamList::contains(std::string_view e164) const {
  const auto key = numbering::e164_key(e164);
  if (!key) return false;
  std::shared_lock lock(mu_);
  return find_slot(*key).has_value();
}

std::optional<std::string> SpamList::lookup(std::string_view e164) const {
  const auto key = numbering::e164_key(e164);
  if (!key) return std::nullopt;
  std::shared_lock lock(mu_);
  const auto found = find_slot(*key);
  if (!found) return std::nullopt;
  return reasons_[slot_reason(slots_[*found])];
}

std::size_t SpamList::size() const {
  std::shared_lock lock(mu_);
  return size_;
}

void SpamList::reserve(std::size_t numbers) {
  std::unique_lock lock(mu_);
  grow(numbers * 10 / 7 + 1);
}

void SpamList::clear() {
  std::unique_lock lock(mu_);
  std::fill(slots_.begin(), slots_.end(), 0);
  size_ = 0;
  reasons_.assign(1, "");
  reason_index_.clear();
}

Status SpamList::load(store::Store& store) {
  SpamList fresh;
  Status st = store.for_each_spam([&](const store::SpamEntry& e) { fresh.add(e.e164, e.reason); });
  if (!st) return st;
  std::unique_lock lock(mu_);
  slots_ = std::move(fresh.slots_);
  size_ = fresh.size_;
  reasons_ = std::move(fresh.reasons_);
  reason_index_ = std::move(fresh.reason_index_);
  return Ok{};
}

}  // namespace spoofex::screening
