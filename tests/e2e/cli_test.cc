// End-to-end tests of the spoofex command-line contract (design.md): the real
// binary, a real SQLite file, JSON on stdout, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
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

// log10 unigram probability of `word` in an ARPA file's \1-grams: section.
double unigram_log10(const std::string& arpa, const std::string& word) {
  std::istringstream in(arpa.substr(arpa.find("\\1-grams:")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && !line.empty()) {
    std::istringstream fields(line);
    double p = 0;
    std::string w;
    if (fields >> p >> w && w == word) return p;
  }
  ADD_FAILURE() << word << " is not a unigram";
  return 0;
}

TEST_F(CliTest, LmBoostsTheKeywordsThreefoldByDefault) {
  std::ofstream(dir_ / "lines.tsv") << "emergency\tplease help there is a fire\n"
                                       "inquiry\twhat is the status of my complaint\n"
                                       "complaint\tmy phone was stolen last week\n";
  std::ofstream(dir_ / "keywords.txt") << "help\nfire\n";
  const std::string common = "lm --data '" + (dir_ / "lines.tsv").string() + "' --keywords '" +
                             (dir_ / "keywords.txt").string() + "' --out ";
  ASSERT_EQ(spoofex(common + "'" + (dir_ / "default.arpa").string() + "'").exit_code, 0);
  ASSERT_EQ(
      spoofex(common + "'" + (dir_ / "plain.arpa").string() + "' --keyword-boost 1").exit_code, 0);
  const std::string boosted = slurp(dir_ / "default.arpa"), plain = slurp(dir_ / "plain.arpa");
  // Three times the share, renormalised: p' = 3p / (1 + 2 p_keywords).
  EXPECT_GT(unigram_log10(boosted, "help") - unigram_log10(plain, "help"), 0.3);
  EXPECT_LT(unigram_log10(boosted, "phone"), unigram_log10(plain, "phone"));
}

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

TEST_F(CliTest, TriageThresholdOutOfRangeIsAClearError) {
  const fs::path cfg = write("t.toml", "[triage]\npossible_emergency = 1.5\n");
  const CommandRun r = spoofex("--config " + cfg.string() + " screen --from 9876543210");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("possible_emergency"), std::string::npos) << r.err;
}

TEST_F(CliTest, FastSpeechSettingsOutOfRangeAreClearErrors) {
  const fs::path wait = write("w.toml", "[server]\nfast_speech_after_s = -1\n");
  const CommandRun w = spoofex("--config " + wait.string() + " screen --from 9876543210");
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_NE(w.err.find("fast_speech_after_s"), std::string::npos) << w.err;
  // A wide main beam once killed the decoder (SIGFPE); now it is refused before decoding.
  const fs::path beam = write("b.toml", "[speech]\nfast_decoder_options = \"-beam 1e-3\"\n");
  const fs::path wav = write("s.wav", "");
  ASSERT_EQ(std::system(("sox -n -r 8000 -c 1 -b 16 " + wav.string() + " trim 0 1").c_str()), 0);
  const CommandRun b = spoofex("--config " + beam.string() + " transcribe " + wav.string());
  EXPECT_NE(b.exit_code, 0);
  EXPECT_NE(b.err.find("fast_decoder_options"), std::string::npos) << b.err;
}

}  // namespace

