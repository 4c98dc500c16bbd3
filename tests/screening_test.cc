// Unit tests for the Screener rules, the verdict JSON shape and the spam-list CSV import.
#include "screening/screening.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "numbering/numbering.h"

namespace spoofex::screening {
namespace {

using numbering::NumberType;

constexpr const char* kOverlayPath = SPOOFEX_SOURCE_DATA_DIR "/numbering/in_overlay.tsv";

numbering::NumberingPlan indian_plan() {
  auto overlay = numbering::load_overlay(kOverlayPath);
  EXPECT_TRUE(overlay.ok()) << (overlay.ok() ? "" : overlay.error());
  return numbering::NumberingPlan(
      overlay.ok() ? std::move(overlay).value() : std::vector<numbering::OverlayRule>{}, "IN");
}

Clock::time_point at(std::int64_t s) { return Clock::time_point(std::chrono::seconds(s)); }

const Reason* find_reason(const Verdict& v, std::string_view code) {
  const auto it = std::find_if(v.reasons.begin(), v.reasons.end(),
                               [&](const Reason& r) { return r.code == code; });
  return it == v.reasons.end() ? nullptr : &*it;
}

bool has_reason(const Verdict& v, std::string_view code) { return find_reason(v, code) != nullptr; }

std::string codes(const Verdict& v) {
  std::string out;
  for (const auto& r : v.reasons) out += r.code + " ";
  return out;
}

// Everything a Screener needs, owned in one place. Build the policy, then call screen().
struct Harness {
  numbering::NumberingPlan plan = indian_plan();
  SpamList spam;
  Policy policy;
  std::unique_ptr<CallPatternDetector> bursts;
  std::unique_ptr<Screener> screener;

  Verdict screen(std::string_view from, std::string_view origin = "", std::string_view stir = "",
                 Clock::time_point when = at(1'000'000)) {
    if (!screener) {
      bursts = std::make_unique<CallPatternDetector>(policy.burst);
      screener = std::make_unique<Screener>(plan, spam, *bursts, policy);
    }
    return screener->screen({.from = from, .origin_country = origin, .stir_verstat = stir}, when);
  }
};

// --- Plain callers ---------------------------------------------------------------------

TEST(ScreenTest, OrdinaryIndianMobileIsAcceptedWithoutFlags) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "IN", "TN-Validation-Passed-A");
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_FALSE(v.spoofed);
  EXPECT_FALSE(v.spam_listed);
  EXPECT_FALSE(v.system_generated);
  EXPECT_FALSE(v.withheld);
  EXPECT_TRUE(v.reasons.empty()) << codes(v);
}

// --- invalid_number ----------------------------------------------------------------

TEST(ScreenTest, UnparseableCallerIsInvalidNumberSpoof) {
  Harness h;
  const Verdict v = h.screen("abc");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  const Reason* r = find_reason(v, "invalid_number");
  ASSERT_NE(r, nullptr) << codes(v);
  EXPECT_EQ(r->flag, Flag::spoofed);
}

TEST(ScreenTest, ParseableButInvalidNumberIsInvalidNumberSpoof) {
  Harness h;
  const Verdict v = h.screen("+9112345");
  EXPECT_TRUE(v.spoofed);
  EXPECT_TRUE(has_reason(v, "invalid_number")) << codes(v);
}

TEST(ScreenTest, ValidNumberHasNoInvalidNumberReason) {
  Harness h;
  EXPECT_FALSE(has_reason(h.screen("+919876543210"), "invalid_number"));
}

// --- emergency_number_caller / short_code_caller ------------------------------------

TEST(ScreenTest, EmergencyCodeCallerIsSpoofed) {
  Harness h;
  const Verdict v = h.screen("112");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_TRUE(has_reason(v, "emergency_number_caller")) << codes(v);
  EXPECT_FALSE(has_reason(v, "short_code_caller")) << codes(v);
  EXPECT_FALSE(has_reason(v, "invalid_number")) << codes(v);
}

TEST(ScreenTest, ShortCodeCallerIsSpoofed) {
  Harness h;
  ASSERT_EQ(h.plan.parse("1090").type, NumberType::short_code);
  const Verdict v = h.screen("1090");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_TRUE(has_reason(v, "short_code_caller")) << codes(v);
  EXPECT_FALSE(has_reason(v, "emergency_number_caller")) << codes(v);
}

