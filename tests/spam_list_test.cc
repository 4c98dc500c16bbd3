// Unit tests for SpamList: the in-memory open-addressing spam set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "screening/screening.h"
#include "store/store.h"

namespace spoofex::screening {
namespace {

// `count` distinct random Indian-looking E.164 numbers ("+91" and 10 digits).
std::vector<std::string> random_numbers(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint64_t> digits(0, 9'999'999'999ull);
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  out.reserve(count);
  while (out.size() < count) {
    std::string n = std::to_string(digits(rng));
    n = "+91" + std::string(10 - n.size(), '0') + n;
    if (seen.insert(n).second) out.push_back(std::move(n));
  }
  return out;
}

std::unique_ptr<store::Store> memory_store() {
  auto opened = store::Store::open("sqlite::memory:");
  EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error());
  if (!opened.ok()) return nullptr;
  std::unique_ptr<store::Store> s = std::move(opened).value();
  const Status migrated = s->migrate();
  EXPECT_TRUE(migrated.ok()) << (migrated.ok() ? "" : migrated.error());
  return s;
}

store::SpamEntry entry(std::string e164, std::string reason) {
  return {std::move(e164), std::move(reason), "test", ""};
}

// --- Basic operations ----------------------------------------------------------------

TEST(SpamListTest, NewListIsEmpty) {
  const SpamList list;
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(list.contains("+919876543210"));
}

TEST(SpamListTest, AddedNumberIsContained) {
  SpamList list;
  EXPECT_TRUE(list.add("+919876543210", "loan fraud"));
  EXPECT_TRUE(list.contains("+919876543210"));
  EXPECT_EQ(list.size(), 1u);
}

TEST(SpamListTest, OtherNumberIsNotContained) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210"));
  EXPECT_FALSE(list.contains("+919876543211"));
  EXPECT_FALSE(list.lookup("+919876543211").has_value());
}

TEST(SpamListTest, LookupReturnsListingReason) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "loan fraud"));
  EXPECT_EQ(list.lookup("+919876543210"), "loan fraud");
}

TEST(SpamListTest, LookupOfNumberWithoutReasonIsEmptyString) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210"));
  EXPECT_EQ(list.lookup("+919876543210"), "");
}

TEST(SpamListTest, NumbersSharingAReasonKeepIt) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "loan fraud"));
  ASSERT_TRUE(list.add("+919876543211", "loan fraud"));
  ASSERT_TRUE(list.add("+919876543212", "hoax"));
  EXPECT_EQ(list.lookup("+919876543210"), "loan fraud");
  EXPECT_EQ(list.lookup("+919876543211"), "loan fraud");
  EXPECT_EQ(list.lookup("+919876543212"), "hoax");
}

TEST(SpamListTest, DuplicateAddReturnsFalseAndKeepsSize) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "first"));
  EXPECT_FALSE(list.add("+919876543210", "second"));
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(list.lookup("+919876543210"), "first");
}

TEST(SpamListTest, InvalidE164IsRejected) {
  SpamList list;
  EXPECT_FALSE(list.add("09876543210"));
  EXPECT_FALSE(list.add("+0919876543210"));
  EXPECT_FALSE(list.add("+91abc"));
  EXPECT_FALSE(list.add("+1234567890123456"));
  EXPECT_FALSE(list.add(""));
  EXPECT_EQ(list.size(), 0u);
}

TEST(SpamListTest, InvalidE164IsNeverContained) {
  const SpamList list;
  EXPECT_FALSE(list.contains("not a number"));
  EXPECT_FALSE(list.lookup("not a number").has_value());
}

TEST(SpamListTest, RemoveDeletesNumber) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "x"));
  EXPECT_TRUE(list.remove("+919876543210"));
  EXPECT_FALSE(list.contains("+919876543210"));
  EXPECT_FALSE(list.lookup("+919876543210").has_value());
  EXPECT_EQ(list.size(), 0u);
}

TEST(SpamListTest, RemoveOfAbsentNumberReturnsFalse) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210"));
  EXPECT_FALSE(list.remove("+919876543211"));
  EXPECT_FALSE(list.remove("garbage"));
  EXPECT_EQ(list.size(), 1u);
}

TEST(SpamListTest, RemovedNumberCanBeAddedAgain) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "old"));
  ASSERT_TRUE(list.remove("+919876543210"));
  EXPECT_TRUE(list.add("+919876543210", "new"));
  EXPECT_EQ(list.lookup("+919876543210"), "new");
}

TEST(SpamListTest, FifteenDigitNumberIsKept) {
  SpamList list;
  ASSERT_TRUE(list.add("+999999999999999", "max"));
  EXPECT_EQ(list.lookup("+999999999999999"), "max");
}

// --- Scale and deletion under collisions -------------------------------------------

