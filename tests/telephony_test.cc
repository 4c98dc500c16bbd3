// Unit tests for the telephony module: form bodies, X-Twilio-Signature, Base64,
// TwiML, Media Streams messages (../shared/protocols.md) and the CallSession state
// machine that turns a screening verdict, Gather keys, audio, transcripts and triage
// into one routing decision per call.
//
// The session runs on a fake clock: every call gets `t0 + n ms`, advanced by hand.
// Audio is built here: silence is µ-law 0xFF; speech is a synthetic voiced vowel
// (a 120 Hz harmonic series with formant peaks and a slight vibrato) at -20 dBFS,
// which the AudioAnalyzer hears as speech (checked by SynthesisedVowelIsSpeech).
#include "telephony/telephony.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audio/audio.h"
#include "telephony/json_text.h"

namespace spoofex::telephony {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Json = nlohmann::json;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// ---------------------------------------------------------------------------------
// Form bodies

TEST(FormTest, ParsesNamesAndValuesInOrder) {
  auto p = parse_form("CallSid=CA123&From=%2B919876543210&To=%2B91112");
  ASSERT_TRUE(p) << p.error();
  const Params expected = {{"CallSid", "CA123"}, {"From", "+919876543210"}, {"To", "+91112"}};
  EXPECT_EQ(*p, expected);
}

TEST(FormTest, PlusIsSpace) {
  auto p = parse_form("CallerName=Ravi+Kumar&City+Name=New+Delhi");
  ASSERT_TRUE(p) << p.error();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].second, "Ravi Kumar");
  EXPECT_EQ((*p)[1].first, "City Name");
  EXPECT_EQ((*p)[1].second, "New Delhi");
}

TEST(FormTest, PercentEncodedPlusIsLiteralPlus) {
  auto p = parse_form("From=%2B12349013030");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ((*p)[0].second, "+12349013030");
}

TEST(FormTest, LowerCaseHexEscapesDecode) {
  auto p = parse_form("a=%2b%3d%e0%a4%a8");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ((*p)[0].second, "+=\xe0\xa4\xa8");
}

TEST(FormTest, EmptyBodyHasNoParams) {
  auto p = parse_form("");
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE(p->empty());
}

TEST(FormTest, EmptyPairsAreSkipped) {
  auto p = parse_form("&a=1&&&b=2&");
  ASSERT_TRUE(p) << p.error();
  const Params expected = {{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(*p, expected);
}

TEST(FormTest, NameWithoutEqualsHasEmptyValue) {
  auto p = parse_form("flag&a=");
  ASSERT_TRUE(p) << p.error();
  const Params expected = {{"flag", ""}, {"a", ""}};
  EXPECT_EQ(*p, expected);
}

TEST(FormTest, ValueMayContainEqualsSign) {
  auto p = parse_form("a=b=c");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ((*p)[0].first, "a");
  EXPECT_EQ((*p)[0].second, "b=c");
}

TEST(FormTest, RepeatedNamesAreKeptInOrder) {
  auto p = parse_form("k=1&x=0&k=2&k=3");
  ASSERT_TRUE(p) << p.error();
  const Params expected = {{"k", "1"}, {"x", "0"}, {"k", "2"}, {"k", "3"}};
  EXPECT_EQ(*p, expected);
}

TEST(FormTest, BadPercentEscapeInValueIsError) {
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_FALSE(parse_form("a=%G1"));
  EXPECT_FALSE(parse_form("a=%1G"));
}

TEST(FormTest, BadPercentEscapeInNameIsError) { EXPECT_FALSE(parse_form("%x1=1")); }

TEST(FormTest, TruncatedPercentEscapeIsError) {
  EXPECT_FALSE(parse_form("a=%"));
  EXPECT_FALSE(parse_form("a=%4"));
  EXPECT_FALSE(parse_form("a=%4&b=1"));
  EXPECT_FALSE(parse_form("%4=1"));
}

TEST(FormTest, ErrorNamesTheField) {
  auto p = parse_form("Digits=%zz");
  ASSERT_FALSE(p);
  EXPECT_TRUE(contains(p.error(), "Digits")) << p.error();
}

// "f0=v&f1=v&..." with n fields.
std::string form_with_fields(std::size_t n) {
  std::string body;
  for (std::size_t i = 0; i < n; ++i) {
    body += 'f';
    body += std::to_string(i);
    body += "=v&";
  }
  return body;
}

TEST(FormTest, ExactlyMaxParamsIsAccepted) {
  auto p = parse_form(form_with_fields(kMaxFormParams));
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->size(), kMaxFormParams);
}

TEST(FormTest, MoreThanMaxParamsIsError) {
  EXPECT_FALSE(parse_form(form_with_fields(kMaxFormParams + 1)));
}

TEST(FormTest, EmptyPairsDoNotCountTowardsTheLimit) {
  std::string body;
  for (std::size_t i = 0; i < kMaxFormParams; ++i) body += "f=v&&&";
  auto p = parse_form(body);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->size(), kMaxFormParams);
}

TEST(FormTest, ParamFindsTheFirstValue) {
  const Params p = {{"k", "first"}, {"k", "second"}};
  ASSERT_TRUE(param(p, "k"));
  EXPECT_EQ(*param(p, "k"), "first");
}

TEST(FormTest, ParamMissingIsNullopt) {
  const Params p = {{"a", "1"}};
  EXPECT_FALSE(param(p, "b"));
  EXPECT_FALSE(param(p, "A"));  // names are case-sensitive
}

TEST(FormTest, ParamWithEmptyValueIsPresent) {
  const Params p = {{"Digits", ""}};
  ASSERT_TRUE(param(p, "Digits"));
  EXPECT_EQ(*param(p, "Digits"), "");
}

TEST(FormTest, EncodeEscapesReservedCharacters) {
  EXPECT_EQ(form_encode({{"a b", "x&y=z+%"}}), "a%20b=x%26y%3Dz%2B%25");
}

TEST(FormTest, EncodeJoinsPairsWithAmpersand) {
  EXPECT_EQ(form_encode({{"a", "1"}, {"b", ""}, {"a", "2"}}), "a=1&b=&a=2");
}

TEST(FormTest, EncodeOfNothingIsEmpty) { EXPECT_EQ(form_encode({}), ""); }

TEST(FormTest, EncodeThenParseRoundTrips) {
  const Params original = {{"CallSid", "CA0123456789abcdef0123456789abcdef"},
                           {"From", "+919876543210"},
                           {"Text", "fire at 12 M.G. Road & 3rd cross = help? 100%"},
                           {"Hindi", "\xe0\xa4\xae\xe0\xa4\xa6\xe0\xa4\xa6"},
                           {"Empty", ""},
                           {"From", "repeat"},
                           {"Bytes", std::string("\x00\x01\xff~", 4)}};
  auto parsed = parse_form(form_encode(original));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(*parsed, original);
}

TEST(UrlTest, EncodeLeavesUnreservedCharacters) {
  EXPECT_EQ(url_encode("AZaz09-_.~"), "AZaz09-_.~");
}

TEST(UrlTest, EncodeUsesUpperCaseHex) {
  EXPECT_EQ(url_encode("/ +"), "%2F%20%2B");
  EXPECT_EQ(url_encode("\xff"), "%FF");
}

TEST(UrlTest, DecodeKeepsPlusWhenNotAForm) {
  auto d = url_decode("a+b", false);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, "a+b");
}

TEST(UrlTest, DecodeTurnsPlusIntoSpaceInAForm) {
  auto d = url_decode("a+b", true);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, "a b");
}

TEST(UrlTest, DecodeEscapeAtTheVeryEnd) {
  auto d = url_decode("ab%41", false);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, "abA");
}

TEST(UrlTest, DecodeTruncatedEscapeIsError) {
  EXPECT_FALSE(url_decode("%", false));
  EXPECT_FALSE(url_decode("ab%4", false));
}

TEST(UrlTest, DecodeBadEscapeIsError) {
  EXPECT_FALSE(url_decode("%-1", false));
  EXPECT_FALSE(url_decode("%%41", false));
}

TEST(UrlTest, EveryByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  auto d = url_decode(url_encode(all), true);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, all);
}

// ---------------------------------------------------------------------------------
// X-Twilio-Signature (protocols.md section 4)

// Twilio's "Webhooks security" page: this URL, these POST fields and auth token
// 12345 sign as 0/KCTR6DLpKmkAf8muzZqo1nDgQ=. Checked independently: the URL followed
// by "CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212"
// piped through `openssl dgst -sha1 -hmac 12345 -binary | base64` gives the same.
const std::string kDocUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
const std::string kDocToken = "12345";
const std::string kDocSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
Params doc_params() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+12349013030"},
          {"Digits", "1234"},
          {"From", "+12349013030"},
          {"To", "+18005551212"}};
}

TEST(SignatureTest, TwilioDocumentationExampleMatches) {
  EXPECT_EQ(twilio_signature(kDocUrl, doc_params(), kDocToken), kDocSignature);
}

TEST(SignatureTest, ParamsAreSortedByName) {
  const Params shuffled = {{"To", "+18005551212"},
                           {"Digits", "1234"},
                           {"CallSid", "CA1234567890ABCDE"},
                           {"From", "+12349013030"},
                           {"Caller", "+12349013030"}};
  EXPECT_EQ(twilio_signature(kDocUrl, shuffled, kDocToken), kDocSignature);
}

TEST(SignatureTest, ParsedFormBodySignsLikeTheDocumentation) {
  auto p = parse_form(
      "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To="
      "%2B18005551212");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(twilio_signature(kDocUrl, *p, kDocToken), kDocSignature);
}

// openssl dgst -sha1 -hmac 12345 of the URL alone (the JSON-body case).
TEST(SignatureTest, UrlAloneWhenThereAreNoParams) {
  EXPECT_EQ(twilio_signature(kDocUrl, {}, kDocToken), "zYQTYrRWXE7LtzbG4PfP7/bkkGo=");
}

// Repeated names sign in value order, as Twilio's helper libraries do:
// openssl dgst -sha1 -hmac secret of "https://x/twilio/voicea1a9b2".
TEST(SignatureTest, RepeatedNamesSignInValueOrder) {
  const Params p = {{"b", "2"}, {"a", "9"}, {"a", "1"}};
  EXPECT_EQ(twilio_signature("https://x/twilio/voice", p, "secret"),
            "oWyM7qDg5dhpF7aPjejiHhhOt54=");
}