// --- own_number_caller ----------------------------------------------------------------

TEST(ScreenTest, OwnNumberCallerIsSpoofed) {
  Harness h;
  h.policy.own_numbers = {"+911123456789", "+919876543210"};
  const Verdict v = h.screen("09876543210");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_TRUE(has_reason(v, "own_number_caller")) << codes(v);
}

TEST(ScreenTest, NumberNotInOwnNumbersIsNotOwnNumberCaller) {
  Harness h;
  h.policy.own_numbers = {"+911123456789"};
  const Verdict v = h.screen("+919876543210");
  EXPECT_FALSE(v.spoofed);
  EXPECT_FALSE(has_reason(v, "own_number_caller")) << codes(v);
}

// --- toll_free_caller ---------------------------------------------------------------

TEST(ScreenTest, TollFreeCallerIsSpoofed) {
  Harness h;
  const Verdict v = h.screen("18001234567");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_TRUE(has_reason(v, "toll_free_caller")) << codes(v);
}

TEST(ScreenTest, SharedCostCallerIsTollFreeCallerSpoof) {
  Harness h;
  const Verdict v = h.screen("18601234567");
  EXPECT_TRUE(v.spoofed);
  EXPECT_TRUE(has_reason(v, "toll_free_caller")) << codes(v);
}

// --- indian_cli_international_route -------------------------------------------------

TEST(ScreenTest, IndianCliFromAbroadIsSpoofed) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "US");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_TRUE(has_reason(v, "indian_cli_international_route")) << codes(v);
}

TEST(ScreenTest, IndianCliFromAbroadLowerCaseOriginIsSpoofed) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "us");
  EXPECT_TRUE(v.spoofed);
  EXPECT_TRUE(has_reason(v, "indian_cli_international_route")) << codes(v);
}

TEST(ScreenTest, IndianCliFromIndiaIsNotInternationalRoute) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "IN");
  EXPECT_FALSE(v.spoofed);
  EXPECT_FALSE(has_reason(v, "indian_cli_international_route")) << codes(v);
}

TEST(ScreenTest, IndianCliWithUnknownOriginIsNotInternationalRoute) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "");
  EXPECT_FALSE(v.spoofed);
  EXPECT_FALSE(has_reason(v, "indian_cli_international_route")) << codes(v);
}

TEST(ScreenTest, ForeignCliFromAbroadIsNotInternationalRoute) {
  Harness h;
  const Verdict v = h.screen("+14155552671", "US");
  EXPECT_FALSE(has_reason(v, "indian_cli_international_route")) << codes(v);
}

// --- stir_failed --------------------------------------------------------------------

TEST(ScreenTest, FailedStirVerificationIsSpoofed) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "IN", "TN-Validation-Failed-A");
  EXPECT_TRUE(v.spoofed);
  EXPECT_TRUE(has_reason(v, "stir_failed")) << codes(v);
}

TEST(ScreenTest, PassedStirVerificationIsNotStirFailed) {
  Harness h;
  const Verdict v = h.screen("+919876543210", "IN", "TN-Validation-Passed-A");
  EXPECT_FALSE(v.spoofed);
  EXPECT_FALSE(has_reason(v, "stir_failed")) << codes(v);
}

// --- telemarketer_series / burst -----------------------------------------------------

TEST(ScreenTest, Series140CallerIsSystemGenerated) {
  Harness h;
  const Verdict v = h.screen("1401234567");
  EXPECT_TRUE(v.system_generated);
  EXPECT_FALSE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  const Reason* r = find_reason(v, "telemarketer_series");
  ASSERT_NE(r, nullptr) << codes(v);
  EXPECT_EQ(r->flag, Flag::system_generated);
}