TEST(SpamListTest, RemovingRandomHalfOf200kKeepsTheOtherHalf) {
  const std::vector<std::string> numbers = random_numbers(200'000, 42);
  SpamList list;
  for (const auto& n : numbers) ASSERT_TRUE(list.add(n));
  ASSERT_EQ(list.size(), numbers.size());

  std::vector<std::size_t> order(numbers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t half = order.size() / 2;
  for (std::size_t i = 0; i < half; ++i) ASSERT_TRUE(list.remove(numbers[order[i]]));

  EXPECT_EQ(list.size(), numbers.size() - half);
  std::size_t wrongly_present = 0, wrongly_absent = 0;
  for (std::size_t i = 0; i < half; ++i) wrongly_present += list.contains(numbers[order[i]]);
  for (std::size_t i = half; i < order.size(); ++i)
    wrongly_absent += !list.contains(numbers[order[i]]);
  EXPECT_EQ(wrongly_present, 0u);
  EXPECT_EQ(wrongly_absent, 0u);
}

// 183 500 numbers sit just under the 0.7 load factor of a 2^18-slot table: long
// probe chains, many wrapping past the table end.
TEST(SpamListTest, RemovingAtMaximumLoadKeepsEveryOtherNumber) {
  const std::vector<std::string> numbers = random_numbers(183'500, 1234);
  SpamList list;
  for (const auto& n : numbers) ASSERT_TRUE(list.add(n));

  std::size_t wrongly_present = 0, wrongly_absent = 0;
  for (std::size_t i = 0; i < numbers.size(); i += 2) ASSERT_TRUE(list.remove(numbers[i]));
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (i % 2 == 0) {
      wrongly_present += list.contains(numbers[i]);
    } else {
      wrongly_absent += !list.contains(numbers[i]);
    }
  }
  EXPECT_EQ(wrongly_present, 0u);
  EXPECT_EQ(wrongly_absent, 0u);
  EXPECT_EQ(list.size(), numbers.size() / 2);
}

// A full minimum-size table (700 numbers) has probe chains that wrap past its end in
// nearly every trial; many trials make deletion across the wrap certain to happen.
TEST(SpamListTest, RemovingFromChainsThatWrapTheTableKeepsOthers) {
  std::size_t wrongly_present = 0, wrongly_absent = 0;
  for (std::uint64_t trial = 0; trial < 300; ++trial) {
    const std::vector<std::string> numbers = random_numbers(700, 1000 + trial);
    SpamList list;
    for (const auto& n : numbers) ASSERT_TRUE(list.add(n));
    for (std::size_t i = 0; i < numbers.size(); i += 2) ASSERT_TRUE(list.remove(numbers[i]));
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      if (i % 2 == 0) {
        wrongly_present += list.contains(numbers[i]);
      } else {
        wrongly_absent += !list.contains(numbers[i]);
      }
    }
  }
  EXPECT_EQ(wrongly_present, 0u);
  EXPECT_EQ(wrongly_absent, 0u);
}

TEST(SpamListTest, ConsecutiveNumbersSurviveChurn) {
  SpamList list;
  std::vector<std::string> numbers;
  for (int i = 0; i < 50'000; ++i) numbers.push_back("+9190000" + std::to_string(100000 + i));
  for (const auto& n : numbers) ASSERT_TRUE(list.add(n));
  // Remove every third, re-add every sixth: deletion followed by insertion in the same chains.
  for (std::size_t i = 0; i < numbers.size(); i += 3) ASSERT_TRUE(list.remove(numbers[i]));
  for (std::size_t i = 0; i < numbers.size(); i += 6) ASSERT_TRUE(list.add(numbers[i]));

  std::size_t wrong = 0;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const bool expected = i % 3 != 0 || i % 6 == 0;
    wrong += list.contains(numbers[i]) != expected;
  }
  EXPECT_EQ(wrong, 0u);
}

TEST(SpamListTest, ReasonsSurviveGrowth) {
  const std::vector<std::string> numbers = random_numbers(5'000, 99);
  SpamList list;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    ASSERT_TRUE(list.add(numbers[i], "reason " + std::to_string(i % 10)));
  }
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    wrong += list.lookup(numbers[i]) != "reason " + std::to_string(i % 10);
  }
  EXPECT_EQ(wrong, 0u);
}

TEST(SpamListTest, FullReasonTableKeepsNumberWithEmptyReason) {
  SpamList list;
  const std::vector<std::string> numbers = random_numbers(16'400, 5);
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    ASSERT_TRUE(list.add(numbers[i], "distinct reason " + std::to_string(i)));
  }
  EXPECT_EQ(list.lookup(numbers.front()), "distinct reason 0");
  EXPECT_EQ(list.lookup(numbers.back()), "");
  EXPECT_EQ(list.size(), numbers.size());
}

// --- reserve / clear ------------------------------------------------------------------

