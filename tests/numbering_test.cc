// Unit tests for numbering: caller-ID parsing with the Indian overlay, E.164 keys,
// and the overlay TSV parser.
#include "numbering/numbering.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace spoofex::numbering {
namespace {

// True if `text` holds `part`; failure messages show both.
::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

constexpr const char* kOverlayPath = SPOOFEX_SOURCE_DATA_DIR "/numbering/in_overlay.tsv";

NumberingPlan indian_plan() {
  auto overlay = load_overlay(kOverlayPath);
  EXPECT_TRUE(overlay.ok()) << (overlay.ok() ? "" : overlay.error());
  return NumberingPlan(overlay.ok() ? std::move(overlay).value() : std::vector<OverlayRule>{},
                       "IN");
}

// --- Parsing valid Indian and foreign numbers --------------------------------------

TEST(ParseTest, IndianMobileInE164IsValidMobile) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("+919876543210");
  EXPECT_TRUE(id.valid);
  EXPECT_EQ(id.e164, "+919876543210");
  EXPECT_EQ(id.type, NumberType::mobile);
  EXPECT_EQ(id.region, "IN");
  EXPECT_FALSE(id.withheld);
  EXPECT_TRUE(id.can_originate);
  EXPECT_TRUE(id.parse_error.empty());
}

TEST(ParseTest, NationalFormatWithTrunkZeroGivesSameE164) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("09876543210");
  EXPECT_TRUE(id.valid);
  EXPECT_EQ(id.e164, "+919876543210");
  EXPECT_EQ(id.region, "IN");
}

TEST(ParseTest, NationalNumberWithSpaceGivesSameE164) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("98765 43210");
  EXPECT_TRUE(id.valid);
  EXPECT_EQ(id.e164, "+919876543210");
}

TEST(ParseTest, NationalNumberWithDashGivesSameE164) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("98765-43210");
  EXPECT_TRUE(id.valid);
  EXPECT_EQ(id.e164, "+919876543210");
}

TEST(ParseTest, RawKeepsExactlyWhatArrived) {
  const NumberingPlan plan = indian_plan();
  EXPECT_EQ(plan.parse("98765-43210").raw, "98765-43210");
}

TEST(ParseTest, UsNumberHasRegionUs) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("+14155552671");
  EXPECT_TRUE(id.valid);
  EXPECT_EQ(id.e164, "+14155552671");
  EXPECT_EQ(id.region, "US");
}

TEST(ParseTest, DefaultRegionIsIndia) {
  const NumberingPlan plan = indian_plan();
  EXPECT_EQ(plan.default_region(), "IN");
}

// --- Withheld caller IDs -------------------------------------------------------------

class WithheldTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WithheldTest, IsTypeWithheldWithoutE164) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse(GetParam());
  EXPECT_TRUE(id.withheld);
  EXPECT_EQ(id.type, NumberType::withheld);
  EXPECT_FALSE(id.e164.has_value());
  EXPECT_TRUE(id.parse_error.empty());
}

INSTANTIATE_TEST_SUITE_P(Forms, WithheldTest,
                         ::testing::Values("anonymous", "Anonymous", "Restricted", "Unavailable",
                                           "", "+266696687"));

// --- Garbage ---------------------------------------------------------------------------

class GarbageTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GarbageTest, IsInvalidWithParseErrorAndBoundedRaw) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse(GetParam());
  EXPECT_FALSE(id.valid);
  EXPECT_FALSE(id.parse_error.empty());
  EXPECT_FALSE(id.e164.has_value());
  EXPECT_FALSE(id.withheld);
  EXPECT_LE(id.raw.size(), 128u);
}

INSTANTIATE_TEST_SUITE_P(Inputs, GarbageTest,
                         ::testing::Values("abc", "12ab##", "++++", std::string(10000, '9'),
                                           std::string("98\0\0"
                                                       "76\xff\xfe"
                                                       "54",
                                                       10),
                                           std::string("\xc3\x28\xa0\xa1\xf0\x28\x8c\x28")));