TEST(ScreenTest, ThirdCallWithinWindowIsBurstWhenMaxCallsIsTwo) {
  Harness h;
  h.policy.burst.max_calls = 2;
  h.policy.burst.window = std::chrono::seconds(600);
  const Verdict first = h.screen("+919876543210", "", "", at(1000));
  const Verdict second = h.screen("+919876543210", "", "", at(1010));
  const Verdict third = h.screen("+919876543210", "", "", at(1020));
  EXPECT_FALSE(has_reason(first, "burst")) << codes(first);
  EXPECT_FALSE(has_reason(second, "burst")) << codes(second);
  EXPECT_FALSE(second.system_generated);
  EXPECT_TRUE(third.system_generated);
  EXPECT_EQ(third.action, Action::accept);
  const Reason* r = find_reason(third, "burst");
  ASSERT_NE(r, nullptr) << codes(third);
  EXPECT_EQ(r->flag, Flag::system_generated);
}

TEST(ScreenTest, CallsSpreadBeyondWindowAreNotBurst) {
  Harness h;
  h.policy.burst.max_calls = 2;
  h.policy.burst.window = std::chrono::seconds(600);
  h.screen("+919876543210", "", "", at(1000));
  h.screen("+919876543210", "", "", at(2000));
  const Verdict third = h.screen("+919876543210", "", "", at(3000));
  EXPECT_FALSE(has_reason(third, "burst")) << codes(third);
}

// --- spam_listed ----------------------------------------------------------------------

TEST(ScreenTest, SpamListedCallerIsRejectedWithListReason) {
  Harness h;
  ASSERT_TRUE(h.spam.add("+919876543210", "fake KYC calls"));
  const Verdict v = h.screen("09876543210");
  EXPECT_TRUE(v.spam_listed);
  EXPECT_EQ(v.action, Action::reject);
  const Reason* r = find_reason(v, "spam_listed");
  ASSERT_NE(r, nullptr) << codes(v);
  EXPECT_EQ(r->flag, Flag::spam_listed);
  EXPECT_NE(r->detail.find("fake KYC calls"), std::string::npos) << r->detail;
}

TEST(ScreenTest, UnlistedCallerIsNotSpamListed) {
  Harness h;
  ASSERT_TRUE(h.spam.add("+919876543211", "other"));
  const Verdict v = h.screen("+919876543210");
  EXPECT_FALSE(v.spam_listed);
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_FALSE(has_reason(v, "spam_listed")) << codes(v);
}

// --- withheld -------------------------------------------------------------------------

TEST(ScreenTest, WithheldCallerIsNeitherSpoofedNorRejected) {
  Harness h;
  h.policy.reject_spoofed = true;
  const Verdict v = h.screen("anonymous", "US", "TN-Validation-Failed-A");
  EXPECT_TRUE(v.withheld);
  EXPECT_FALSE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
  const Reason* r = find_reason(v, "withheld");
  ASSERT_NE(r, nullptr) << codes(v);
  EXPECT_EQ(r->flag, Flag::withheld);
}

TEST(ScreenTest, EmptyCallerIdIsWithheldAndAccepted) {
  Harness h;
  h.policy.reject_spoofed = true;
  const Verdict v = h.screen("");
  EXPECT_TRUE(v.withheld);
  EXPECT_FALSE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
}

// --- foreign_number -------------------------------------------------------------------

TEST(ScreenTest, ForeignNumberIsAcceptedWithInfoReason) {
  Harness h;
  const Verdict v = h.screen("+447911123456");
  EXPECT_EQ(v.action, Action::accept);
  EXPECT_FALSE(v.spoofed);
  const Reason* r = find_reason(v, "foreign_number");
  ASSERT_NE(r, nullptr) << codes(v);
  EXPECT_EQ(r->flag, Flag::info);
}

TEST(ScreenTest, IndianNumberHasNoForeignNumberReason) {
  Harness h;
  EXPECT_FALSE(has_reason(h.screen("+919876543210"), "foreign_number"));
}

// --- reject_spoofed -------------------------------------------------------------------

TEST(ScreenTest, RejectSpoofedRejectsEmergencyCodeCaller) {
  Harness h;
  h.policy.reject_spoofed = true;
  const Verdict v = h.screen("100");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::reject);
}

TEST(ScreenTest, RejectSpoofedRejectsOwnNumberCaller) {
  Harness h;
  h.policy.reject_spoofed = true;
  h.policy.own_numbers = {"+919876543210"};
  const Verdict v = h.screen("+919876543210");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::reject);
}