TEST(SignatureTest, ReusedCheckerSignsEachRequestAfresh) {
  SignatureChecker checker("12345");
  const Params a = {{"CallSid", "CA1"}, {"From", "+14158675310"}};
  const Params b = {{"CallSid", "CA2"}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(checker.sign("https://x/a", a), twilio_signature("https://x/a", a, "12345"));
    EXPECT_EQ(checker.sign("https://x/b", b), twilio_signature("https://x/b", b, "12345"));
  }
  EXPECT_TRUE(checker.valid("https://x/a", a, twilio_signature("https://x/a", a, "12345")));
  EXPECT_FALSE(checker.valid("https://x/a", a, twilio_signature("https://x/a", a, "54321")));
}

TEST(FormTest, ParsingIntoAUsedBufferLeavesNoOldPairs) {
  Params out;
  ASSERT_TRUE(parse_form("a=1&b=2&c=3", out));
  ASSERT_TRUE(parse_form("x=%41", out));
  EXPECT_EQ(out, (Params{{"x", "A"}}));
  EXPECT_FALSE(parse_form("y=%zz", out));
}

TEST(SignatureTest, ValidForTheRightHeader) {
  EXPECT_TRUE(signature_valid(kDocUrl, doc_params(), kDocToken, kDocSignature));
}

TEST(SignatureTest, InvalidWhenTheUrlIsAltered) {
  EXPECT_FALSE(signature_valid("https://mycompany.com/myapp.php?foo=1&bar=3", doc_params(),
                               kDocToken, kDocSignature));
  EXPECT_FALSE(signature_valid("http://mycompany.com/myapp.php?foo=1&bar=2", doc_params(),
                               kDocToken, kDocSignature));
}

TEST(SignatureTest, InvalidWhenAParamValueIsAltered) {
  Params p = doc_params();
  p[2].second = "1235";
  EXPECT_FALSE(signature_valid(kDocUrl, p, kDocToken, kDocSignature));
}

TEST(SignatureTest, InvalidWhenAParamIsAdded) {
  Params p = doc_params();
  p.emplace_back("StirVerstat", "TN-Validation-Passed-A");
  EXPECT_FALSE(signature_valid(kDocUrl, p, kDocToken, kDocSignature));
}

TEST(SignatureTest, InvalidWhenAParamIsRemoved) {
  Params p = doc_params();
  p.pop_back();
  EXPECT_FALSE(signature_valid(kDocUrl, p, kDocToken, kDocSignature));
}

TEST(SignatureTest, InvalidForAnotherToken) {
  EXPECT_FALSE(signature_valid(kDocUrl, doc_params(), "12346", kDocSignature));
}

TEST(SignatureTest, InvalidForAnEmptyHeader) {
  EXPECT_FALSE(signature_valid(kDocUrl, doc_params(), kDocToken, ""));
}

TEST(SignatureTest, InvalidForAnEmptyTokenEvenWithItsOwnSignature) {
  const std::string signed_with_empty = twilio_signature(kDocUrl, doc_params(), "");
  EXPECT_FALSE(signature_valid(kDocUrl, doc_params(), "", signed_with_empty));
}

TEST(SignatureTest, InvalidForAHeaderOfAnotherLength) {
  EXPECT_FALSE(signature_valid(kDocUrl, doc_params(), kDocToken, kDocSignature + "A"));
  EXPECT_FALSE(signature_valid(kDocUrl, doc_params(), kDocToken,
                               kDocSignature.substr(0, kDocSignature.size() - 1)));
}

TEST(SignatureTest, InvalidWhenOneCharacterDiffers) {
  std::string header = kDocSignature;
  header[5] = header[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signature_valid(kDocUrl, doc_params(), kDocToken, header));
}

// ---------------------------------------------------------------------------------
// Base64

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(bytes_of("")), "");
  EXPECT_EQ(base64_encode(bytes_of("f")), "Zg==");
  EXPECT_EQ(base64_encode(bytes_of("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(bytes_of("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(bytes_of("foob")), "Zm9vYg==");
  EXPECT_EQ(base64_encode(bytes_of("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64_encode(bytes_of("foobar")), "Zm9vYmFy");
}

TEST(Base64Test, DecodesRfc4648VectorsWithoutPaddingBytes) {
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto d = base64_decode(base64_encode(bytes_of(s)));
    ASSERT_TRUE(d) << s << ": " << d.error();
    EXPECT_EQ(*d, bytes_of(s)) << s;
  }
}

TEST(Base64Test, RoundTripsEveryLengthFrom0To10) {
  for (std::size_t n = 0; n <= 10; ++n) {
    // Ends in 0xFF and 0x00, where padding could eat or add bytes.
    Bytes b;
    for (std::size_t i = 0; i < n; ++i) {
      const bool last = i + 1 == n, second_last = i + 2 == n;
      b.push_back(last ? 0x00 : second_last ? 0xFF : static_cast<std::uint8_t>(i * 97 + 13));
    }
    const std::string text = base64_encode(b);
    EXPECT_EQ(text.size(), 4 * ((n + 2) / 3)) << n;
    auto d = base64_decode(text);
    ASSERT_TRUE(d) << n << ": " << d.error();
    EXPECT_EQ(*d, b) << "length " << n;
  }
}

TEST(Base64Test, TrailingZeroBytesSurvivePadding) {
  const Bytes zeros = {0, 0};
  auto d = base64_decode(base64_encode(zeros));  // "AAA="
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, zeros);
}

TEST(Base64Test, LengthNotAMultipleOf4IsError) {
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Zg"));
  EXPECT_FALSE(base64_decode("Zm9vY"));
  EXPECT_FALSE(base64_decode("A"));
}

TEST(Base64Test, CharacterOutsideTheAlphabetIsError) {
  EXPECT_FALSE(base64_decode("Zm9*"));
  EXPECT_FALSE(base64_decode("Zm9vYm!="));
  EXPECT_FALSE(base64_decode("Zm-v"));  // base64url is not Twilio's alphabet
}

TEST(Base64Test, PaddingInTheMiddleIsError) {
  EXPECT_FALSE(base64_decode("Zg==Zm9v"));
  EXPECT_FALSE(base64_decode("Zm9vYg=A"));
}

TEST(Base64Test, MoreThanTwoPaddingCharactersIsError) {
  EXPECT_FALSE(base64_decode("Z==="));
  EXPECT_FALSE(base64_decode("Zm9v===="));
}

TEST(Base64Test, OnlyPaddingIsAnErrorNotAnException) {
  bool decoded = true;
  EXPECT_NO_THROW(decoded = base64_decode("====").ok());
  EXPECT_FALSE(decoded);
}

// ---------------------------------------------------------------------------------
// XML and TwiML (protocols.md section 2)

constexpr std::string_view kXmlHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>";

TEST(XmlEscapeTest, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(xml_escape("&<>\"'"), "&amp;&lt;&gt;&quot;&apos;");
}

TEST(XmlEscapeTest, LeavesPlainTextAlone) {
  EXPECT_EQ(xml_escape("Press 1 for an emergency."), "Press 1 for an emergency.");
}

TEST(XmlEscapeTest, DropsControlCharacters) {
  EXPECT_EQ(xml_escape(std::string("a\x01"
                                   "b\x1f"
                                   "c\x00"
                                   "d\x08",
                                   8)),
            "abcd");
}

TEST(XmlEscapeTest, KeepsTabNewlineAndCarriageReturn) {
  EXPECT_EQ(xml_escape("a\tb\nc\rd"), "a\tb\nc\rd");
}

TEST(XmlEscapeTest, KeepsUtf8Text) {
  const std::string hindi = "\xe0\xa4\xae\xe0\xa4\xa6\xe0\xa4\xa6";  // madad
  EXPECT_EQ(xml_escape(hindi), hindi);
}

TEST(TwimlTest, EmptyDocumentIsDeclarationAndResponse) {
  EXPECT_EQ(Twiml().str(), std::string(kXmlHead) + "</Response>");
}

TEST(TwimlTest, DocumentStartsWithDeclarationAndEndsWithResponse) {
  const std::string doc = Twiml().say("Hello").hangup().str();
  EXPECT_TRUE(doc.starts_with(kXmlHead)) << doc;
  EXPECT_TRUE(doc.ends_with("</Response>")) << doc;
}

TEST(TwimlTest, RejectCarriesItsReason) {
  EXPECT_EQ(Twiml().reject().str(),
            std::string(kXmlHead) + "<Reject reason=\"rejected\"/></Response>");
  EXPECT_TRUE(contains(Twiml().reject("busy").str(), "<Reject reason=\"busy\"/>"));
}

TEST(TwimlTest, SayUsesTheConfiguredVoiceAndLanguage) {
  EXPECT_TRUE(contains(Twiml().say("Hello").str(),
                       "<Say voice=\"Polly.Aditi\" language=\"en-IN\">Hello</Say>"));
  Voice v;
  v.voice = "alice";
  v.language = "hi-IN";
  EXPECT_TRUE(contains(Twiml(v).say("Namaste").str(),
                       "<Say voice=\"alice\" language=\"hi-IN\">Namaste</Say>"));
}

TEST(TwimlTest, SayEscapesMarkupInTheText) {
  const std::string doc = Twiml().say("you said: <Hangup/> & \"stop\"").str();
  EXPECT_TRUE(contains(doc, "you said: &lt;Hangup/&gt; &amp; &quot;stop&quot;")) << doc;
  EXPECT_FALSE(contains(doc, "<Hangup/>")) << doc;
}

TEST(TwimlTest, PauseHasItsLength) {
  EXPECT_TRUE(contains(Twiml().pause(20).str(), "<Pause length=\"20\"/>"));
}

TEST(TwimlTest, PauseLastsAtLeastOneSecond) {
  EXPECT_TRUE(contains(Twiml().pause(0).str(), "<Pause length=\"1\"/>"));
  EXPECT_TRUE(contains(Twiml().pause(-5).str(), "<Pause length=\"1\"/>"));
}

TEST(TwimlTest, HangupVerb) {
  EXPECT_EQ(Twiml().hangup().str(), std::string(kXmlHead) + "<Hangup/></Response>");
}

TEST(TwimlTest, RedirectPostsToTheEscapedUrl) {
  EXPECT_TRUE(contains(Twiml().redirect("https://x/g?a=1&b=2").str(),
                       "<Redirect method=\"POST\">https://x/g?a=1&amp;b=2</Redirect>"));
}

TEST(TwimlTest, DialForwardsToTheNumber) {
  EXPECT_TRUE(contains(Twiml().dial("+911123456789").str(),
                       "<Dial timeout=\"20\"><Number>+911123456789</Number></Dial>"));
}

TEST(TwimlTest, DialCarriesTimeoutAndCallerId) {
  EXPECT_TRUE(
      contains(Twiml().dial("+911123456789", 30, "+91100").str(),
               "<Dial timeout=\"30\" callerId=\"+91100\"><Number>+911123456789</Number></Dial>"));
}

TEST(TwimlTest, GatherHasAllItsAttributes) {
  const std::string doc =
      Twiml().gather("https://x/twilio/gather?stage=silent&k=1", 2, 8, "Press 5 5").str();
  EXPECT_TRUE(contains(doc,
                       "<Gather input=\"dtmf\" numDigits=\"2\" timeout=\"8\" finishOnKey=\"#\" "
                       "action=\"https://x/twilio/gather?stage=silent&amp;k=1\" method=\"POST\" "
                       "actionOnEmptyResult=\"true\">"))
      << doc;
}

TEST(TwimlTest, GatherNestsThePrompt) {
  const std::string doc = Twiml().gather("/g", 1, 5, "Press 1").str();
  EXPECT_TRUE(contains(
      doc, "\"><Say voice=\"Polly.Aditi\" language=\"en-IN\">Press 1</Say></Gather></Response>"))
      << doc;
}

TEST(TwimlTest, GatherWithoutPromptHasNoSay) {
  const std::string doc = Twiml().gather("/g", 1, 5, "").str();
  EXPECT_FALSE(contains(doc, "<Say")) << doc;
  EXPECT_TRUE(contains(doc, "actionOnEmptyResult=\"true\"></Gather>")) << doc;
}

TEST(TwimlTest, StartStreamForksInboundAudioWithParameters) {
  const std::string doc =
      Twiml().start_stream("wss://x/twilio/stream", {{"call_sid", "CA1"}, {"k", "a\"b"}}).str();
  EXPECT_TRUE(contains(doc,
                       "<Start><Stream name=\"spoofex\" url=\"wss://x/twilio/stream\" "
                       "track=\"inbound_track\">"
                       "<Parameter name=\"call_sid\" value=\"CA1\"/>"
                       "<Parameter name=\"k\" value=\"a&quot;b\"/></Stream></Start>"))
      << doc;
}

TEST(TwimlTest, VerbsAppearInTheOrderAdded) {
  const std::string doc = Twiml().say("one").pause(1).redirect("/next").str();
  const auto say = doc.find("<Say"), pause = doc.find("<Pause"), redirect = doc.find("<Redirect");
  ASSERT_NE(say, std::string::npos);
  EXPECT_LT(say, pause);
  EXPECT_LT(pause, redirect);
}

// ---------------------------------------------------------------------------------
// Media Streams messages (protocols.md section 3)

TEST(StreamMessageTest, ParsesConnected) {
  auto m = parse_stream_message(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->event, StreamEvent::connected);
  EXPECT_EQ(m->sequence, -1);
}

TEST(StreamMessageTest, ParsesStart) {
  auto m = parse_stream_message(
      R"({"event":"start","sequenceNumber":"1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",)"
      R"("start":{"accountSid":"AC123","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",)"
      R"("callSid":"CA0123456789abcdef0123456789abcdef","tracks":["inbound"],)"
      R"("customParameters":{"call_sid":"CA0123456789abcdef0123456789abcdef","n":"1"},)"
      R"("mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->event, StreamEvent::start);
  EXPECT_EQ(m->sequence, 1);
  EXPECT_EQ(m->stream_sid, "MZ18ad3ab5a668481ce02b83e7395059f0");
  EXPECT_EQ(m->call_sid, "CA0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m->encoding, "audio/x-mulaw");
  EXPECT_EQ(m->sample_rate, 8000);
  ASSERT_EQ(m->custom.size(), 2u);
  EXPECT_EQ(m->custom.at("call_sid"), "CA0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m->custom.at("n"), "1");
}

TEST(StreamMessageTest, StartWithoutCallSidIsError) {
  EXPECT_FALSE(parse_stream_message(
      R"({"event":"start","sequenceNumber":"1","streamSid":"MZ1",)"
      R"("start":{"accountSid":"AC1","streamSid":"MZ1","tracks":["inbound"]}})"));
}

TEST(StreamMessageTest, StartWithoutStartObjectIsError) {
  EXPECT_FALSE(parse_stream_message(R"({"event":"start","sequenceNumber":"1","streamSid":"MZ1"})"));
}

std::string media_message(std::string_view payload, std::string_view seq = "2") {
  return R"({"event":"media","sequenceNumber":")" + std::string(seq) +
         R"(","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"20",)"
         R"("payload":")" +
         std::string(payload) + R"("}})";
}