TEST(ParseTest, HugeInputRawIsTruncatedPrefix) {
  const NumberingPlan plan = indian_plan();
  const std::string huge(10000, '9');
  const CallerId id = plan.parse(huge);
  EXPECT_LE(id.raw.size(), 128u);
  EXPECT_TRUE(huge.starts_with(id.raw));
}

// --- Short codes -------------------------------------------------------------------

class EmergencyCodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EmergencyCodeTest, IsTypeEmergencyWithoutE164) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse(GetParam());
  EXPECT_EQ(id.type, NumberType::emergency);
  EXPECT_FALSE(id.e164.has_value());
  EXPECT_FALSE(id.can_originate);
  EXPECT_EQ(id.region, "IN");
}

INSTANTIATE_TEST_SUITE_P(Codes, EmergencyCodeTest,
                         ::testing::Values("100", "112", "101", "102", "108"));

TEST(ParseTest, NonEmergencyShortCodeIsTypeShortCode) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("1090");
  EXPECT_EQ(id.type, NumberType::short_code);
  EXPECT_TRUE(id.valid);
  EXPECT_FALSE(id.e164.has_value());
  EXPECT_FALSE(id.can_originate);
}

// --- Overlay series ------------------------------------------------------------------

TEST(ParseTest, Series140IsTelemarketer) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("1401234567");
  EXPECT_EQ(id.type, NumberType::telemarketer);
  EXPECT_EQ(id.e164, "+911401234567");
  EXPECT_TRUE(id.can_originate);
  EXPECT_FALSE(id.note.empty());
}

TEST(ParseTest, Series1600IsService) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("1600123456");
  EXPECT_EQ(id.type, NumberType::service);
  EXPECT_TRUE(id.can_originate);
}

TEST(ParseTest, Series1800IsTollFreeThatCannotOriginate) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("18001234567");
  EXPECT_EQ(id.type, NumberType::toll_free);
  EXPECT_FALSE(id.can_originate);
}

// The overlay names a series; a bare or truncated prefix is not a number in it.
TEST(ParseTest, OverlayPrefixAloneIsNotAValidNumber) {
  const NumberingPlan plan = indian_plan();
  const CallerId id = plan.parse("+91140");
  EXPECT_FALSE(id.valid);
}

// --- Fast path for home numbers -------------------------------------------------------

// libphonenumber alone, when the plan offers it (parse_without_fast_path).
template <typename Plan>
std::optional<CallerId> slow_parse(const Plan& plan, std::string_view raw) {
  if constexpr (requires { plan.parse_without_fast_path(raw); }) {
    return plan.parse_without_fast_path(raw);
  } else {
    return std::nullopt;
  }
}

::testing::AssertionResult SameAnswer(const CallerId& fast, const CallerId& slow) {
  if (fast.e164 == slow.e164 && fast.valid == slow.valid && fast.type == slow.type &&
      fast.region == slow.region && fast.can_originate == slow.can_originate &&
      fast.note == slow.note && fast.parse_error == slow.parse_error) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "'" << fast.raw << "': parse gives " << fast.e164.value_or("-") << " "
         << to_string(fast.type) << " valid=" << fast.valid << " '" << fast.note
         << "', libphonenumber alone gives " << slow.e164.value_or("-") << " "
         << to_string(slow.type) << " valid=" << slow.valid << " '" << slow.note << "'";
}

