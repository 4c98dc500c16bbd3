// The fusion of the caller's words, urgency and keys into a final category.
// Rules run in order; the first that applies decides, and says why. Safety rule 1
// of design.md comes first: any sign of an emergency makes the call an emergency.
#include <cstdio>

#include "triage/triage.h"

namespace spoofex::triage {
namespace {

std::string pct(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * p);
  return buf;
}

std::string_view digit_category(char d) {
  switch (d) {
    case '1':
      return "emergency";
    case '2':
      return "inquiry";
    case '3':
      return "complaint";
    default:
      return "";
  }
}

Decision make(std::string category, const Departments& deps, std::string code, std::string detail) {
  Decision d;
  d.department = deps.for_category(category);
  d.category = std::move(category);
  d.reasons.push_back({std::move(code), std::move(detail)});
  return d;
}

Decision review(std::string category, const Departments& deps, std::string code,
                std::string detail) {
  Decision d = make(std::move(category), deps, std::move(code), std::move(detail));
  d.department = deps.operator_review;
  return d;
}

}  // namespace

Decision decide(const Signals& s, const Departments& deps, const FusionPolicy& policy) {
  const Prediction* p = s.prediction;
  const char digit = s.digits.empty() ? '\0' : s.digits.front();
  const std::string_view said = digit_category(digit);
  const std::string predicted = p ? std::string(to_string(p->category)) : "";

  // 1. Emergencies, from any one signal.
  if (s.silent_solution || (!policy.silent_solution.empty() &&
                            s.digits.find(policy.silent_solution) != std::string::npos)) {
    return make("emergency", deps, "silent_solution",
                "caller keyed " + policy.silent_solution + ": cannot speak, needs help");
  }
  if (digit == '1')
    return make("emergency", deps, "digit_emergency", "caller pressed 1 (emergency)");
  if (p && p->category == Category::emergency && p->confidence >= policy.emergency_min_confidence) {
    return make("emergency", deps, "predicted_emergency",
                "the caller's words read as an emergency (" + pct(p->confidence) + ")");
  }
  if (s.urgency >= policy.high_urgency) {
    return make("emergency", deps, "high_urgency",
                "urgent words (" +
                    (s.danger_words.empty() ? std::string("distress") : s.danger_words) +
                    "), urgency " + pct(s.urgency));
  }
  if (p && p->scores[0] >= policy.possible_emergency && !said.empty() && said != "emergency") {
    // The words lean towards an emergency that the key denies: a human decides.
    return review("emergency", deps, "possible_emergency",
                  "words suggest an emergency (" + pct(p->scores[0]) +
                      ") though the caller pressed " + std::string(1, digit));
  }

  // 2. Nothing heard.
  if (!p && digit == '\0') {
    if (s.blank) {
      return make("blank", deps, "blank_call", "no speech and no keypress: call back if possible");
    }
    // Speech nobody has understood yet: no category is honest, and a human decides.
    return review("", deps, "no_transcript", "speech was heard but not transcribed: listen to it");
  }

  // 3. Spam never wins over a caller who pressed a key and spoke words of danger.
  if (p && p->category == Category::spam) {
    if (digit != '\0' && s.urgency >= policy.danger_urgency) {
      return review(said.empty() ? "complaint" : std::string(said), deps, "spam_with_danger_words",
                    "reads as spam, but the caller pressed " + std::string(1, digit) +
                        " and used words of danger (" + s.danger_words + ")");
    }
    if (!said.empty()) {
      return review(std::string(said), deps, "spam_but_digit",
                    "reads as spam (" + pct(p->confidence) + ") but the caller pressed " +
                        std::string(1, digit));
    }
    if (p->confidence >= policy.spam_min_confidence && s.machine_evidence) {
      return make("spam", deps, "predicted_spam",
                  "reads as spam (" + pct(p->confidence) +
                      ") and the line shows a machine or a listed spammer");
    }
    if (p->confidence >= policy.spam_min_confidence) {
      // A recogniser's garbled transcript can read as spam too: a human confirms.
      return review("spam", deps, "spam_unconfirmed",
                    "reads as spam (" + pct(p->confidence) + "); nothing on the line confirms it");
    }
    return review("spam", deps, "uncertain_spam", "may be spam (" + pct(p->confidence) + ")");
  }

  // 4. Inquiry or complaint, from the key and the words.
  if (!said.empty() && p) {
    if (said == predicted) {
      return make(predicted, deps, "digit_agrees",
                  "caller pressed " + std::string(1, digit) + " and the words agree (" +
                      pct(p->confidence) + ")");
    }
    // A complaint is the more serious of the two: keep it, and let a human check.
    const std::string category =
        said == "complaint" || predicted == "complaint" ? "complaint" : std::string(said);
    return review(category, deps, "digit_prediction_disagree",
                  "caller pressed " + std::string(1, digit) + " (" + std::string(said) +
                      ") but the words read as " + predicted + " (" + pct(p->confidence) + ")");
  }
  if (!said.empty()) {
    return make(std::string(said), deps, "digit_only", "caller pressed " + std::string(1, digit));
  }
  if (!p) {
    // Keys that name no category (say "9"), and no words: a human decides.
    return review("", deps, "unknown_keys",
                  "caller pressed " + s.digits + ", which names no category");
  }
  if (p->confidence >= policy.accept_min_confidence) {
    return make(predicted, deps, "predicted",
                "the caller's words read as " + predicted + " (" + pct(p->confidence) + ")");
  }
  return review(
      predicted, deps, "low_confidence",
      "no key pressed and the words are unclear (" + predicted + ", " + pct(p->confidence) + ")");
}

Departments Departments::defaults() {
  Departments d;
  d.by_category["emergency"] = {
      "control_room", "Control room dispatch", "",
      "Take the call now. Get location first, then what is happening; dispatch PCR."};
  d.by_category["inquiry"] = {
      "help_desk", "Help desk", "",
      "Answer or refer to the police station / citizen portal; no dispatch needed."};
  d.by_category["complaint"] = {
      "complaints_cell", "Complaints cell", "",
      "Register the complaint; give the caller the reference and the police station."};
  d.by_category["spam"] = {"spam_filter", "Spam filter", "",
                           "No action. Add the number to the spam list if it repeats."};
  d.by_category["blank"] = {
      "callback_queue", "Call-back queue", "",
      "Call back: a silent caller may be unable to speak. Listen before speaking."};
  d.operator_review = {"operator_review", "Operator review", "",
                       "Listen to the recording and read the transcript; decide the category."};
  return d;
}

const Department& Departments::for_category(std::string_view category) const {
  auto it = by_category.find(std::string(category));
  return it == by_category.end() ? operator_review : it->second;
}

}  // namespace spoofex::triage