TEST(StreamMessageTest, ParsesMedia) {
  auto m = parse_stream_message(media_message("/38A", "7"));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->event, StreamEvent::media);
  EXPECT_EQ(m->sequence, 7);
  EXPECT_EQ(m->stream_sid, "MZ1");
  EXPECT_EQ(m->track, "inbound");
  EXPECT_EQ(m->timestamp_ms, 20);
  EXPECT_EQ(m->payload, (Bytes{0xFF, 0x7F, 0x00}));
}

TEST(StreamMessageTest, MediaPayloadOfOneFrameDecodesToItsBytes) {
  Bytes frame(160);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 7 + 1);
  auto m = parse_stream_message(media_message(base64_encode(frame)));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->payload, frame);
}

TEST(StreamMessageTest, MediaWithInvalidBase64IsError) {
  EXPECT_FALSE(parse_stream_message(media_message("not base64!")));
  EXPECT_FALSE(parse_stream_message(media_message("Zg=")));
}

TEST(StreamMessageTest, MediaPayloadOfOnlyPaddingIsAnErrorNotAnException) {
  bool parsed = true;
  EXPECT_NO_THROW(parsed = parse_stream_message(media_message("====")).ok());
  EXPECT_FALSE(parsed);
}

TEST(StreamMessageTest, MediaWithoutPayloadIsError) {
  EXPECT_FALSE(parse_stream_message(
      R"({"event":"media","sequenceNumber":"2","streamSid":"MZ1","media":{"track":"inbound"}})"));
}

TEST(StreamMessageTest, MediaWithoutMediaObjectIsError) {
  EXPECT_FALSE(parse_stream_message(R"({"event":"media","sequenceNumber":"2","streamSid":"MZ1"})"));
}

TEST(StreamMessageTest, MediaWithNonNumericTimestampIsError) {
  EXPECT_FALSE(
      parse_stream_message(R"({"event":"media","sequenceNumber":"2","streamSid":"MZ1",)"
                           R"("media":{"track":"inbound","timestamp":"-20","payload":"/38A"}})"));
}

TEST(StreamMessageTest, ParsesDtmf) {
  auto m = parse_stream_message(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5",)"
                                R"("dtmf":{"track":"inbound_track","digit":"5"}})");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->event, StreamEvent::dtmf);
  EXPECT_EQ(m->sequence, 5);
  EXPECT_EQ(m->digit, '5');
}

TEST(StreamMessageTest, DtmfAcceptsEveryKeypadKey) {
  for (char key : std::string_view("0123456789*#ABCD")) {
    auto m = parse_stream_message(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5",)"
                                  R"("dtmf":{"track":"inbound_track","digit":")" +
                                  std::string(1, key) + R"("}})");
    ASSERT_TRUE(m) << key << ": " << m.error();
    EXPECT_EQ(m->digit, key);
  }
}

TEST(StreamMessageTest, DtmfDigitThatIsNotAKeypadKeyIsError) {
  for (std::string_view digit : {"X", "55", "", "e"}) {
    EXPECT_FALSE(parse_stream_message(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5",)"
                                      R"("dtmf":{"track":"inbound_track","digit":")" +
                                      std::string(digit) + R"("}})"))
        << digit;
  }
}

TEST(StreamMessageTest, DtmfWithoutDigitIsError) {
  EXPECT_FALSE(parse_stream_message(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5"})"));
  EXPECT_FALSE(parse_stream_message(
      R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"digit":5}})"));
}

TEST(StreamMessageTest, ParsesMark) {
  auto m = parse_stream_message(
      R"({"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"prompt done"}})");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->event, StreamEvent::mark);
  EXPECT_EQ(m->mark, "prompt done");
}

TEST(StreamMessageTest, ParsesStop) {
  auto m = parse_stream_message(
      R"({"event":"stop","sequenceNumber":"9","streamSid":"MZ1",)"
      R"("stop":{"accountSid":"AC1","callSid":"CA0123456789abcdef0123456789abcdef"}})");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->event, StreamEvent::stop);
  EXPECT_EQ(m->sequence, 9);
  EXPECT_EQ(m->call_sid, "CA0123456789abcdef0123456789abcdef");
}

TEST(StreamMessageTest, NonJsonIsError) {
  EXPECT_FALSE(parse_stream_message("hello"));
  EXPECT_FALSE(parse_stream_message(R"({"event":"media")"));
  EXPECT_FALSE(parse_stream_message(""));
}

TEST(StreamMessageTest, JsonArrayIsError) {
  EXPECT_FALSE(parse_stream_message(R"([{"event":"connected"}])"));
}

TEST(StreamMessageTest, JsonScalarIsError) { EXPECT_FALSE(parse_stream_message(R"("connected")")); }

TEST(StreamMessageTest, MissingEventIsError) {
  EXPECT_FALSE(parse_stream_message(R"({"sequenceNumber":"1","streamSid":"MZ1"})"));
  EXPECT_FALSE(parse_stream_message(R"({"event":7,"sequenceNumber":"1","streamSid":"MZ1"})"));
}

TEST(StreamMessageTest, UnknownEventIsError) {
  auto m = parse_stream_message(R"({"event":"closed","sequenceNumber":"1","streamSid":"MZ1"})");
  ASSERT_FALSE(m);
  EXPECT_TRUE(contains(m.error(), "closed")) << m.error();
}