TEST(SpamListTest, AddsAfterReserveAreAllFound) {
  const std::vector<std::string> numbers = random_numbers(20'000, 3);
  SpamList list;
  list.reserve(numbers.size());
  for (const auto& n : numbers) ASSERT_TRUE(list.add(n, "r"));
  EXPECT_EQ(list.size(), numbers.size());
  std::size_t missing = 0;
  for (const auto& n : numbers) missing += !list.contains(n);
  EXPECT_EQ(missing, 0u);
}

TEST(SpamListTest, ReserveKeepsExistingNumbers) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "kept"));
  list.reserve(100'000);
  EXPECT_EQ(list.lookup("+919876543210"), "kept");
  EXPECT_EQ(list.size(), 1u);
}

TEST(SpamListTest, ClearEmptiesList) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "a"));
  ASSERT_TRUE(list.add("+919876543211", "b"));
  list.clear();
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(list.contains("+919876543210"));
  EXPECT_FALSE(list.contains("+919876543211"));
}

TEST(SpamListTest, AddAfterClearWorks) {
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "a"));
  list.clear();
  EXPECT_TRUE(list.add("+919876543210", "again"));
  EXPECT_EQ(list.lookup("+919876543210"), "again");
  EXPECT_EQ(list.size(), 1u);
}

// A cleared list is as good as a new one: the reasons of numbers it no longer holds
// must not use up room for the reasons of numbers added afterwards.
TEST(SpamListTest, ClearMakesRoomForNewReasons) {
  SpamList list;
  const std::vector<std::string> numbers = random_numbers(16'400, 11);
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    ASSERT_TRUE(list.add(numbers[i], "distinct reason " + std::to_string(i)));
  }
  list.clear();
  ASSERT_TRUE(list.add("+919876543210", "added after clear"));
  EXPECT_EQ(list.lookup("+919876543210"), "added after clear");
}

// --- load from the store ---------------------------------------------------------------

TEST(SpamListLoadTest, LoadsActiveEntriesWithReasons) {
  auto db = memory_store();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->add_spam(entry("+919876543210", "loan fraud")).ok());
  ASSERT_TRUE(db->add_spam(entry("+919876543211", "")).ok());

  SpamList list;
  const Status st = list.load(*db);
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.lookup("+919876543210"), "loan fraud");
  EXPECT_EQ(list.lookup("+919876543211"), "");
}

TEST(SpamListLoadTest, RemovedStoreEntriesAreNotLoaded) {
  auto db = memory_store();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->add_spam(entry("+919876543210", "kept")).ok());
  ASSERT_TRUE(db->add_spam(entry("+919876543211", "removed later")).ok());
  auto removed = db->remove_spam("+919876543211", "test", "false positive");
  ASSERT_TRUE(removed.ok()) << removed.error();
  ASSERT_TRUE(*removed);

  SpamList list;
  ASSERT_TRUE(list.load(*db).ok());
  EXPECT_TRUE(list.contains("+919876543210"));
  EXPECT_FALSE(list.contains("+919876543211"));
  EXPECT_EQ(list.size(), 1u);
}

TEST(SpamListLoadTest, LoadReplacesWhatWasHeld) {
  auto db = memory_store();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->add_spam(entry("+919876543210", "from store")).ok());

  SpamList list;
  ASSERT_TRUE(list.add("+14155552671", "only in memory"));
  ASSERT_TRUE(list.load(*db).ok());
  EXPECT_FALSE(list.contains("+14155552671"));
  EXPECT_EQ(list.lookup("+919876543210"), "from store");
  EXPECT_EQ(list.size(), 1u);
}

TEST(SpamListLoadTest, LoadsLargeList) {
  auto db = memory_store();
  ASSERT_NE(db, nullptr);
  const std::vector<std::string> numbers = random_numbers(30'000, 77);
  std::vector<store::SpamEntry> entries;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    entries.push_back(entry(numbers[i], "reason " + std::to_string(i % 5)));
  }
  auto added = db->add_spam_batch(entries);
  ASSERT_TRUE(added.ok()) << added.error();

  SpamList list;
  ASSERT_TRUE(list.load(*db).ok());
  EXPECT_EQ(list.size(), numbers.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    wrong += list.lookup(numbers[i]) != "reason " + std::to_string(i % 5);
  }
  EXPECT_EQ(wrong, 0u);
}

TEST(SpamListLoadTest, LoadFromEmptyStoreGivesEmptyList) {
  auto db = memory_store();
  ASSERT_NE(db, nullptr);
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210"));
  ASSERT_TRUE(list.load(*db).ok());
  EXPECT_EQ(list.size(), 0u);
}

TEST(SpamListLoadTest, LoadFromUnmigratedStoreIsAnError) {
  auto opened = store::Store::open("sqlite::memory:");
  ASSERT_TRUE(opened.ok()) << opened.error();
  SpamList list;
  ASSERT_TRUE(list.add("+919876543210", "kept"));
  const Status st = list.load(**opened);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(list.lookup("+919876543210"), "kept");
}

}  // namespace
}  // namespace spoofex::screening