namespace {

// Recordings for the analyze tests, synthesised with sox and espeak-ng (both
// installed by scripts/setup).
class AnalyzeCliTest : public CliTest {
 protected:
  fs::path sox(const std::string& name, const std::string& input, const std::string& output_format,
               const std::string& effects) {
    const fs::path p = dir_ / name;
    const std::string cmd =
        "sox " + input + " " + output_format + " " + p.string() + " " + effects + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "sox failed: " << cmd;
    return p;
  }
  fs::path speech(const std::string& name, const std::string& text) {
    const fs::path raw = dir_ / ("raw-" + name);
    const std::string cmd = "espeak-ng -w " + raw.string() + " '" + text + "' 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "espeak-ng failed: " << cmd;
    return sox(name, raw.string(), "", "");
  }
  // DTMF keys (ITU-T Q.23 pairs) as 16-bit 8 kHz PCM: 1 s of silence, then each key
  // for 120 ms with 100 ms gaps, then 1 s of silence.
  fs::path keys(const std::string& name, const std::string& digits) {
    std::vector<std::int16_t> pcm(8000, 0);
    for (char d : digits) {
      const double low = d == '5' ? 770 : 852, high = d == '5' ? 1336 : 1477;  // 5 or 9
      for (int i = 0; i < 960; ++i) {
        const double t = i / 8000.0;
        pcm.push_back(static_cast<std::int16_t>(
            6000 * (std::sin(2 * M_PI * low * t) + std::sin(2 * M_PI * high * t))));
      }
      pcm.insert(pcm.end(), 800, 0);
    }
    pcm.insert(pcm.end(), 8000, 0);
    std::string wav = "RIFF....WAVEfmt ";
    auto put = [&](std::uint32_t v, int bytes) {
      for (int b = 0; b < bytes; ++b) wav.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
    };
    put(16, 4);
    put(1, 2);
    put(1, 2);
    put(8000, 4);
    put(16000, 4);
    put(2, 2);
    put(16, 2);
    wav += "data";
    put(static_cast<std::uint32_t>(pcm.size() * 2), 4);
    for (std::int16_t v : pcm) put(static_cast<std::uint16_t>(v), 2);
    const std::uint32_t riff = static_cast<std::uint32_t>(wav.size() - 8);
    for (int b = 0; b < 4; ++b) wav[4 + b] = static_cast<char>((riff >> (8 * b)) & 0xff);
    return write(name, wav);
  }
};

TEST_F(AnalyzeCliTest, SilentMuLawCallIsBlankAndQueuedForCallBack) {
  const fs::path wav = sox("silence.wav", "-n", "-r 8000 -c 1 -e mu-law", "trim 0 6");
  const CommandRun r = spoofex("analyze " + wav.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = r.only();
  EXPECT_EQ(j["flags"]["blank"], true);
  EXPECT_EQ(j["category"], "blank");
  EXPECT_EQ(j["department"], "callback_queue");
  EXPECT_EQ(j["digits"], "");
  EXPECT_EQ(j["digit"], nullptr);
  EXPECT_EQ(j["transcript"], "");
  for (const char* key : {"caller", "flags", "prediction", "reasons"})
    EXPECT_TRUE(j.contains(key)) << key;
}

TEST_F(AnalyzeCliTest, SpeechIsNotBlank) {
  const fs::path wav =
      speech("speech.wav", "please send the police, my neighbour is beating his wife");
  const fs::path tel =
      sox("tel.wav", wav.string(), "-r 8000 -e mu-law", "sinc 300-3400 gain -n -25");
  const json j = spoofex("analyze " + tel.string() + " --from 9876543210").only();
  EXPECT_EQ(j["flags"]["blank"], false);
  EXPECT_NE(j["category"], "blank");
  EXPECT_EQ(j["caller"]["e164"], "+919876543210");
}

TEST_F(AnalyzeCliTest, KeysHeardInTheRecordingAreReportedInOrder) {
  // 5 is 770 + 1336 Hz and 9 is 852 + 1477 Hz (ITU-T Q.23).
  const fs::path wav = keys("keys.wav", "59");
  const json j = spoofex("analyze " + wav.string()).only();
  EXPECT_EQ(j["digits"], "59") << j.dump();
  EXPECT_EQ(j["digit"], "5");
}

TEST_F(AnalyzeCliTest, SilentSolutionKeysMakeAnEmergency) {
  const fs::path wav = keys("55.wav", "55");
  const json j = spoofex("analyze " + wav.string()).only();
  EXPECT_EQ(j["digits"], "55") << j.dump();
  EXPECT_EQ(j["category"], "emergency");
  EXPECT_EQ(j["department"], "control_room");
  EXPECT_EQ(j["flags"]["blank"], false);
}

TEST_F(AnalyzeCliTest, CorruptWavIsAClearError) {
  const fs::path bad = write("bad.wav", std::string("RIFF\x10\x00\x00\x00WAVEjunk", 16));
  const CommandRun r = spoofex("analyze " + bad.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.wav"), std::string::npos) << r.err;
  EXPECT_EQ(spoofex("analyze " + (dir_ / "missing.wav").string()).exit_code, 2);
}

TEST_F(CliTest, ClassifyWritesOneObjectPerLine) {
  const CommandRun r =
      spoofex("classify",
              "there is a fire in our building please come fast\n\nmy bike was stolen yesterday\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto v = r.lines();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["category"], "emergency");
  EXPECT_GT(v[0]["urgency"].get<double>(), 0.5);
  double sum = 0;
  for (const auto& [k, p] : v[0]["scores"].items()) sum += p.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_EQ(v[2]["category"], "complaint");
  // A recogniser's transcript is scored with the calibration fitted on recognised readings.
  const std::string line = "a man keeps following my sister from the market\n";
  const CommandRun heard = spoofex("classify --heard", line);
  ASSERT_EQ(heard.exit_code, 0) << heard.err;
  const json hj = heard.only(), wj = spoofex("classify", line).only();
  EXPECT_NE(hj["scores"]["emergency"], wj["scores"]["emergency"]) << hj.dump() << wj.dump();
}

TEST_F(CliTest, TrainIncludesNothingItCannotReadAndEvalPrintsATable) {
  const fs::path data = write("d.tsv", "emergency\thelp fire\nbogus\tline\n");
  EXPECT_EQ(spoofex("train --data " + data.string() + " --out " + (dir_ / "m").string()).exit_code,
            2);
  const fs::path good =
      write("g.tsv",
            "emergency\thelp there is a fire\ninquiry\thow do i get verification\n"
            "complaint\tmy phone was stolen last week\nspam\tyou won a lottery press one\n");
  const CommandRun t = spoofex("train --data " + good.string() + " --out " + (dir_ / "m").string());
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.only()["examples"], 4);
  const CommandRun e =
      spoofex("eval --data " + good.string() + " --model " + (dir_ / "m").string());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("macro-F1"), std::string::npos);
  EXPECT_NE(e.out.find("keyword-rules"), std::string::npos);
  const CommandRun ej =
      spoofex("eval --json --data " + good.string() + " --model " + (dir_ / "m").string());
  const json j = ej.only();
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 1.0);
  EXPECT_TRUE(j["baselines"].contains("majority_class"));
}

TEST_F(CliTest, TrainSaysWhichModelAndShiftItChoseAndEvalCrossValidates) {
  const fs::path data =
      write("cv.tsv",
            "emergency\thelp there is a fire\nemergency\tsomeone is beating my mother\n"
            "emergency\taccident on the highway send ambulance\n"
            "inquiry\thow do i get verification\ninquiry\twhat is the status of my fir\n"
            "inquiry\twhere is the police station\n"
            "complaint\tmy phone was stolen last week\n"
            "complaint\tneighbours play loud music every night\ncomplaint\tsomeone cheated me\n"
            "spam\tyou won a lottery press one\nspam\tyour kyc will expire press one\n"
            "spam\tcheap home loans call now\n");
  const CommandRun t =
      spoofex("train --model-type nb --data " + data.string() + " --out " + (dir_ / "nb").string());
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json tj = t.only();
  EXPECT_EQ(tj["model"], "nb");
  EXPECT_TRUE(tj.contains("emergency_shift"));
  EXPECT_EQ(spoofex("train --model-type forest --data " + data.string() + " --out " +
                    (dir_ / "x").string())
                .exit_code,
            2);
  const CommandRun cv = spoofex("eval --cv 3 --json --data " + data.string());
  ASSERT_EQ(cv.exit_code, 0) << cv.err;
  const json cj = cv.only();
  EXPECT_EQ(cj["folds"], 3);
  EXPECT_EQ(cj["n"], 12);
  EXPECT_GE(cj["macro_f1"].get<double>(), 0.0);
  EXPECT_LE(cj["macro_f1"].get<double>(), 1.0);

  // Grouped: provenance rows name the data file; a provenance of another file is an error,
  // not a silently ungrouped (and flattering) figure.
  const fs::path groups =
      write("provenance.tsv",
            "file\tline\tlabel\tsource\torigin\n"
            "cv.tsv\t1\temergency\tframe\tf1\ncv.tsv\t2\temergency\tframe\tf1\n");
  const CommandRun grouped =
      spoofex("eval --cv 3 --json --data " + data.string() + " --groups " + groups.string());
  ASSERT_EQ(grouped.exit_code, 0) << grouped.err;
  EXPECT_TRUE(grouped.only()["grouped"].get<bool>());
  const fs::path other = write("other.tsv",
                               "file\tline\tlabel\tsource\torigin\n"
                               "train.tsv\t1\temergency\tframe\tf1\n");
  const CommandRun wrong =
      spoofex("eval --cv 3 --json --data " + data.string() + " --groups " + other.string());
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("has no rows for 'cv.tsv'"), std::string::npos) << wrong.err;
}