TEST(StreamMessageTest, MissingSequenceNumberIsError) {
  EXPECT_FALSE(parse_stream_message(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"m"}})"));
}

TEST(StreamMessageTest, NonDigitSequenceNumberIsError) {
  for (std::string_view seq : {"", "4a", "-1", " 4", "1.5"}) {
    EXPECT_FALSE(parse_stream_message(media_message("/38A", seq))) << "'" << seq << "'";
  }
}

TEST(StreamMessageTest, NumericSequenceNumberIsError) {
  // Twilio sends sequence numbers as strings.
  EXPECT_FALSE(parse_stream_message(
      R"({"event":"mark","sequenceNumber":4,"streamSid":"MZ1","mark":{"name":"m"}})"));
}

TEST(StreamMessageTest, MissingStreamSidIsError) {
  EXPECT_FALSE(parse_stream_message(
      R"({"event":"media","sequenceNumber":"2","media":{"track":"inbound","payload":"/38A"}})"));
  EXPECT_FALSE(parse_stream_message(
      R"({"event":"mark","sequenceNumber":"2","streamSid":"","mark":{"name":"m"}})"));
}

TEST(StreamMessageTest, MessageOfExactlyTheLimitIsAccepted) {
  std::string text = media_message("/38A");
  text.resize(kMaxStreamMessageBytes, ' ');  // trailing whitespace is valid JSON
  auto m = parse_stream_message(text);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->payload, (Bytes{0xFF, 0x7F, 0x00}));
}

TEST(StreamMessageTest, MessageOverTheLimitIsError) {
  std::string text = media_message("/38A");
  text.resize(kMaxStreamMessageBytes + 1, ' ');
  EXPECT_FALSE(parse_stream_message(text));
  EXPECT_FALSE(parse_stream_message(media_message(std::string(kMaxStreamMessageBytes, 'A'))));
}

// ---------------------------------------------------------------------------------
// Small session helpers

TEST(StageTest, NamesRoundTrip) {
  for (Stage s : {Stage::main, Stage::silent, Stage::hold}) {
    const auto back = stage_from(to_string(s));
    ASSERT_TRUE(back) << to_string(s);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(to_string(Stage::main), "main");
  EXPECT_EQ(to_string(Stage::silent), "silent");
  EXPECT_EQ(to_string(Stage::hold), "hold");
}

TEST(StageTest, MissingStageIsMain) { EXPECT_EQ(stage_from(""), Stage::main); }

TEST(StageTest, UnknownStageIsNullopt) {
  EXPECT_FALSE(stage_from("bogus"));
  EXPECT_FALSE(stage_from("Main"));
  EXPECT_FALSE(stage_from("hold "));
}

TEST(SpokenSecondsTest, EmptyTextIsHalfASecond) {
  EXPECT_DOUBLE_EQ(spoken_seconds(""), 0.5);
  EXPECT_DOUBLE_EQ(spoken_seconds("   \t\n"), 0.5);
}

TEST(SpokenSecondsTest, CountsWordsAtTwoAndAHalfASecond) {
  EXPECT_DOUBLE_EQ(spoken_seconds("one"), 0.5 + 1 / 2.5);
  EXPECT_DOUBLE_EQ(spoken_seconds("press five five now"), 0.5 + 4 / 2.5);
}

TEST(SpokenSecondsTest, RunsOfWhitespaceSeparateOnce) {
  EXPECT_DOUBLE_EQ(spoken_seconds("  a  b\t\tc\n\nd  "), 0.5 + 4 / 2.5);
}

// ---------------------------------------------------------------------------------
// Audio for the session

constexpr int kRate = 8000;
constexpr std::size_t kFrameBytes = 160;  // 20 ms of 8 kHz µ-law

// A sustained vowel: a 120 Hz harmonic series up to 3.4 kHz, weighted 1/h and raised
// around formants at 700, 1200 and 2600 Hz, with a 3 % vibrato at 5 Hz.
std::vector<std::int16_t> vowel(double seconds, double dbfs = -20) {
  const auto n = static_cast<std::size_t>(seconds * kRate);
  constexpr double f0 = 120;
  std::vector<double> x(n);
  double phase = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kRate;
    phase +=
        2 * std::numbers::pi * f0 * (1 + 0.03 * std::sin(2 * std::numbers::pi * 5 * t)) / kRate;
    double v = 0;
    for (int h = 1; h * f0 < 3400; ++h) {
      const double hz = h * f0;
      const double formants = 1 + 3 * std::exp(-std::pow((hz - 700) / 150, 2)) +
                              2 * std::exp(-std::pow((hz - 1200) / 200, 2)) +
                              std::exp(-std::pow((hz - 2600) / 300, 2));
      v += formants / h * std::sin(h * phase);
    }
    x[i] = v;
  }
  double sum = 0;
  for (double v : x) sum += v * v;
  const double gain = 32768.0 * std::pow(10.0, dbfs / 20) / std::sqrt(sum / static_cast<double>(n));
  std::vector<std::int16_t> pcm(n);
  for (std::size_t i = 0; i < n; ++i) {
    pcm[i] = static_cast<std::int16_t>(std::clamp(x[i] * gain, -32768.0, 32767.0));
  }
  return pcm;
}

Bytes speech_mulaw(double seconds) { return audio::encode_mulaw(vowel(seconds)); }
Bytes silence_mulaw(double seconds) {
  return Bytes(static_cast<std::size_t>(seconds * kRate), 0xFF);
}

Bytes tone_mulaw(double hz, double seconds, double dbfs) {
  const auto n = static_cast<std::size_t>(seconds * kRate);
  const double a = 32768.0 * std::sqrt(2.0) * std::pow(10.0, dbfs / 20);
  std::vector<std::int16_t> pcm(n);
  for (std::size_t i = 0; i < n; ++i) {
    pcm[i] = static_cast<std::int16_t>(
        a * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / kRate));
  }
  return audio::encode_mulaw(pcm);
}

TEST(SessionAudioTest, SynthesisedVowelIsSpeech) {
  audio::AnalyzerConfig c;
  c.encoding = audio::Encoding::mulaw;
  audio::AudioAnalyzer a(c);
  (void)a.feed(silence_mulaw(0.5));
  (void)a.feed(speech_mulaw(1.5));
  (void)a.feed(silence_mulaw(0.8));
  const audio::Verdict v = a.verdict();
  EXPECT_TRUE(v.speech);
  EXPECT_FALSE(v.blank);
  EXPECT_FALSE(v.system_generated);
  EXPECT_EQ(a.stats().speech_segments, 1);
}

TEST(SessionAudioTest, MulawSilenceIsNotSpeech) {
  audio::AnalyzerConfig c;
  c.encoding = audio::Encoding::mulaw;
  audio::AudioAnalyzer a(c);
  (void)a.feed(silence_mulaw(3));
  EXPECT_FALSE(a.verdict().speech);
  EXPECT_TRUE(a.verdict().blank);
}

// ---------------------------------------------------------------------------------
// The call session

constexpr char kSid[] = "CA0123456789abcdef0123456789abcdef";
constexpr char kCaller[] = "+919876543210";
constexpr char kEmergencyNumber[] = "+911100000001";
constexpr char kInquiryNumber[] = "+911100000002";
constexpr char kComplaintNumber[] = "+911100000003";
constexpr char kReviewNumber[] = "+911100000009";

screening::Verdict accepted_verdict() {
  screening::Verdict v;
  v.caller.raw = kCaller;
  v.caller.e164 = kCaller;
  v.caller.valid = true;
  v.caller.type = numbering::NumberType::mobile;
  v.caller.region = "IN";
  v.action = screening::Action::accept;
  return v;
}

screening::Verdict rejected_verdict() {
  screening::Verdict v = accepted_verdict();
  v.action = screening::Action::reject;
  v.spam_listed = true;
  v.reasons.push_back({"spam_listed", screening::Flag::spam_listed, "on the spam list: scam"});
  return v;
}

CallSession::Triage triage_result(triage::Category category, double confidence,
                                  double urgency = 0) {
  CallSession::Triage t;
  t.prediction.category = category;
  t.prediction.confidence = confidence;
  const auto index = static_cast<std::size_t>(category);
  for (std::size_t i = 0; i < triage::kCategories; ++i) {
    t.prediction.scores[i] = i == index ? confidence : (1 - confidence) / 3;
  }
  t.urgency = urgency;
  return t;
}

std::vector<std::string> reason_codes(const Json& record) {
  std::vector<std::string> codes;
  for (const auto& r : record.at("reasons")) codes.push_back(r.at("code").get<std::string>());
  return codes;
}