// Random national numbers in E.164 and national form, two per 7-digit range so that
// the second one is answered from whatever the first left behind.
TEST(FastPathTest, AgreesWithLibphonenumberOnRandomIndianNumbers) {
  const NumberingPlan plan = indian_plan();
  if (!slow_parse(plan, "+919876543210")) GTEST_SKIP() << "no parse_without_fast_path";
  std::mt19937_64 rng(20261125);
  std::uniform_int_distribution<std::uint64_t> range(1'000'000, 9'999'999), last(0, 999);
  std::size_t disagreements = 0;
  for (int i = 0; i < 5'000 && disagreements < 10; ++i) {
    const std::uint64_t r = range(rng);
    for (const std::uint64_t nsn : {r * 1000 + last(rng), r * 1000 + last(rng)}) {
      const std::string digits = std::to_string(nsn);
      for (const std::string& raw :
           {"+91" + digits, "0" + digits, digits.substr(0, 5) + " " + digits.substr(5)}) {
        const auto ok = SameAnswer(plan.parse(raw), *slow_parse(plan, raw));
        EXPECT_TRUE(ok);
        disagreements += !ok;
      }
    }
  }
}

TEST(FastPathTest, AgreesWithLibphonenumberOnOverlaySeries) {
  const NumberingPlan plan = indian_plan();
  if (!slow_parse(plan, "+919876543210")) GTEST_SKIP() << "no parse_without_fast_path";
  for (const std::string raw : {"1401234567", "+911401234567", "1600123456", "01600123456",
                                "1800123456", "1860123456", "+911860123456"}) {
    EXPECT_TRUE(SameAnswer(plan.parse(raw), *slow_parse(plan, raw)));
  }
}

// --- E.164 keys ----------------------------------------------------------------------

TEST(E164KeyTest, RoundTripsIndianNumber) {
  const auto key = e164_key("+919876543210");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(e164_from_key(*key), "+919876543210");
}

TEST(E164KeyTest, RoundTripsFifteenDigitNumber) {
  const auto key = e164_key("+999999999999999");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(e164_from_key(*key), "+999999999999999");
}

TEST(E164KeyTest, DistinctNumbersGiveDistinctKeys) {
  EXPECT_NE(e164_key("+9198765"), e164_key("+91987650"));
}

TEST(E164KeyTest, RejectsLeadingZeroCountryCode) {
  EXPECT_FALSE(e164_key("+0919876543210").has_value());
}

TEST(E164KeyTest, RejectsLetters) {
  EXPECT_FALSE(e164_key("+91987654321a").has_value());
  EXPECT_FALSE(e164_key("+abc").has_value());
}

TEST(E164KeyTest, RejectsMoreThanFifteenDigits) {
  EXPECT_FALSE(e164_key("+1234567890123456").has_value());
}

TEST(E164KeyTest, RejectsMissingPlusAndBarePlus) {
  EXPECT_FALSE(e164_key("919876543210").has_value());
  EXPECT_FALSE(e164_key("+").has_value());
  EXPECT_FALSE(e164_key("").has_value());
}

// --- Overlay TSV parsing -------------------------------------------------------------

TEST(ParseOverlayTest, ReadsShippedOverlay) {
  auto rules = load_overlay(kOverlayPath);
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_FALSE(rules->empty());
}

TEST(ParseOverlayTest, ReadsRuleColumns) {
  auto rules = parse_overlay("IN\t140\ttelemarketer\tyes\t10\tregistered telemarketer\n");
  ASSERT_TRUE(rules.ok()) << rules.error();
  ASSERT_EQ(rules->size(), 1u);
  const OverlayRule& r = rules->front();
  EXPECT_EQ(r.region, "IN");
  EXPECT_EQ(r.prefix, "140");
  EXPECT_EQ(r.type, NumberType::telemarketer);
  EXPECT_TRUE(r.can_originate);
  EXPECT_EQ(r.nsn_lengths, std::vector<std::size_t>{10});
  EXPECT_EQ(r.note, "registered telemarketer");
}

TEST(ParseOverlayTest, LengthsMustBeDigitCounts) {
  auto rules = parse_overlay("IN\t140\ttelemarketer\tyes\tten\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 1"));
}

TEST(ParseTest, OverlayNumberOfTheWrongLengthIsInvalid) {
  const NumberingPlan plan = indian_plan();
  EXPECT_FALSE(plan.parse("140123").valid);
  EXPECT_FALSE(plan.parse("14012345678").valid);
  EXPECT_TRUE(plan.parse("1401234567").valid);
}