TEST(ScreenTest, RejectSpoofedDoesNotRejectMerelyInvalidNumber) {
  Harness h;
  h.policy.reject_spoofed = true;
  const Verdict v = h.screen("+9112345");
  EXPECT_TRUE(v.spoofed);
  EXPECT_TRUE(has_reason(v, "invalid_number")) << codes(v);
  EXPECT_EQ(v.action, Action::accept);
}

TEST(ScreenTest, RejectSpoofedDoesNotRejectUnparseableCaller) {
  Harness h;
  h.policy.reject_spoofed = true;
  const Verdict v = h.screen("abc");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
}

TEST(ScreenTest, DecisiveSpoofIsAcceptedWhenRejectSpoofedIsOff) {
  Harness h;
  h.policy.reject_spoofed = false;
  h.policy.own_numbers = {"+919876543210"};
  const Verdict v = h.screen("+919876543210");
  EXPECT_TRUE(v.spoofed);
  EXPECT_EQ(v.action, Action::accept);
}

// --- Reasons and JSON -----------------------------------------------------------------

TEST(ScreenTest, EveryReasonHasCodeAndDetail) {
  Harness h;
  h.policy.own_numbers = {"+919876543210"};
  h.policy.burst.max_calls = 1;
  ASSERT_TRUE(h.spam.add("+919876543210", "listed"));
  const std::vector<std::string> callers = {
      "+919876543210",      "+919876543210", "abc",        "+9112345",  "100",           "1090",
      "18001234567",        "18601234567",   "1401234567", "anonymous", "+447911123456", "",
      std::string(500, '7')};
  for (const auto& from : callers) {
    const Verdict v = h.screen(from, "US", "TN-Validation-Failed-B");
    for (const auto& r : v.reasons) {
      EXPECT_FALSE(r.code.empty()) << "caller '" << from << "'";
      EXPECT_FALSE(r.detail.empty()) << "caller '" << from << "' code " << r.code;
    }
  }
}

TEST(JsonTest, VerdictHasDesignShape) {
  Harness h;
  ASSERT_TRUE(h.spam.add("+919876543210", "listed"));
  const nlohmann::json j = to_json(h.screen("+919876543210", "US"));

  ASSERT_TRUE(j.contains("caller"));
  const auto& c = j["caller"];
  EXPECT_TRUE(c["raw"].is_string());
  EXPECT_EQ(c["raw"], "+919876543210");
  EXPECT_EQ(c["e164"], "+919876543210");
  EXPECT_EQ(c["valid"], true);
  EXPECT_EQ(c["type"], "mobile");
  EXPECT_EQ(c["region"], "IN");

  EXPECT_EQ(j["action"], "reject");

  ASSERT_TRUE(j.contains("flags"));
  const auto& f = j["flags"];
  EXPECT_EQ(f["spam_listed"], true);
  EXPECT_EQ(f["spoofed"], true);
  EXPECT_EQ(f["system_generated"], false);
  EXPECT_EQ(f["withheld"], false);

  ASSERT_TRUE(j["reasons"].is_array());
  ASSERT_FALSE(j["reasons"].empty());
  for (const auto& r : j["reasons"]) {
    EXPECT_TRUE(r["code"].is_string()) << r.dump();
    EXPECT_TRUE(r["flag"].is_string()) << r.dump();
    EXPECT_TRUE(r["detail"].is_string()) << r.dump();
  }
  const auto listed =
      std::find_if(j["reasons"].begin(), j["reasons"].end(),
                   [](const nlohmann::json& r) { return r["code"] == "spam_listed"; });
  ASSERT_NE(listed, j["reasons"].end());
  EXPECT_EQ((*listed)["flag"], "spam_listed");
}