bool has_code(const Json& record, std::string_view code) {
  const auto codes = reason_codes(record);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

std::vector<Action> of_kind(const std::vector<Action>& actions, Action::Kind kind) {
  std::vector<Action> out;
  for (const auto& a : actions) {
    if (a.kind == kind) out.push_back(a);
  }
  return out;
}

class CallSessionTest : public ::testing::Test {
 protected:
  CallSessionTest() {
    // A short prompt: the synthetic speech below never runs over it, so it is never
    // taken for a robocall talking over the IVR.
    config_.prompt_s = 1.0;
    departments_ = triage::Departments::defaults();
    departments_.by_category["emergency"].number = kEmergencyNumber;
    departments_.by_category["inquiry"].number = kInquiryNumber;
    departments_.by_category["complaint"].number = kComplaintNumber;
    departments_.operator_review.number = kReviewNumber;
  }

  CallSession& call() {
    if (!call_) {
      call_ = std::make_unique<CallSession>(kSid, config_, endpoints_, departments_, fusion_, t0_);
    }
    return *call_;
  }
  Clock::time_point now() const { return t0_ + std::chrono::milliseconds(now_ms_); }
  void advance_ms(int ms) { now_ms_ += ms; }

  std::string answer() {
    return call().answer(accepted_verdict(), kCaller, "2025-01-01T00:00:00Z");
  }
  std::string gather(Stage stage, std::string_view digits) {
    return call().on_gather(stage, digits, now());
  }

  // Feeds µ-law in 20 ms frames, the clock advancing with the audio.
  void feed(const Bytes& mulaw) {
    for (std::size_t i = 0; i < mulaw.size(); i += kFrameBytes) {
      const std::size_t n = std::min(kFrameBytes, mulaw.size() - i);
      call().on_media(std::span<const std::uint8_t>(mulaw).subspan(i, n), now());
      advance_ms(20);
    }
  }
  void feed_silence(double seconds) { feed(silence_mulaw(seconds)); }
  // 0.5 s of silence, 1.5 s of speech, then 0.8 s of silence: the analyzer ends the
  // utterance 0.6 s into it, at about 2.6 s.
  void caller_speaks() {
    feed_silence(0.5);
    feed(speech_mulaw(1.5));
    feed_silence(0.8);
  }

  // Every action taken so far, kept for tests about the whole history.
  std::vector<Action> drain() {
    auto a = call().take_actions();
    history_.insert(history_.end(), a.begin(), a.end());
    return a;
  }
  std::vector<Action> updates() { return of_kind(drain(), Action::Kind::update_call); }
  Json record() const {
    const std::string text = call_->record_json();
    Json j = Json::parse(text);
    // Written without nlohmann: it must read back exactly as nlohmann writes it.
    EXPECT_EQ(j.dump(-1, ' ', false, Json::error_handler_t::replace), text);
    return j;
  }

  SessionConfig config_;
  Endpoints endpoints_{"wss://x/twilio/stream", "https://x/twilio/gather"};
  triage::Departments departments_;
  triage::FusionPolicy fusion_;
  Clock::time_point t0_ = Clock::time_point{} + std::chrono::hours(24);
  int now_ms_ = 0;
  std::unique_ptr<CallSession> call_;
  std::vector<Action> history_;
};

// --- answering

TEST_F(CallSessionTest, RejectedCallerIsRefusedBeforeAnswer) {
  const std::string twiml = call().answer(rejected_verdict(), kCaller, "2025-01-01T00:00:00Z");
  EXPECT_TRUE(twiml.starts_with(kXmlHead)) << twiml;
  EXPECT_TRUE(contains(twiml, "<Reject reason=\"rejected\"/>")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Gather")) << twiml;
}

TEST_F(CallSessionTest, RejectedCallerFinishesTheSession) {
  (void)call().answer(rejected_verdict(), kCaller, "2025-01-01T00:00:00Z");
  EXPECT_TRUE(call().finished());
}

TEST_F(CallSessionTest, RejectedCallerIsRecorded) {
  (void)call().answer(rejected_verdict(), kCaller, "2025-01-01T00:00:00Z");
  EXPECT_EQ(of_kind(drain(), Action::Kind::record).size(), 1u);
  EXPECT_EQ(call().revision(), 1);
}

TEST_F(CallSessionTest, RejectedCallerIsSpam) {
  (void)call().answer(rejected_verdict(), kCaller, "2025-01-01T00:00:00Z");
  const auto s = call().summary();
  EXPECT_EQ(s.category, "spam");
  EXPECT_EQ(s.department, "spam_filter");
  EXPECT_EQ(s.status, "rejected");
  EXPECT_TRUE(s.spam_listed);
  EXPECT_EQ(s.from_e164, kCaller);
  const Json r = record();
  EXPECT_EQ(r["category"], "spam");
  EXPECT_EQ(r["action"], "rejected");
  EXPECT_TRUE(r["flags"]["spam_listed"].get<bool>());
  EXPECT_TRUE(has_code(r, "spam_listed"));
  EXPECT_TRUE(has_code(r, "rejected_before_answer"));
}

TEST_F(CallSessionTest, StatusCallbackKeepsTheRejectedStatus) {
  (void)call().answer(rejected_verdict(), kCaller, "2025-01-01T00:00:00Z");
  call().on_status("completed", 0, now());
  EXPECT_EQ(call().summary().status, "rejected");
  EXPECT_EQ(call().summary().category, "spam");
}

TEST_F(CallSessionTest, AcceptedCallerGetsStreamAndGather) {
  const std::string twiml = answer();
  EXPECT_TRUE(twiml.starts_with(kXmlHead)) << twiml;
  EXPECT_TRUE(contains(twiml, "<Start><Stream name=\"spoofex\" url=\"wss://x/twilio/stream\""))
      << twiml;
  EXPECT_TRUE(contains(twiml, std::string("<Parameter name=\"call_sid\" value=\"") + kSid + "\"/>"))
      << twiml;
  EXPECT_TRUE(contains(twiml, "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"5\"")) << twiml;
  EXPECT_TRUE(contains(twiml, "action=\"https://x/twilio/gather?stage=main\"")) << twiml;
  EXPECT_TRUE(contains(twiml, "actionOnEmptyResult=\"true\"")) << twiml;
  EXPECT_TRUE(contains(twiml, xml_escape(config_.prompt))) << twiml;
}

TEST_F(CallSessionTest, StreamStartsBeforeTheGather) {
  const std::string twiml = answer();
  EXPECT_LT(twiml.find("<Start>"), twiml.find("<Gather"));
}

TEST_F(CallSessionTest, AcceptedCallerIsNotFinishedOrDecided) {
  (void)answer();
  EXPECT_FALSE(call().finished());
  EXPECT_EQ(call().summary().status, "in-progress");
  EXPECT_EQ(call().summary().category, "");
  EXPECT_TRUE(record()["category"].is_null());
}

TEST_F(CallSessionTest, GatherUrlWithQueryGetsStageAppended) {
  endpoints_.gather_url = "https://x/twilio/gather?key=k";
  const std::string twiml = answer();
  EXPECT_TRUE(contains(twiml, "action=\"https://x/twilio/gather?key=k&amp;stage=main\"")) << twiml;
}

// --- keys

TEST_F(CallSessionTest, KeyOneDialsTheEmergencyNumber) {
  (void)answer();
  feed_silence(1);
  const std::string twiml = gather(Stage::main, "1");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kEmergencyNumber + "</Number>")) << twiml;
  EXPECT_TRUE(contains(twiml, "<Dial timeout=\"20\"")) << twiml;
}

TEST_F(CallSessionTest, KeyOneIsRecordedAsDigitEmergency) {
  (void)answer();
  feed_silence(1);
  (void)gather(Stage::main, "1");
  const Json r = record();
  EXPECT_EQ(r["category"], "emergency");
  EXPECT_EQ(r["department"], "control_room");
  EXPECT_EQ(r["digits"], "1");
  EXPECT_EQ(r["digit"], "1");
  EXPECT_EQ(r["forward_to"], kEmergencyNumber);
  EXPECT_EQ(r["action"], "dialed");
  EXPECT_TRUE(has_code(r, "digit_emergency"));
  EXPECT_FALSE(r["flags"]["blank"].get<bool>());
}

TEST_F(CallSessionTest, DialCarriesTheConfiguredCallerId) {
  config_.caller_id = "+91112";
  (void)answer();
  const std::string twiml = gather(Stage::main, "1");
  EXPECT_TRUE(contains(twiml, "callerId=\"+91112\"")) << twiml;
}

TEST_F(CallSessionTest, KeyTwoWithoutSpeechDialsInquiryAtOnce) {
  (void)answer();
  feed_silence(1);
  const std::string twiml = gather(Stage::main, "2");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kInquiryNumber + "</Number>")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Redirect")) << twiml;
  EXPECT_EQ(call().summary().category, "inquiry");
  EXPECT_TRUE(has_code(record(), "digit_only"));
}

TEST_F(CallSessionTest, KeyThreeWithoutSpeechDialsComplaintAtOnce) {
  (void)answer();
  feed_silence(1);
  const std::string twiml = gather(Stage::main, "3");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kComplaintNumber + "</Number>")) << twiml;
  EXPECT_EQ(call().summary().category, "complaint");
}

TEST_F(CallSessionTest, KeyThatNamesNoCategoryGoesToOperatorReview) {
  (void)answer();
  feed_silence(1);
  const std::string twiml = gather(Stage::main, "9");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kReviewNumber + "</Number>")) << twiml;
  EXPECT_EQ(call().summary().department, "operator_review");
}

// --- blank calls and the silent solution (safety rule 2)

TEST_F(CallSessionTest, SilenceAtTheMainGatherPlaysTheSilentSolutionPrompt) {
  (void)answer();
  feed_silence(6);
  const std::string twiml = gather(Stage::main, "");
  EXPECT_TRUE(contains(twiml, "action=\"https://x/twilio/gather?stage=silent\"")) << twiml;
  EXPECT_TRUE(contains(twiml, "numDigits=\"2\"")) << twiml;
  EXPECT_TRUE(contains(twiml, "timeout=\"8\"")) << twiml;
  EXPECT_TRUE(contains(twiml, xml_escape(config_.silent_prompt))) << twiml;
}

TEST_F(CallSessionTest, SilenceAtTheMainGatherDoesNotHangUp) {
  (void)answer();
  feed_silence(6);
  const std::string twiml = gather(Stage::main, "");
  EXPECT_FALSE(contains(twiml, "<Hangup/>")) << twiml;
  EXPECT_FALSE(call().finished());
  EXPECT_EQ(call().summary().category, "");
  EXPECT_TRUE(record()["silent_prompted"].get<bool>());
}

TEST_F(CallSessionTest, SilentSolutionKeysDialTheEmergencyNumber) {
  (void)answer();
  feed_silence(6);
  (void)gather(Stage::main, "");
  feed_silence(3);
  const std::string twiml = gather(Stage::silent, "55");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kEmergencyNumber + "</Number>")) << twiml;
  const Json r = record();
  EXPECT_EQ(r["category"], "emergency");
  EXPECT_TRUE(has_code(r, "silent_solution"));
  EXPECT_EQ(r["digits"], "55");
}

TEST_F(CallSessionTest, NoAnswerToTheSilentPromptHangsUp) {
  (void)answer();
  feed_silence(6);
  (void)gather(Stage::main, "");
  feed_silence(8);
  const std::string twiml = gather(Stage::silent, "");
  EXPECT_TRUE(contains(twiml, "<Hangup/>")) << twiml;
  EXPECT_TRUE(contains(twiml, xml_escape(config_.blank_goodbye))) << twiml;
  EXPECT_FALSE(contains(twiml, "<Dial")) << twiml;
}

