// End-to-end tests of the spoofex command-line contract (design.md): the real
// binary, a real SQLite file, JSON on stdout, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<json> lines() const {
    std::vector<json> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) v.push_back(json::parse(line));
    return v;
  }
  json only() const {
    auto v = lines();
    EXPECT_EQ(v.size(), 1u) << out;
    return v.empty() ? json() : v[0];
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/spoofex-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
    db_ = "sqlite:" + (dir_ / "t.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs spoofex with `args` (shell-quoted by the caller), stdin from `input`.
  CommandRun spoofex(const std::string& args, const std::string& input = "") {
    const fs::path in = dir_ / "stdin", out = dir_ / "stdout", err = dir_ / "stderr";
    std::ofstream(in) << input;
    const std::string cmd = std::string(SPOOFEX_BIN) + " --db '" + db_ + "' " + args + " <" +
                            in.string() + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(cmd.c_str());
    CommandRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(CliTest, ScreenPrintsTheContractShape) {
  const CommandRun r = spoofex("screen --from 09876543210");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = r.only();
  EXPECT_EQ(j["caller"]["raw"], "09876543210");
  EXPECT_EQ(j["caller"]["e164"], "+919876543210");
  EXPECT_EQ(j["caller"]["valid"], true);
  EXPECT_EQ(j["caller"]["type"], "mobile");
  EXPECT_EQ(j["caller"]["region"], "IN");
  EXPECT_EQ(j["action"], "accept");
  for (const char* flag : {"spam_listed", "spoofed", "system_generated", "withheld"}) {
    EXPECT_EQ(j["flags"][flag], false) << flag;
  }
  EXPECT_TRUE(j["reasons"].is_array());
}

TEST_F(CliTest, SpamListedCallerIsRejectedWithReason) {
  ASSERT_EQ(spoofex("spam add '+91 98765 43210' --reason 'KYC scam'").exit_code, 0);
  const json j = spoofex("screen --from 9876543210").only();
  EXPECT_EQ(j["action"], "reject");
  EXPECT_EQ(j["flags"]["spam_listed"], true);
  bool found = false;
  for (const auto& r : j["reasons"]) {
    if (r["code"] == "spam_listed") {
      found = true;
      EXPECT_NE(r["detail"].get<std::string>().find("KYC scam"), std::string::npos);
    }
  }
  EXPECT_TRUE(found) << j.dump();
}

TEST_F(CliTest, SpoofFromAbroadAndStirFailureAreFlagged) {
  const json j =
      spoofex("screen --from +919876543210 --origin-country US --stir TN-Validation-Failed-B")
          .only();
  EXPECT_EQ(j["flags"]["spoofed"], true);
  EXPECT_EQ(j["action"], "accept")
      << "spoofs are answered and screened unless reject_spoofed is set";
  std::vector<std::string> codes;
  for (const auto& r : j["reasons"]) codes.push_back(r["code"]);
  EXPECT_NE(std::find(codes.begin(), codes.end(), "indian_cli_international_route"), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), "stir_failed"), codes.end());
}

TEST_F(CliTest, RejectSpoofedPolicyComesFromConfig) {
  const fs::path cfg =
      write("c.toml", "[screening]\nreject_spoofed = true\nown_numbers = [\"011 2300 1100\"]\n");
  const json j = spoofex("--config " + cfg.string() + " screen --from +911123001100").only();
  EXPECT_EQ(j["action"], "reject");
  EXPECT_EQ(j["flags"]["spoofed"], true);
}

TEST_F(CliTest, WithheldCallerIsAnsweredNotSpoofed) {
  for (const char* from : {"anonymous", "Restricted", ""}) {
    const json j = spoofex(std::string("screen --from '") + from + "'").only();
    EXPECT_EQ(j["action"], "accept") << from;
    EXPECT_EQ(j["flags"]["withheld"], true) << from;
    EXPECT_EQ(j["flags"]["spoofed"], false) << from;
    EXPECT_EQ(j["caller"]["type"], "withheld") << from;
  }
}

TEST_F(CliTest, HostileCallerIdsGiveAResultNotACrash) {
  const std::string huge(10000, '9');
  for (const std::string& from :
       {std::string("abc"), std::string("12ab##"), huge, std::string("+91 (0) 98765-43210 ext. 5"),
        std::string("\xff\xfe")}) {
    const CommandRun r = spoofex("screen --from '" + from + "'");
    ASSERT_EQ(r.exit_code, 0) << from.substr(0, 40) << r.err;
    const json j = r.only();
    EXPECT_LE(j["caller"]["raw"].get<std::string>().size(), 128u * 3);
  }
}

TEST_F(CliTest, BadUsageExitsTwoWithOneLineError) {
  for (const char* args : {"screen", "screen --from 1 --json-lines", "spam add", "nonsense", ""}) {
    const CommandRun r = spoofex(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

TEST_F(CliTest, JsonLinesScreensABatchAndReportsBadLines) {
  const std::string input =
      "{\"from\":\"+919900011122\",\"at\":\"2026-11-25T10:00:00Z\"}\n"
      "not json\n"
      "{\"from\":\"+919900011122\",\"at\":\"2026-11-25T10:00:10Z\"}\n"
      "{\"origin_country\":\"US\"}\n"
      "{\"from\":42}\n";
  const CommandRun r = spoofex("screen --json-lines", input);
  EXPECT_EQ(r.exit_code, 2);
  const auto v = r.lines();
  ASSERT_EQ(v.size(), 5u) << r.out;
  EXPECT_EQ(v[0]["action"], "accept");
  EXPECT_EQ(v[1]["line"], 2);
  EXPECT_TRUE(v[1].contains("error"));
  EXPECT_EQ(v[2]["caller"]["e164"], "+919900011122");
  EXPECT_EQ(v[3]["line"], 4);
  EXPECT_EQ(v[4]["line"], 5);
}

TEST_F(CliTest, JsonLinesDetectsABurstFromOneNumber) {
  const fs::path cfg = write("c.toml", "[screening.burst]\nmax_calls = 2\nwindow_s = 60\n");
  std::string input;
  for (int i = 0; i < 4; ++i) {
    input += "{\"from\":\"+919900011122\",\"at\":" + std::to_string(1700000000 + i * 10) + "}\n";
  }
  const auto v = spoofex("--config " + cfg.string() + " screen --json-lines", input).lines();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[1]["flags"]["system_generated"], false);
  EXPECT_EQ(v[2]["flags"]["system_generated"], true);
  EXPECT_EQ(v[2]["reasons"][0]["code"], "burst");
}

TEST_F(CliTest, SpamAddRemoveListRoundTrip) {
  EXPECT_EQ(spoofex("spam add 9876543210 --reason 'loan scam' --by alice").only()["added"], true);
  EXPECT_EQ(spoofex("spam add +919876543210").only()["added"], false);
  auto list = spoofex("spam list").lines();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["e164"], "+919876543210");
  EXPECT_EQ(list[0]["reason"], "loan scam");
  EXPECT_EQ(list[0]["added_by"], "alice");
  EXPECT_EQ(spoofex("spam remove 09876543210 --reason 'owner verified'").only()["removed"], true);
  EXPECT_EQ(spoofex("spam remove 09876543210").only()["removed"], false);
  EXPECT_TRUE(spoofex("spam list").lines().empty());
  EXPECT_EQ(spoofex("screen --from 9876543210").only()["action"], "accept");
}

TEST_F(CliTest, SpamAddRefusesANonNumber) {
  const CommandRun r = spoofex("spam add anonymous");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("withheld"), std::string::npos) << r.err;
}

TEST_F(CliTest, ImportKeepsGoodRowsAndReportsEachBadRow) {
  const fs::path csv = write("list.csv",
                             "number,reason\n"
                             "+917000012345,loan scam\n"
                             "not-a-number,x\n"
                             "08012345678,\"KYC, fake bank\"\n"
                             "+917000012345,duplicate\n"
                             "9876543210,a,b\n"
                             "\"unterminated,\n");
  const CommandRun r = spoofex("spam import " + csv.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = r.only();
  EXPECT_EQ(j["imported"], 2);
  EXPECT_EQ(j["already_listed"], 1);
  ASSERT_EQ(j["bad_rows"].size(), 3u);
  EXPECT_EQ(j["bad_rows"][0]["line"], 3);
  EXPECT_EQ(j["bad_rows"][1]["line"], 6);
  EXPECT_EQ(j["bad_rows"][2]["line"], 7);
  EXPECT_NE(r.err.find(":3:"), std::string::npos) << r.err;
  EXPECT_EQ(spoofex("spam list").lines().size(), 2u);
}

TEST_F(CliTest, ImportOfABinaryFileIsRefusedAndChangesNothing) {
  ASSERT_EQ(spoofex("spam add 9876543210").exit_code, 0);
  const fs::path bin = write("x.csv", std::string("\x00\x01\x02garbage", 10));
  EXPECT_EQ(spoofex("spam import " + bin.string()).exit_code, 2);
  EXPECT_EQ(spoofex("spam import " + (dir_ / "missing.csv").string()).exit_code, 2);
  EXPECT_EQ(spoofex("spam list").lines().size(), 1u);
}

TEST_F(CliTest, ExportIsCsvThatImportsBackIntoAnotherDatabase) {
  ASSERT_EQ(spoofex("spam add 9876543210 --reason '=HYPERLINK(\"x\"), \"quoted\"'").exit_code, 0);
  ASSERT_EQ(spoofex("spam add 7000012345 --reason plain").exit_code, 0);
  const CommandRun exp = spoofex("spam export");
  ASSERT_EQ(exp.exit_code, 0);
  EXPECT_EQ(exp.out.substr(0, exp.out.find('\n')), "number,reason,added_by,added_at");
  EXPECT_NE(exp.out.find("'=HYPERLINK"), std::string::npos)
      << "formula must be defused: " << exp.out;
  const fs::path csv = write("export.csv", exp.out);
  db_ = "sqlite:" + (dir_ / "other.db").string();
  const json j = spoofex("spam import " + csv.string()).only();
  EXPECT_EQ(j["imported"], 2);
  EXPECT_TRUE(j["bad_rows"].empty()) << j.dump();
}

TEST_F(CliTest, DbMigrateReportsTheSchemaVersion) {
  const json j = spoofex("db migrate").only();
  EXPECT_EQ(j["backend"], "sqlite");
  EXPECT_GE(j["schema_version"].get<int>(), 1);
}

TEST_F(CliTest, UnreachableDatabaseIsAClearError) {
  db_ = "sqlite:/nonexistent-dir/x.db";
  const CommandRun r = spoofex("spam list");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot open database"), std::string::npos) << r.err;
}

TEST_F(CliTest, MalformedConfigIsAClearError) {
  const fs::path cfg = write("bad.toml", "[screening\nreject_spoofed = maybe\n");
  const CommandRun r = spoofex("--config " + cfg.string() + " screen --from 9876543210");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.toml"), std::string::npos) << r.err;
}

}  // namespace