TEST(JsonTest, WithheldCallerHasNullE164AndRegion) {
  Harness h;
  const nlohmann::json j = to_json(h.screen("anonymous"));
  EXPECT_EQ(j["caller"]["raw"], "anonymous");
  EXPECT_TRUE(j["caller"]["e164"].is_null());
  EXPECT_TRUE(j["caller"]["region"].is_null());
  EXPECT_EQ(j["caller"]["valid"], false);
  EXPECT_EQ(j["caller"]["type"], "withheld");
  EXPECT_EQ(j["action"], "accept");
  EXPECT_EQ(j["flags"]["withheld"], true);
  ASSERT_TRUE(j["reasons"].is_array());
  ASSERT_EQ(j["reasons"].size(), 1u);
  EXPECT_EQ(j["reasons"][0]["code"], "withheld");
  EXPECT_EQ(j["reasons"][0]["flag"], "withheld");
}

TEST(JsonTest, AcceptedCleanCallerHasEmptyReasonsArray) {
  Harness h;
  const nlohmann::json j = to_json(h.screen("+919876543210", "IN"));
  EXPECT_EQ(j["action"], "accept");
  ASSERT_TRUE(j["reasons"].is_array());
  EXPECT_TRUE(j["reasons"].empty());
}

// --- parse_spam_csv -------------------------------------------------------------------

std::vector<std::size_t> problem_lines(const CsvImport& imp) {
  std::vector<std::size_t> lines;
  for (const auto& p : imp.problems) lines.push_back(p.line);
  return lines;
}

TEST(SpamCsvTest, HeaderRowIsSkipped) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("number,reason\n+919876543210,loan fraud\n", plan, "ops");
  EXPECT_TRUE(imp.problems.empty());
  ASSERT_EQ(imp.entries.size(), 1u);
  EXPECT_EQ(imp.entries[0].e164, "+919876543210");
}

TEST(SpamCsvTest, E164HeaderRowIsSkipped) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("E164\n+919876543210\n", plan, "ops");
  EXPECT_TRUE(imp.problems.empty());
  EXPECT_EQ(imp.entries.size(), 1u);
}

TEST(SpamCsvTest, GoodRowsAreKeptNormalisedWithAddedBy) {
  const auto plan = indian_plan();
  const CsvImport imp =
      parse_spam_csv("+919876543210,loan fraud\n09876543211\n98765 43212, hoax \n", plan, "ops");
  EXPECT_TRUE(imp.problems.empty());
  ASSERT_EQ(imp.entries.size(), 3u);
  EXPECT_EQ(imp.entries[0].e164, "+919876543210");
  EXPECT_EQ(imp.entries[0].reason, "loan fraud");
  EXPECT_EQ(imp.entries[0].added_by, "ops");
  EXPECT_EQ(imp.entries[1].e164, "+919876543211");
  EXPECT_EQ(imp.entries[1].reason, "");
  EXPECT_EQ(imp.entries[2].e164, "+919876543212");
  EXPECT_EQ(imp.entries[2].reason, "hoax");
}

TEST(SpamCsvTest, BadRowsAreReportedWithOneBasedLineNumbers) {
  const auto plan = indian_plan();
  const std::string csv =
      "number,reason\n"                 // 1 header
      "+919876543210,good\n"            // 2
      "abc,not a number\n"              // 3 bad number
      "+919876543211,a,b\n"             // 4 three columns
      "\"+919876543212,unterminated\n"  // 5 unterminated quote
      "+919876543213,bell\x07here\n"    // 6 control character
      "+919876543214,also good\n";      // 7
  const CsvImport imp = parse_spam_csv(csv, plan, "ops");
  EXPECT_EQ(problem_lines(imp), (std::vector<std::size_t>{3, 4, 5, 6}));
  for (const auto& p : imp.problems) EXPECT_FALSE(p.why.empty()) << "line " << p.line;
  ASSERT_EQ(imp.entries.size(), 2u);
  EXPECT_EQ(imp.entries[0].e164, "+919876543210");
  EXPECT_EQ(imp.entries[1].e164, "+919876543214");
}

TEST(SpamCsvTest, WithheldAndShortCodeNumbersAreBadRows) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("anonymous,x\n100,x\n1090,x\n", plan, "ops");
  EXPECT_EQ(problem_lines(imp), (std::vector<std::size_t>{1, 2, 3}));
  EXPECT_TRUE(imp.entries.empty());
}