TEST_F(CallSessionTest, NoAnswerToTheSilentPromptIsABlankCallForCallBack) {
  (void)answer();
  feed_silence(6);
  (void)gather(Stage::main, "");
  feed_silence(8);
  (void)gather(Stage::silent, "");
  const auto s = call().summary();
  EXPECT_EQ(s.category, "blank");
  EXPECT_EQ(s.department, "callback_queue");
  EXPECT_TRUE(s.blank);
  const Json r = record();
  EXPECT_EQ(r["category"], "blank");
  EXPECT_EQ(r["department"], "callback_queue");
  EXPECT_EQ(r["action"], "hung_up");
  EXPECT_TRUE(r["flags"]["blank"].get<bool>());
  EXPECT_TRUE(has_code(r, "blank_call"));
  EXPECT_TRUE(has_code(r, "no_speech"));
  EXPECT_TRUE(r["digit"].is_null());
}

TEST_F(CallSessionTest, FirstSilentSolutionKeyAtMainWaitsForTheSecond) {
  (void)answer();
  feed_silence(2);
  const std::string twiml = gather(Stage::main, "5");
  EXPECT_TRUE(contains(twiml, "action=\"https://x/twilio/gather?stage=silent\"")) << twiml;
  EXPECT_TRUE(contains(twiml, "numDigits=\"1\"")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Dial")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Hangup/>")) << twiml;
}

TEST_F(CallSessionTest, FiveThenFiveIsAnEmergency) {
  (void)answer();
  feed_silence(2);
  (void)gather(Stage::main, "5");
  feed_silence(1);
  const std::string twiml = gather(Stage::silent, "5");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kEmergencyNumber + "</Number>")) << twiml;
  const Json r = record();
  EXPECT_EQ(r["category"], "emergency");
  EXPECT_TRUE(has_code(r, "silent_solution"));
  EXPECT_EQ(r["digits"], "55");
}

TEST_F(CallSessionTest, FiveThenNothingStillReachesAHuman) {
  (void)answer();
  feed_silence(2);
  (void)gather(Stage::main, "5");
  feed_silence(8);
  const std::string twiml = gather(Stage::silent, "");
  EXPECT_TRUE(contains(twiml, "<Dial")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Hangup/>")) << twiml;
}

// --- speech

TEST_F(CallSessionTest, SpeechInTheStreamEmitsSpeechStartAndEnd) {
  (void)answer();
  caller_speaks();
  std::vector<std::string> names;
  for (const auto& a : of_kind(drain(), Action::Kind::event)) names.push_back(a.name);
  const auto start = std::find(names.begin(), names.end(), "speech_start");
  const auto end = std::find(names.begin(), names.end(), "speech_end");
  ASSERT_NE(start, names.end());
  ASSERT_NE(end, names.end());
  EXPECT_LT(start, end);
}

TEST_F(CallSessionTest, SilenceAloneGivesNoVoicedAudio) {
  (void)answer();
  feed_silence(3);
  EXPECT_FALSE(call().take_voiced());
}

TEST_F(CallSessionTest, VoicedAudioIncludesPreRollAndEndsTheUtterance) {
  (void)answer();
  caller_speaks();
  auto v = call().take_voiced();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->utterance_end);
  // The 1.5 s of speech plus about 300 ms before it, never the whole 2.8 s fed.
  EXPECT_GE(v->pcm.size(), static_cast<std::size_t>(1.5 * kRate));
  EXPECT_LT(v->pcm.size(), static_cast<std::size_t>(2.8 * kRate));
  EXPECT_FALSE(call().take_voiced());
}

TEST_F(CallSessionTest, AHesitantStartIsNotClippedFromTheVoicedAudio) {
  (void)answer();
  feed_silence(2);
  // Short bursts: the analyzer needs about half a second of them before it declares
  // speech, more than a fixed pre-roll from the declaration used to keep.
  for (int i = 0; i < 6; ++i) {
    feed(speech_mulaw(0.04));
    feed_silence(0.1);
  }
  feed(speech_mulaw(1.0));
  feed_silence(0.8);
  double start_s = -1;
  for (const auto& a : of_kind(drain(), Action::Kind::event)) {
    if (a.name == "speech_start" && start_s < 0) {
      start_s = nlohmann::json::parse(a.detail).at("at_s").get<double>();
    }
  }
  ASSERT_GE(start_s, 1.9);
  auto v = call().take_voiced();
  ASSERT_TRUE(v);
  // The recogniser hears the first burst and about 0.3 s of the quiet before it.
  const auto first_sound =
      std::find_if(v->pcm.begin(), v->pcm.end(), [](std::int16_t x) { return std::abs(x) > 64; });
  ASSERT_NE(first_sound, v->pcm.end());
  const double lead_s = static_cast<double>(first_sound - v->pcm.begin()) / kRate;
  EXPECT_GE(lead_s, 0.25);
  EXPECT_LE(lead_s, 0.35);
}

TEST_F(CallSessionTest, StreamStopWhileSpeakingEndsTheUtterance) {
  (void)answer();
  feed_silence(0.5);
  feed(speech_mulaw(1.0));
  call().on_stream_stop(now());
  auto v = call().take_voiced();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->utterance_end);
}

TEST_F(CallSessionTest, PutThroughMidSentenceTheWordsSoFarAreKeptAndTheConversationIsNot) {
  (void)answer();
  feed_silence(0.5);
  feed(speech_mulaw(1.0));
  auto before = call().take_voiced();
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->utterance_end);
  // Key 1 while still talking: put through at once, and the fork is stopped first.
  const std::string twiml = gather(Stage::main, "1");
  ASSERT_TRUE(contains(twiml, "<Dial")) << twiml;
  EXPECT_LT(twiml.find("<Stop><Stream name=\"spoofex\"/></Stop>"), twiml.find("<Dial")) << twiml;
  // The caller goes on talking, now to the officer; the fork keeps streaming it.
  feed(speech_mulaw(2.0));
  feed_silence(1.0);
  feed(speech_mulaw(2.0));
  auto after = call().take_voiced();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->utterance_end) << "the utterance in progress ends at the put-through";
  EXPECT_TRUE(after->pcm.empty()) << "nothing said to the officer reaches the recogniser";
  EXPECT_FALSE(call().take_voiced());
}

TEST_F(CallSessionTest, SpeechThenNoKeyPutsTheCallerOnHold) {
  (void)answer();
  caller_speaks();
  const std::string twiml = gather(Stage::main, "");
  EXPECT_TRUE(contains(twiml, xml_escape(config_.hold_prompt))) << twiml;
  EXPECT_TRUE(contains(twiml, "<Pause length=\"20\"/>")) << twiml;
  EXPECT_TRUE(
      contains(twiml, "<Redirect method=\"POST\">https://x/twilio/gather?stage=hold</Redirect>"))
      << twiml;
  EXPECT_FALSE(contains(twiml, "<Dial")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Hangup/>")) << twiml;
  EXPECT_EQ(call().summary().category, "");
}

TEST_F(CallSessionTest, HeldCallIsRoutedByCallUpdateOnceListeningEnds) {
  (void)answer();
  caller_speaks();  // the utterance ends at about 2.6 s
  (void)gather(Stage::main, "");
  advance_ms(100);
  call().on_transcript("what are the visiting hours at the police station", true, now());
  EXPECT_TRUE(call().wants_triage());
  advance_ms(100);
  call().on_triage(triage_result(triage::Category::inquiry, 0.9), now());
  EXPECT_TRUE(updates().empty()) << "decided before end_of_speech_s";
  now_ms_ = 2600 + 1600;  // past end_of_speech_s (1.5 s) after the utterance ended
  call().tick(now());
  const auto u = updates();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(contains(u[0].twiml, std::string("<Number>") + kInquiryNumber + "</Number>"))
      << u[0].twiml;
  EXPECT_EQ(call().summary().category, "inquiry");
  EXPECT_TRUE(has_code(record(), "predicted"));
}

TEST_F(CallSessionTest, TickBeforeListeningEndsDoesNotDecide) {
  (void)answer();
  caller_speaks();
  (void)gather(Stage::main, "");
  call().on_transcript("where is my passport", true, now());
  call().on_triage(triage_result(triage::Category::inquiry, 0.9), now());
  call().tick(now());
  EXPECT_TRUE(updates().empty());
  EXPECT_EQ(call().summary().category, "");
}

TEST_F(CallSessionTest, HeldCallIsRoutedWhenTheRecognizerNeverAnswers) {
  (void)answer();
  caller_speaks();
  (void)gather(Stage::main, "");
  now_ms_ = 2600 + static_cast<int>(config_.asr_wait_s * 1000) + 200;
  call().tick(now());
  const auto u = updates();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(contains(u[0].twiml, std::string("<Number>") + kReviewNumber + "</Number>"))
      << u[0].twiml;
  EXPECT_EQ(call().summary().department, "operator_review");
  EXPECT_TRUE(has_code(record(), "routed_before_words"));
}

TEST_F(CallSessionTest, AKeyRoutesABusyRecognisersCallAndSaysTheWordsWereNotWeighed) {
  (void)answer();
  caller_speaks();
  (void)gather(Stage::main, "3");
  now_ms_ = 2600 + static_cast<int>(config_.asr_wait_s * 1000) + 200;
  call().tick(now());
  ASSERT_EQ(updates().size(), 1u);
  EXPECT_EQ(call().summary().category, "complaint");
  EXPECT_TRUE(has_code(record(), "digit_only"));
  EXPECT_TRUE(has_code(record(), "routed_before_words"));
  // The late words are stored with the record; the reason stays, as it is still true.
  call().on_transcript("someone stole my scooter last night", true, now());
  EXPECT_TRUE(has_code(record(), "routed_before_words"));
}

TEST_F(CallSessionTest, ACallDecidedOnItsWordsDoesNotSayTheyWereMissing) {
  (void)answer();
  caller_speaks();
  (void)gather(Stage::main, "3");
  advance_ms(100);
  call().on_transcript("someone stole my scooter last night", true, now());
  call().on_triage(triage_result(triage::Category::complaint, 0.9), now());
  now_ms_ = 2600 + 1600;
  call().tick(now());
  ASSERT_EQ(updates().size(), 1u);
  EXPECT_TRUE(has_code(record(), "digit_agrees"));
  EXPECT_FALSE(has_code(record(), "routed_before_words"));
}

TEST_F(CallSessionTest, RecognizerFailureIsRecorded) {
  (void)answer();
  caller_speaks();
  call().on_recognizer_failed("no speech engine is configured", now());
  const Json r = record();
  EXPECT_TRUE(has_code(r, "recognizer_failed"));
}

TEST_F(CallSessionTest, SpeechTranscribedAndTriagedBeforeTheGatherIsRoutedAtTheGather) {
  (void)answer();
  caller_speaks();
  call().on_transcript("I want to complain about noise from my neighbour", true, now());
  call().on_triage(triage_result(triage::Category::complaint, 0.9), now());
  advance_ms(2000);
  const std::string twiml = gather(Stage::main, "");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kComplaintNumber + "</Number>")) << twiml;
  EXPECT_EQ(call().summary().category, "complaint");
}