TEST_F(CliTest, ReadingsAreTrainedOnAndCalibratedApart) {
  // 60 written lines and a recogniser's reading of each that lost the words of danger.
  std::string written, heard;
  const char* kinds[][3] = {
      {"emergency", "help there is a fire in house", "help there is in house"},
      {"inquiry", "how do i get verification for flat", "how do i get for flat"},
      {"complaint", "my phone was stolen from bus stand", "my phone was from bus"},
      {"spam", "you won a lottery press one number", "you won a press one"}};
  for (int i = 0; i < 15; ++i) {
    for (std::size_t c = 0; c < 4; ++c) {
      const auto& k = kinds[c];
      written += std::string(k[0]) + "\t" + k[1] + " " + std::to_string(i) + "\n";
      // Every third emergency reads like the theft: the recogniser confused them.
      const bool confused = c == 0 && i % 3 == 0;
      heard += std::string(k[0]) + "\t" + (confused ? kinds[2][2] : k[2]) + "\n";
    }
  }
  const fs::path w = write("w.tsv", written), h = write("h.tsv", heard);
  const fs::path model = dir_ / "m";
  const CommandRun t = spoofex("train --no-feedback --data " + w.string() + " --readings " +
                               h.string() + " --out " + model.string());
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json tj = t.only();
  EXPECT_EQ(tj["examples"], 120);
  EXPECT_TRUE(tj.contains("heard_emergency_shift"));
  EXPECT_TRUE(tj.contains("heard_temperature"));
  EXPECT_NE(tj["heard_temperature"], tj["temperature"]) << tj.dump();

  const CommandRun bad = spoofex("train --data " + w.string() + " --readings " +
                                 (dir_ / "missing.tsv").string() + " --out " + model.string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("missing.tsv"), std::string::npos) << bad.err;

  const CommandRun e = spoofex("eval --heard --json --data " + h.string() + " --train " +
                               w.string() + " --readings " + h.string());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.only()["source"], "heard");
  EXPECT_EQ(
      spoofex("eval --json --data " + w.string() + " --model " + model.string()).only()["source"],
      "written");
}

TEST_F(CliTest, ExportCsvOfAnEmptyDatabaseIsJustTheHeader) {
  const CommandRun r = spoofex("export --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "call_sid,started_at,from,e164,status,category,department,spam_listed,spoofed,"
            "system_generated,blank,handled,digits,transcript\n");
}

TEST_F(CliTest, ExportJsonlOfAnEmptyDatabaseIsEmpty) {
  const CommandRun r = spoofex("export --format jsonl --since 2026-11-25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, ExportRefusesABadFormatOrSince) {
  for (const char* args :
       {"export --format xml", "export", "export --format csv --since 25-11-2026",
        "export --format csv --since '2026-11-25T14:30:00+05:30'",
        "export --format jsonl --since \"2026-11-25'; DROP TABLE calls; --\""}) {
    const CommandRun r = spoofex(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

TEST_F(CliTest, PurgeOfAnEmptyDatabasePurgesNothing) {
  const json j = spoofex("db purge --older-than-days 30").only();
  EXPECT_EQ(j["purged"], 0);
  EXPECT_EQ(spoofex("db purge --older-than-days 0").exit_code, 2);
}

}  // namespace