TEST(SpamCsvTest, QuotedReasonKeepsCommaAndDoubledQuotes) {
  const auto plan = indian_plan();
  const CsvImport imp =
      parse_spam_csv("+919876543210,\"loan, \"\"instant\"\" approval\"\n", plan, "ops");
  EXPECT_TRUE(imp.problems.empty());
  ASSERT_EQ(imp.entries.size(), 1u);
  EXPECT_EQ(imp.entries[0].reason, "loan, \"instant\" approval");
}

TEST(SpamCsvTest, CrlfLineEndingsAreStripped) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv(
      "number,reason\r\n+919876543210,fraud\r\nabc,x\r\n+919876543211,hoax\r\n", plan, "ops");
  ASSERT_EQ(imp.entries.size(), 2u);
  EXPECT_EQ(imp.entries[0].reason, "fraud");
  EXPECT_EQ(imp.entries[1].reason, "hoax");
  EXPECT_EQ(problem_lines(imp), (std::vector<std::size_t>{3}));
}

TEST(SpamCsvTest, Utf8BomBeforeHeaderIsIgnored) {
  const auto plan = indian_plan();
  const CsvImport imp =
      parse_spam_csv("\xEF\xBB\xBFnumber,reason\n+919876543210,fraud\nabc,x\n", plan, "ops");
  ASSERT_EQ(imp.entries.size(), 1u);
  EXPECT_EQ(imp.entries[0].e164, "+919876543210");
  EXPECT_EQ(problem_lines(imp), (std::vector<std::size_t>{3}));
}

TEST(SpamCsvTest, Utf8BomBeforeFirstNumberIsIgnored) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("\xEF\xBB\xBF+919876543210,fraud\n", plan, "ops");
  EXPECT_TRUE(imp.problems.empty());
  ASSERT_EQ(imp.entries.size(), 1u);
  EXPECT_EQ(imp.entries[0].e164, "+919876543210");
}

TEST(SpamCsvTest, BlankLinesAreSkippedButCounted) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("\n+919876543210,fraud\n\n   \n\nabc,x\n\n", plan, "ops");
  ASSERT_EQ(imp.entries.size(), 1u);
  EXPECT_EQ(problem_lines(imp), (std::vector<std::size_t>{6}));
}

TEST(SpamCsvTest, LastLineWithoutNewlineIsRead) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("+919876543210,a\n+919876543211,b", plan, "ops");
  EXPECT_EQ(imp.entries.size(), 2u);
}

TEST(SpamCsvTest, EmptyInputGivesNothing) {
  const auto plan = indian_plan();
  const CsvImport imp = parse_spam_csv("", plan, "ops");
  EXPECT_TRUE(imp.entries.empty());
  EXPECT_TRUE(imp.problems.empty());
}

TEST(SpamCsvTest, OverlongReasonIsBadRow) {
  const auto plan = indian_plan();
  const CsvImport imp =
      parse_spam_csv("+919876543210," + std::string(501, 'x') + "\n", plan, "ops");
  EXPECT_EQ(problem_lines(imp), (std::vector<std::size_t>{1}));
  EXPECT_TRUE(imp.entries.empty());
}

// --- csv_field ------------------------------------------------------------------------

TEST(CsvFieldTest, PlainValueIsUnquoted) { EXPECT_EQ(csv_field("loan fraud"), "loan fraud"); }

TEST(CsvFieldTest, EmptyValueIsEmpty) { EXPECT_EQ(csv_field(""), ""); }

TEST(CsvFieldTest, ValueWithCommaIsQuoted) { EXPECT_EQ(csv_field("a,b"), "\"a,b\""); }

TEST(CsvFieldTest, ValueWithQuoteIsQuotedAndDoubled) {
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
}

TEST(CsvFieldTest, ValueWithNewlineIsQuoted) {
  EXPECT_EQ(csv_field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(csv_field("a\rb"), "\"a\rb\"");
}

TEST(CsvFieldTest, QuotedFieldParsesBackToSameReason) {
  const auto plan = indian_plan();
  const std::string reason = "loan, \"instant\" approval";
  const CsvImport imp = parse_spam_csv("+919876543210," + csv_field(reason) + "\n", plan, "ops");
  ASSERT_EQ(imp.entries.size(), 1u);
  EXPECT_EQ(imp.entries[0].reason, reason);
}

}  // namespace
}  // namespace spoofex::screening