TEST_F(CallSessionTest, KeyAndWordsThatAgreeAreRoutedTogether) {
  (void)answer();
  caller_speaks();
  call().on_transcript("what is the status of my application", true, now());
  call().on_triage(triage_result(triage::Category::inquiry, 0.8), now());
  advance_ms(2000);
  const std::string twiml = gather(Stage::main, "2");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kInquiryNumber + "</Number>")) << twiml;
  EXPECT_TRUE(has_code(record(), "digit_agrees"));
}

TEST_F(CallSessionTest, ConfidentEmergencyInTheWordsIsRoutedBeforeAnyGather) {
  (void)answer();
  caller_speaks();
  call().on_transcript("there is a fire in my house please help", true, now());
  call().on_triage(triage_result(triage::Category::emergency, 0.9), now());
  const auto u = updates();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(contains(u[0].twiml, std::string("<Number>") + kEmergencyNumber + "</Number>"))
      << u[0].twiml;
  const Json r = record();
  EXPECT_EQ(r["category"], "emergency");
  EXPECT_TRUE(has_code(r, "predicted_emergency"));
  EXPECT_EQ(r["prediction"]["category"], "emergency");
}

TEST_F(CallSessionTest, HighUrgencyIsRoutedAsAnEmergencyBeforeAnyGather) {
  (void)answer();
  caller_speaks();
  call().on_transcript("he has a knife and is hitting me", true, now());
  call().on_triage(triage_result(triage::Category::complaint, 0.7, 0.9), now());
  const auto u = updates();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(contains(u[0].twiml, kEmergencyNumber)) << u[0].twiml;
  EXPECT_TRUE(has_code(record(), "high_urgency"));
}

TEST_F(CallSessionTest, UnsureTriageBeforeAnyGatherDoesNotRoute) {
  (void)answer();
  caller_speaks();
  call().on_transcript("hello", true, now());
  call().on_triage(triage_result(triage::Category::emergency, 0.3), now());
  EXPECT_TRUE(updates().empty());
  EXPECT_EQ(call().summary().category, "");
}

TEST_F(CallSessionTest, GatherAfterAnEarlyDecisionRepeatsTheRouting) {
  (void)answer();
  caller_speaks();
  call().on_transcript("there is a fire", true, now());
  call().on_triage(triage_result(triage::Category::emergency, 0.9), now());
  const std::string twiml = gather(Stage::main, "3");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kEmergencyNumber + "</Number>")) << twiml;
  EXPECT_EQ(call().summary().category, "emergency");
}

TEST_F(CallSessionTest, LateTriageDoesNotChangeTheRouting) {
  (void)answer();
  feed_silence(1);
  (void)gather(Stage::main, "1");
  call().on_transcript("sorry wrong number", true, now());
  call().on_triage(triage_result(triage::Category::inquiry, 0.9), now());
  EXPECT_TRUE(updates().empty());
  EXPECT_EQ(call().summary().category, "emergency");
  EXPECT_EQ(record()["transcript"], "sorry wrong number");
}

TEST_F(CallSessionTest, HoldGatherDecidesAtOnce) {
  (void)answer();
  caller_speaks();
  (void)gather(Stage::main, "");  // on hold; the utterance is not transcribed yet
  advance_ms(100);
  const std::string twiml = gather(Stage::hold, "");
  EXPECT_TRUE(contains(twiml, "<Dial")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Redirect")) << twiml;
  EXPECT_FALSE(call().summary().department.empty());
  EXPECT_FALSE(record()["action"].is_null());
}

TEST_F(CallSessionTest, HoldGatherUsesTheTriageThatArrived) {
  (void)answer();
  caller_speaks();
  (void)gather(Stage::main, "");
  call().on_transcript("I want to know about passport verification", true, now());
  call().on_triage(triage_result(triage::Category::inquiry, 0.9), now());
  const std::string twiml = gather(Stage::hold, "");
  EXPECT_TRUE(contains(twiml, std::string("<Number>") + kInquiryNumber + "</Number>")) << twiml;
}

TEST_F(CallSessionTest, NoForwardingNumberHoldsForAnOperator) {
  departments_.by_category["inquiry"].number.clear();
  (void)answer();
  const std::string twiml = gather(Stage::main, "2");
  EXPECT_FALSE(contains(twiml, "<Dial")) << twiml;
  EXPECT_FALSE(contains(twiml, "<Hangup/>")) << twiml;
  EXPECT_TRUE(
      contains(twiml, "<Redirect method=\"POST\">https://x/twilio/gather?stage=hold</Redirect>"))
      << twiml;
  EXPECT_EQ(record()["action"], "held");
}

TEST_F(CallSessionTest, NoForwardingNumberHoldRedirectKeepsTheGatherQuery) {
  endpoints_.gather_url = "https://x/twilio/gather?key=k";
  departments_.by_category["inquiry"].number.clear();
  (void)answer();
  const std::string twiml = gather(Stage::main, "2");
  EXPECT_TRUE(contains(
      twiml, "<Redirect method=\"POST\">https://x/twilio/gather?key=k&amp;stage=hold</Redirect>"))
      << twiml;
}

// --- machines

TEST_F(CallSessionTest, FaxAnswerToneIsHungUpAtOnce) {
  (void)answer();
  feed(tone_mulaw(2100, 3.5, -12));
  call().tick(now());
  const auto u = updates();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(contains(u[0].twiml, "<Hangup/>")) << u[0].twiml;
  const Json r = record();
  EXPECT_EQ(r["category"], "spam");
  EXPECT_TRUE(r["flags"]["system_generated"].get<bool>());
  EXPECT_TRUE(has_code(r, "machine_hangup"));
  EXPECT_TRUE(has_code(r, "fax_modem_tone"));
}

// --- the end of the call

TEST_F(CallSessionTest, HangupWithoutAnyGatherFinishesAsBlank) {
  (void)answer();
  feed_silence(3);
  call().on_status("completed", 3, now());
  EXPECT_TRUE(call().finished());
  const auto s = call().summary();
  EXPECT_EQ(s.status, "completed");
  EXPECT_EQ(s.category, "blank");
  EXPECT_EQ(s.department, "callback_queue");
  EXPECT_EQ(record()["duration_s"], 3.0);
}

TEST_F(CallSessionTest, HangupAfterSpeechIsLeftForAnOperator) {
  (void)answer();
  caller_speaks();
  call().on_status("completed", 3, now());
  EXPECT_TRUE(call().finished());
  EXPECT_EQ(call().summary().department, "operator_review");
}

TEST_F(CallSessionTest, EveryTerminalStatusFinishesTheCall) {
  for (std::string_view status : {"completed", "busy", "failed", "no-answer", "canceled"}) {
    call_.reset();
    (void)answer();
    call().on_status(status, 0, now());
    EXPECT_TRUE(call().finished()) << status;
    EXPECT_EQ(call().summary().status, status);
    EXPECT_FALSE(call().summary().category.empty()) << status;
  }
}

TEST_F(CallSessionTest, InProgressStatusDoesNotFinish) {
  (void)answer();
  call().on_status("in-progress", 0, now());
  EXPECT_FALSE(call().finished());
}

TEST_F(CallSessionTest, MediaAfterTheStreamStopsIsIgnored) {
  (void)answer();
  feed_silence(1);
  call().on_stream_stop(now());
  const double before = record()["audio"]["duration_s"].get<double>();
  feed(speech_mulaw(1));
  EXPECT_DOUBLE_EQ(record()["audio"]["duration_s"].get<double>(), before);
}

// --- the record

TEST_F(CallSessionTest, RevisionCountsRecordActions) {
  (void)answer();
  EXPECT_EQ(call().revision(), 1);
  feed_silence(6);
  (void)gather(Stage::main, "");
  feed_silence(3);
  (void)gather(Stage::silent, "55");
  call().on_status("completed", 10, now());
  (void)drain();
  const auto records = of_kind(history_, Action::Kind::record);
  EXPECT_GE(records.size(), 4u);
  EXPECT_EQ(call().revision(), static_cast<std::int64_t>(records.size()));
}

TEST_F(CallSessionTest, RevisionIncreasesWithEachRecordAction) {
  EXPECT_EQ(call().revision(), 0);
  std::int64_t last = 0;
  (void)answer();
  auto step = [&](std::string_view what) {
    const auto records = of_kind(drain(), Action::Kind::record).size();
    EXPECT_EQ(call().revision(), last + static_cast<std::int64_t>(records)) << what;
    EXPECT_GT(call().revision(), last) << what;
    last = call().revision();
  };
  step("answer");
  caller_speaks();
  (void)gather(Stage::main, "");
  step("gather");
  call().on_transcript("my bag was stolen", true, now());
  step("transcript");
  call().on_triage(triage_result(triage::Category::complaint, 0.9), now());
  step("triage");
  call().on_status("completed", 12, now());
  step("status");
}

TEST_F(CallSessionTest, RecordJsonHasTheDesignKeys) {
  (void)answer();
  feed_silence(1);
  (void)gather(Stage::main, "1");
  const Json r = record();
  for (const char* key : {"call_sid", "status", "caller", "flags", "digits", "transcript",
                          "prediction", "digit", "category", "department", "reasons"}) {
    EXPECT_TRUE(r.contains(key)) << key;
  }
  EXPECT_EQ(r["call_sid"], kSid);
  EXPECT_EQ(r["status"], "in-progress");
  EXPECT_EQ(r["caller"]["e164"], kCaller);
  for (const char* flag : {"spam_listed", "spoofed", "system_generated", "blank"}) {
    EXPECT_TRUE(r["flags"].contains(flag)) << flag;
  }
  EXPECT_TRUE(r["reasons"].is_array());
  EXPECT_TRUE(r["prediction"].is_null());
}

TEST_F(CallSessionTest, RecordJsonReasonsCarryCodeFlagAndDetail) {
  (void)call().answer(rejected_verdict(), kCaller, "2025-01-01T00:00:00Z");
  const Json r = record();
  ASSERT_FALSE(r["reasons"].empty());
  for (const auto& reason : r["reasons"]) {
    EXPECT_TRUE(reason["code"].is_string()) << reason.dump();
    EXPECT_TRUE(reason["flag"].is_string()) << reason.dump();
    EXPECT_TRUE(reason["detail"].is_string()) << reason.dump();
  }
}

TEST_F(CallSessionTest, RecordJsonIsValidBeforeAnswer) {
  const Json r = Json::parse(call().record_json());
  EXPECT_EQ(r["call_sid"], kSid);
}

TEST_F(CallSessionTest, TranscriptWithMarkupQuotesAndBadUtf8StaysValidJson) {
  (void)answer();
  caller_speaks();
  const std::string nasty = "<Hangup/> \"quoted\" \\ back\tslash \xff\xfe\xc3 end";
  ASSERT_NO_THROW(call().on_transcript(nasty, false, now()));
  ASSERT_NO_THROW(call().on_transcript(nasty, true, now()));
  std::string text;
  ASSERT_NO_THROW(text = call().record_json());
  Json r;
  ASSERT_NO_THROW(r = Json::parse(text)) << text;
  const std::string transcript = r["transcript"].get<std::string>();
  EXPECT_TRUE(contains(transcript, "<Hangup/> \"quoted\" \\ back\tslash ")) << transcript;
  EXPECT_TRUE(contains(transcript, " end")) << transcript;
  for (const auto& a : drain()) {
    if (a.kind == Action::Kind::event) {
      EXPECT_TRUE(Json::accept(a.detail)) << a.name;
    }
  }
}

TEST_F(CallSessionTest, RecognizerErrorWithBadUtf8DoesNotThrow) {
  (void)answer();
  caller_speaks();
  EXPECT_NO_THROW(call().on_recognizer_failed("model file /tmp/\xff\xfe missing", now()));
  EXPECT_TRUE(Json::accept(call().record_json()));
}

TEST_F(CallSessionTest, GatherDigitsWithBadUtf8DoNotThrow) {
  (void)answer();
  std::string twiml;
  EXPECT_NO_THROW(twiml = gather(Stage::main, "\xff"));
  EXPECT_TRUE(Json::accept(call().record_json()));
}

TEST_F(CallSessionTest, StatusWithBadUtf8DoesNotThrow) {
  (void)answer();
  EXPECT_NO_THROW(call().on_status("complet\xff", 0, now()));
  EXPECT_TRUE(Json::accept(call().record_json()));
}

TEST_F(CallSessionTest, EventsAreNumberedFromOne) {
  (void)answer();
  call().on_stream_start("MZ1", now());
  caller_speaks();
  (void)gather(Stage::main, "");
  call().on_transcript("my phone was stolen", true, now());
  call().on_triage(triage_result(triage::Category::complaint, 0.9), now());
  call().on_status("completed", 8, now());
  (void)drain();
  const auto events = of_kind(history_, Action::Kind::event);
  ASSERT_GE(events.size(), 6u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, static_cast<int>(i + 1)) << events[i].name;
  }
}