TEST(ParseOverlayTest, SkipsCommentsAndBlankLines) {
  auto rules = parse_overlay("# comment\n\nIN\t1800\ttoll_free\tno\t10,11\n");
  ASSERT_TRUE(rules.ok()) << rules.error();
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_FALSE(rules->front().can_originate);
}

TEST(ParseOverlayTest, TooFewColumnsNamesLine) {
  auto rules = parse_overlay("# header\n\nIN\t140\ttelemarketer\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 3"));
}

TEST(ParseOverlayTest, TooManyColumnsNamesLine) {
  auto rules = parse_overlay("IN\t140\ttelemarketer\tyes\t10\tnote\textra\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 1"));
}

TEST(ParseOverlayTest, UnknownTypeNamesLine) {
  auto rules = parse_overlay("IN\t140\ttelemarketer\tyes\t10\nIN\t141\tspammer\tyes\t10\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 2"));
  EXPECT_TRUE(Contains(rules.error(), "spammer"));
}

TEST(ParseOverlayTest, NonDigitPrefixNamesLine) {
  auto rules = parse_overlay("# c\nIN\t14x\ttelemarketer\tyes\t10\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 2"));
}

TEST(ParseOverlayTest, EmptyPrefixIsRejected) {
  auto rules = parse_overlay("IN\t\ttelemarketer\tyes\t10\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 1"));
}

TEST(ParseOverlayTest, CanOriginateOtherThanYesNoNamesLine) {
  auto rules = parse_overlay("\n\n\n\nIN\t140\ttelemarketer\tmaybe\t10\n");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(Contains(rules.error(), "line 5"));
}

TEST(ParseOverlayTest, RulesComeOutLongestPrefixFirst) {
  auto rules = parse_overlay("IN\t14\tservice\tyes\t10\nIN\t140\ttelemarketer\tyes\t10\n");
  ASSERT_TRUE(rules.ok()) << rules.error();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ(rules->front().prefix, "140");
}

TEST(ParseOverlayTest, LongestPrefixWinsWhateverTheFileOrder) {
  auto rules = parse_overlay("IN\t14\tservice\tyes\t10\nIN\t140\ttelemarketer\tyes\t10\n");
  ASSERT_TRUE(rules.ok()) << rules.error();
  const NumberingPlan plan(std::move(rules).value(), "IN");
  EXPECT_EQ(plan.parse("1401234567").type, NumberType::telemarketer);
  EXPECT_EQ(plan.parse("1412345678").type, NumberType::service);
}

// --- to_e164 -----------------------------------------------------------------------

TEST(ToE164Test, NationalNumberBecomesE164) {
  const NumberingPlan plan = indian_plan();
  auto e164 = plan.to_e164("098765 43210");
  ASSERT_TRUE(e164.ok()) << e164.error();
  EXPECT_EQ(*e164, "+919876543210");
}

TEST(ToE164Test, WithheldIsAnError) {
  const NumberingPlan plan = indian_plan();
  auto e164 = plan.to_e164("anonymous");
  ASSERT_FALSE(e164.ok());
  EXPECT_FALSE(e164.error().empty());
}

TEST(ToE164Test, EmergencyCodeIsAnError) {
  const NumberingPlan plan = indian_plan();
  auto e164 = plan.to_e164("100");
  ASSERT_FALSE(e164.ok());
  EXPECT_FALSE(e164.error().empty());
}

TEST(ToE164Test, ShortCodeIsAnError) {
  const NumberingPlan plan = indian_plan();
  auto e164 = plan.to_e164("1090");
  ASSERT_FALSE(e164.ok());
  EXPECT_FALSE(e164.error().empty());
}

TEST(ToE164Test, GarbageIsAnError) {
  const NumberingPlan plan = indian_plan();
  EXPECT_FALSE(plan.to_e164("abc").ok());
}

}  // namespace
}  // namespace spoofex::numbering