TEST_F(CallSessionTest, EventDetailsAreJson) {
  (void)answer();
  call().on_stream_start("MZ1", now());
  call().on_stream_dtmf('5', now());
  caller_speaks();
  (void)gather(Stage::main, "1");
  call().on_status("completed", 5, now());
  for (const auto& a : of_kind(drain(), Action::Kind::event)) {
    EXPECT_FALSE(a.name.empty());
    EXPECT_TRUE(Json::accept(a.detail)) << a.name << ": " << a.detail;
  }
}

TEST_F(CallSessionTest, FirstEventIsTheScreening) {
  (void)answer();
  const auto events = of_kind(drain(), Action::Kind::event);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].name, "screened");
  EXPECT_EQ(events[0].seq, 1);
  EXPECT_EQ(Json::parse(events[0].detail)["action"], "accept");
}

TEST_F(CallSessionTest, StreamStartIsAnEvent) {
  (void)answer();
  (void)drain();
  call().on_stream_start("MZ42", now());
  const auto events = of_kind(drain(), Action::Kind::event);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "stream_start");
  EXPECT_EQ(Json::parse(events[0].detail)["stream_sid"], "MZ42");
}

TEST_F(CallSessionTest, StreamDtmfKeysAreRecordedWhenTheGatherHeardNone) {
  (void)answer();
  call().on_stream_dtmf('5', now());
  const Json r = record();
  EXPECT_EQ(r["digits"], "5");
  EXPECT_EQ(r["keys_heard_in_audio"], "5");
}

TEST_F(CallSessionTest, FailedCallUpdateIsAReason) {
  (void)answer();
  (void)drain();
  call().on_call_update(false, "HTTP 404: call not found", now());
  EXPECT_EQ(of_kind(drain(), Action::Kind::record).size(), 1u);
  const Json r = record();
  EXPECT_TRUE(has_code(r, "call_update_failed"));
}

TEST_F(CallSessionTest, SuccessfulCallUpdateIsNoReason) {
  (void)answer();
  call().on_call_update(true, "HTTP 200", now());
  EXPECT_FALSE(has_code(record(), "call_update_failed"));
}

TEST_F(CallSessionTest, NoSpeechReasonOnlyForBlankCalls) {
  (void)answer();
  feed_silence(2);
  (void)gather(Stage::main, "2");
  EXPECT_FALSE(has_code(record(), "no_speech"));
}

// ---------------------------------------------------------------------------------
// JSON written by hand (json_text.h) reads as nlohmann writes it

std::string quoted(std::string_view s) {
  std::string out;
  json_text::quote(out, s);
  return out;
}

std::string nlohmann_quoted(std::string_view s) {
  return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

TEST(JsonTextTest, PlainAndEscapedCharactersMatchNlohmann) {
  for (std::string_view s : std::initializer_list<std::string_view>{
           "", "plain", "quote \" back\\slash", "tab\tnew\nline\r", "\b\f",
           std::string_view("nul\0x", 5), "\x01\x1f\x7f", "/ slash", "हिन्दी ₹ 😀"}) {
    EXPECT_EQ(quoted(s), nlohmann_quoted(s)) << s;
  }
}

TEST(JsonTextTest, InvalidUtf8IsReplacedAsNlohmannDoes) {
  for (std::string_view s : std::initializer_list<std::string_view>{
           "\x80",
           "a\xff"
           "b",
           "\xc0\x80", "\xc3", "x\xe2\x82", "\xe2\x82x", "\xed\xa0\x80", "\xf5\x80\x80\x80",
           "\xf0\x9f\x98", "\xf0\x9f\x98x", "\xf4\x90\x80\x80", "\xe0\x80\x80", "ok\xc3\xa9\xc3"}) {
    EXPECT_EQ(quoted(s), nlohmann_quoted(s)) << "input of " << s.size() << " bytes";
  }
}

TEST(JsonTextTest, NumbersMatchNlohmann) {
  for (double v : {0.0,
                   -0.0,
                   1.0,
                   -1.0,
                   1.5,
                   0.001,
                   0.0001,
                   0.00001,
                   1e-7,
                   123.456,
                   1e15,
                   1e16,
                   123456789012345.0,
                   1234567890123456.0,
                   1e21,
                   3.14159,
                   0.1 + 0.2,
                   1.0 / 3,
                   -2.5e-8,
                   2.5e300,
                   20.0,
                   0.123}) {
    std::string out;
    json_text::number(out, v);
    EXPECT_EQ(out, Json(v).dump()) << v;
  }
  std::string out;
  json_text::number(out, std::nan(""));
  EXPECT_EQ(out, "null");
  out.clear();
  json_text::number(out, std::int64_t{-42});
  EXPECT_EQ(out, "-42");
}

// The screened event is written without nlohmann: it must match screening::to_json.
TEST(JsonTextTest, ScreenedEventMatchesScreeningsOwnJson) {
  const SessionConfig config;
  const Endpoints endpoints{"wss://x/twilio/stream", "https://x/twilio/gather"};
  const auto departments = triage::Departments::defaults();
  const triage::FusionPolicy fusion;
  screening::Verdict odd;
  odd.caller.raw = "0091 \"98\"\x01\xff";
  odd.caller.note = "overlay: \u00e9";
  odd.caller.parse_error = "bad";
  odd.withheld = true;
  odd.reasons.push_back({"withheld", screening::Flag::info, "no number"});
  odd.reasons.push_back({"spoofed", screening::Flag::spoofed, "\"quoted\""});
  for (const auto& v : {accepted_verdict(), rejected_verdict(), odd}) {
    CallSession call("CA1", config, endpoints, departments, fusion, Clock::now());
    (void)call.answer(v, v.caller.raw, "2025-01-01T00:00:00Z");
    const auto actions = call.take_actions();
    ASSERT_FALSE(actions.empty());
    EXPECT_EQ(actions.front().name, "screened");
    EXPECT_EQ(actions.front().detail,
              screening::to_json(v).dump(-1, ' ', false, Json::error_handler_t::replace));
    const Json record = Json::parse(call.record_json());
    EXPECT_EQ(record["caller"].dump(), screening::caller_json(v.caller).dump(
                                           -1, ' ', false, Json::error_handler_t::replace));
  }
}

TEST(JsonTextTest, ObjectWritesMembersInOrder) {
  std::string out;
  {
    json_text::Object o(out);
    o.str("a", "x").num("b", 2.0).integer("c", 3).boolean("d", true).null("e").str_or_null("f", "");
    json_text::Object(o.name("g")).str("h", "i");
    o.raw("j", "[1]");
  }
  EXPECT_EQ(out, R"({"a":"x","b":2.0,"c":3,"d":true,"e":null,"f":null,"g":{"h":"i"},"j":[1]})");
}

}  // namespace
}  // namespace spoofex::telephony
