#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "app/commands.h"

namespace spoofex::app {
namespace {

using triage::Category;
using triage::kCategories;

struct TriageOptions {
  std::string data;
  std::string out;
  std::string model;
  std::vector<std::string> train;
  std::vector<std::string> readings;  // recognised readings to train on (Source::heard)
  bool heard = false;                 // --data (or stdin) is a recogniser's transcripts
  std::string model_type = std::string(to_string(triage::TrainOptions{}.model));
  double alpha = triage::TrainOptions{}.alpha;
  bool complement = false;
  double l2 = triage::TrainOptions{}.l2;
  int epochs = triage::TrainOptions{}.epochs;
  double blend_weight = triage::TrainOptions{}.blend_weight;
  double emergency_cost = triage::TrainOptions{}.emergency_cost;
  std::size_t cv_folds = 0;
  std::string groups;
  bool no_feedback = false;
  bool json = false;
};

triage::TrainOptions train_options(const TriageOptions& opt) {
  triage::TrainOptions t;
  t.model = triage::model_type_from(opt.model_type).value_or(t.model);
  t.alpha = opt.alpha;
  t.complement = opt.complement;
  t.l2 = opt.l2;
  t.epochs = opt.epochs;
  t.blend_weight = opt.blend_weight;
  t.emergency_cost = opt.emergency_cost;
  return t;
}

nlohmann::json scores_json(const triage::Prediction& p) {
  nlohmann::json j;
  for (std::size_t c = 0; c < kCategories; ++c)
    j[std::string(to_string(static_cast<Category>(c)))] = p.scores[c];
  return j;
}

triage::Source source_of(const TriageOptions& opt) {
  return opt.heard ? triage::Source::heard : triage::Source::written;
}

// Appends every --readings file's examples, marked as heard.
Status add_readings(const std::vector<std::string>& paths, std::vector<triage::Example>& out) {
  for (const auto& path : paths) {
    auto part = triage::load_examples(path, triage::Source::heard);
    if (!part) return Error{part.error()};
    out.insert(out.end(), part->begin(), part->end());
  }
  return Ok{};
}

int run_classify(const Context& ctx, const TriageOptions& opt) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto model = Context::classifier(*cfg);
  if (!model) return fail(model.error(), kExitFailure);
  auto urgency = Context::urgency(*cfg);
  if (!urgency) return fail(urgency.error(), kExitFailure);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const triage::Prediction p = model->predict(line, source_of(opt));
    std::vector<triage::UrgencyScorer::Hit> hits;
    const double u = urgency->score(line, &hits);
    nlohmann::json words = nlohmann::json::array();
    for (const auto& h : hits) words.push_back(h.phrase);
    print_json({{"category", to_string(p.category)},
                {"confidence", p.confidence},
                {"scores", scores_json(p)},
                {"urgency", u},
                {"distress_words", words}});
  }
  return kExitOk;
}

int run_train(const Context& ctx, const TriageOptions& opt) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto examples = triage::load_examples(opt.data);
  if (!examples) return fail("train: " + examples.error());
  if (auto st = add_readings(opt.readings, *examples); !st) return fail("train: " + st.error());
  std::size_t feedback = 0;
  if (!opt.no_feedback) {
    // Operator corrections are training data too (issue 5).
    auto db = Context::open_store(*cfg);
    if (!db) return fail(db.error(), kExitFailure);
    auto rows = (*db)->list_feedback();
    if (!rows) return fail(rows.error(), kExitFailure);
    for (const auto& f : *rows) {
      if (auto c = triage::category_from(f.category); c && !f.text.empty()) {
        examples->push_back({*c, f.text, triage::Source::heard});  // the call's transcript
        ++feedback;
      }
    }
  }
  if (examples->empty()) return fail("train: no examples in '" + opt.data + "'");
  const auto t0 = std::chrono::steady_clock::now();
  const auto model = triage::NaiveBayes::train(*examples, train_options(opt));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (auto st = model.save(opt.out); !st) return fail(st.error(), kExitFailure);
  print_json({{"out", opt.out},
              {"examples", examples->size()},
              {"feedback", feedback},
              {"model", to_string(model.model_type())},
              {"vocabulary", model.vocabulary_size()},
              {"temperature", model.temperature()},
              {"emergency_shift", model.emergency_shift()},
              {"heard_temperature", model.temperature(triage::Source::heard)},
              {"heard_emergency_shift", model.emergency_shift(triage::Source::heard)},
              {"train_seconds", seconds}});
  return kExitOk;
}

nlohmann::json metrics_json(const triage::Metrics& m) {
  nlohmann::json per = nlohmann::json::object();
  nlohmann::json confusion = nlohmann::json::object();
  for (std::size_t c = 0; c < kCategories; ++c) {
    const std::string name(to_string(static_cast<Category>(c)));
    per[name] = {{"precision", m.precision[c]}, {"recall", m.recall[c]}, {"f1", m.f1[c]}};
    for (std::size_t k = 0; k < kCategories; ++k) {
      confusion[name][std::string(to_string(static_cast<Category>(k)))] = m.confusion[c][k];
    }
  }
  return {{"n", m.n},
          {"accuracy", m.accuracy},
          {"macro_f1", m.macro_f1},
          {"per_class", per},
          {"confusion", confusion}};
}

void print_table(const std::vector<std::pair<std::string, triage::Metrics>>& rows) {
  std::printf("%-22s %8s %8s", "classifier", "accuracy", "macro-F1");
  for (std::size_t c = 0; c < kCategories; ++c) {
    const std::string name(to_string(static_cast<Category>(c)));
    std::printf(" %9s %9s", (name.substr(0, 4) + "-P").c_str(), (name.substr(0, 4) + "-R").c_str());
  }
  std::printf("\n");
  for (const auto& [name, m] : rows) {
    std::printf("%-22s %8.3f %8.3f", name.c_str(), m.accuracy, m.macro_f1);
    for (std::size_t c = 0; c < kCategories; ++c)
      std::printf(" %9.3f %9.3f", m.precision[c], m.recall[c]);
    std::printf("\n");
  }
  const auto& m = rows.front().second;
  std::printf("\nconfusion matrix of %s (rows: truth, columns: predicted), n = %zu\n%-10s",
              rows.front().first.c_str(), m.n, "");
  for (std::size_t c = 0; c < kCategories; ++c)
    std::printf(" %9s", std::string(to_string(static_cast<Category>(c))).c_str());
  std::printf("\n");
  for (std::size_t t = 0; t < kCategories; ++t) {
    std::printf("%-10s", std::string(to_string(static_cast<Category>(t))).c_str());
    for (std::size_t c = 0; c < kCategories; ++c) std::printf(" %9d", m.confusion[t][c]);
    std::printf("\n");
  }
}

// The examples of every --train file, in order; data/triage/train.tsv without one.
Result<std::vector<triage::Example>> load_training(const std::vector<std::string>& paths) {
  if (paths.empty()) return triage::load_examples(data_dir() + "/triage/train.tsv");
  std::vector<triage::Example> all;
  for (const auto& path : paths) {
    auto part = triage::load_examples(path);
    if (!part) return Error{part.error()};
    all.insert(all.end(), part->begin(), part->end());
  }
  return all;
}

// The group of each line of the data file that provenance.tsv describes (data/triage/
// README.md): a hand-written line's section (its file's last '#' note above it), a
// slot-filled line's frame, a public row alone. Lines without provenance are alone.
Result<std::vector<std::string>> provenance_groups(const std::string& provenance,
                                                   const std::string& data, std::size_t n) {
  std::ifstream in(provenance);
  if (!in) return Error{"cannot open '" + provenance + "'"};
  const std::string file = std::filesystem::path(data).filename().string();
  const auto dir = std::filesystem::path(provenance).parent_path();
  std::map<std::string, std::vector<int>> sections;  // hand-written file -> section of each line
  auto section_of = [&](const std::string& path, int line) {
    auto [it, fresh] = sections.try_emplace(path);
    if (fresh) {
      std::ifstream f(dir / path);
      std::string l;
      int section = 0;
      while (std::getline(f, l)) it->second.push_back(l.starts_with('#') ? ++section : section);
    }
    return line >= 1 && line <= static_cast<int>(it->second.size()) ? it->second[line - 1] : -line;
  };
  std::vector<std::string> groups(n);
  for (std::size_t i = 0; i < n; ++i) groups[i] = "line " + std::to_string(i + 1);
  std::string row;
  std::size_t matched = 0;
  while (std::getline(in, row)) {
    std::istringstream ls(row);
    std::string f, line, label, source, origin;
    if (!std::getline(ls, f, '\t') || !std::getline(ls, line, '\t') ||
        !std::getline(ls, label, '\t') || !std::getline(ls, source, '\t') ||
        !std::getline(ls, origin) || f != file) {
      continue;
    }
    const std::size_t k = std::strtoul(line.c_str(), nullptr, 10);
    if (k < 1 || k > n) continue;
    ++matched;
    const auto hash = origin.find("#line=");
    if (source.starts_with("hand-written") && hash != std::string::npos) {
      const std::string path = origin.substr(0, hash);
      groups[k - 1] = path + " section " +
                      std::to_string(section_of(path, std::atoi(origin.c_str() + hash + 6)));
    } else {
      groups[k - 1] = origin;
    }
  }
  // Rows name their file by its name alone: a copy under another name would otherwise
  // be cross-validated ungrouped, and score too well, without a word.
  if (matched == 0) {
    return Error{"'" + provenance + "' has no rows for '" + file +
                 "' (its first column names the data file; copy both under the same names)"};
  }
  return groups;
}

// k-fold cross-validation on --data alone: how options are chosen without a test file.
int run_cross_validation(const std::vector<triage::Example>& data, const TriageOptions& opt) {
  std::vector<std::string> groups;
  if (!opt.groups.empty()) {
    auto g = provenance_groups(opt.groups, opt.data, data.size());
    if (!g) return fail("eval: " + g.error());
    groups = std::move(*g);
  }
  const triage::Metrics cv =
      triage::cross_validate(data, train_options(opt), opt.cv_folds, 12345, groups);
  const Category majority = triage::majority_class(data);
  const std::string name = opt.model_type + " (" + std::to_string(opt.cv_folds) + "-fold " +
                           (groups.empty() ? "" : "grouped ") + "CV)";
  std::vector<std::pair<std::string, triage::Metrics>> rows = {
      {name, cv},
      {"majority-class", triage::evaluate(data, [&](std::string_view) { return majority; })},
      {"keyword-rules", triage::evaluate(data, triage::keyword_rule)}};
  if (opt.json) {
    nlohmann::json j = metrics_json(cv);
    j["data"] = opt.data;
    j["folds"] = opt.cv_folds;
    j["grouped"] = !groups.empty();
    j["model"] = opt.model_type;
    print_json(j);
  } else {
    print_table(rows);
  }
  return kExitOk;
}

int run_eval(const Context& ctx, const TriageOptions& opt) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto data = triage::load_examples(opt.data);
  if (!data) return fail("eval: " + data.error());
  if (data->empty()) return fail("eval: no examples in '" + opt.data + "'");
  auto train = load_training(opt.train);
  if (!train) return fail("eval: " + train.error());
  if (auto st = add_readings(opt.readings, *train); !st) return fail("eval: " + st.error());
  if (opt.cv_folds > 0) return run_cross_validation(*data, opt);
  // --model, else a model trained on --train, else the one classify uses (the corpus
  // plus its recognised readings).
  Result<triage::NaiveBayes> model =
      !opt.model.empty() ? triage::NaiveBayes::load(opt.model)
      : !opt.train.empty() || !opt.readings.empty()
          ? Result<triage::NaiveBayes>(triage::NaiveBayes::train(*train, train_options(opt)))
          : Context::classifier(*cfg);
  if (!model) return fail(model.error(), kExitFailure);
  const auto& nb = *model;
  auto urgency = Context::urgency(*cfg);
  if (!urgency) return fail(urgency.error(), kExitFailure);
  const Category majority = triage::majority_class(*train);
  // The whole triage as a call without a key meets it: the model, the urgency score
  // and the fusion rules (an undecided call counts as the model's category).
  auto fused = [&](std::string_view t) {
    const triage::Prediction p = nb.predict(t, source_of(opt));
    triage::Signals s;
    s.prediction = &p;
    s.urgency = urgency->score(t);
    const auto d = triage::decide(s, cfg->departments, cfg->fusion);
    return triage::category_from(d.category).value_or(p.category);
  };
  std::vector<std::pair<std::string, triage::Metrics>> rows = {
      {std::string(to_string(nb.model_type())) + (opt.model.empty() ? "" : " (" + opt.model + ")"),
       triage::evaluate(
           *data, [&](std::string_view t) { return nb.predict(t, source_of(opt)).category; })},
      {std::string(to_string(nb.model_type())) + "+urgency", triage::evaluate(*data, fused)},
      {"majority-class", triage::evaluate(*data, [&](std::string_view) { return majority; })},
      {"keyword-rules", triage::evaluate(*data, triage::keyword_rule)}};
  if (opt.json) {
    nlohmann::json j = metrics_json(rows[0].second);
    j["data"] = opt.data;
    j["model"] = to_string(nb.model_type());
    j["source"] = opt.heard ? "heard" : "written";
    j["with_urgency_rules"] = metrics_json(rows[1].second);
    j["baselines"] = {{"majority_class", metrics_json(rows[2].second)},
                      {"keyword_rules", metrics_json(rows[3].second)}};
    print_json(j);
  } else {
    print_table(rows);
  }
  return kExitOk;
}

// How the model is trained (train; eval with --train or --cv).
void add_model_options(CLI::App& cmd, TriageOptions& opt) {
  cmd.add_option("--model-type", opt.model_type,
                 "nb (naive Bayes), logreg (softmax regression) or blend (of the two)")
      ->check(CLI::IsMember({"nb", "logreg", "blend"}));
  cmd.add_option("--alpha", opt.alpha, "naive Bayes additive smoothing")
      ->check(CLI::Range(1e-6, 10.0));
  cmd.add_flag("--complement", opt.complement, "Complement Naive Bayes");
  cmd.add_option("--l2", opt.l2, "logreg L2 penalty")->check(CLI::Range(0.0, 10.0));
  cmd.add_option("--epochs", opt.epochs, "logreg training steps")->check(CLI::Range(1, 100000));
  cmd.add_option("--blend-weight", opt.blend_weight, "blend: the weight of naive Bayes")
      ->check(CLI::Range(0.0, 1.0));
}

}  // namespace

void add_triage_commands(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<TriageOptions>();
  auto* classify = app.add_subcommand("classify", "classify utterances, one per stdin line");
  classify->add_flag("--heard", opt->heard,
                     "the lines are a speech recogniser's transcripts (its own calibration)");
  classify->callback([&ctx, &exit_code, opt] { exit_code = run_classify(ctx, *opt); });

  auto* train =
      app.add_subcommand("train", "train the triage model (plus stored operator corrections)");
  train->add_option("--data", opt->data, "labelled utterances: label<TAB>text per line")
      ->required();
  train->add_option("--out", opt->out, "where to write the model")->required();
  train->add_option("--readings", opt->readings,
                    "a recogniser's readings of training lines (e.g. data/triage/train_asr.tsv), "
                    "calibrated apart (may be repeated)");
  add_model_options(*train, *opt);
  train
      ->add_option("--emergency-cost", opt->emergency_cost,
                   "a missed emergency costs this many false alarms (0: no emergency shift)")
      ->check(CLI::Range(0.0, 1000.0));
  train->add_flag("--no-feedback", opt->no_feedback,
                  "leave out operator corrections from the database");
  train->callback([&ctx, &exit_code, opt] { exit_code = run_train(ctx, *opt); });

  auto* eval = app.add_subcommand("eval", "evaluate on labelled data against two baselines");
  eval->add_option("--data", opt->data, "labelled utterances: label<TAB>text per line")->required();
  eval->add_option("--model", opt->model, "a trained model (default: train on --train)");
  eval->add_option("--train", opt->train,
                   "training data for the model and the majority baseline (may be repeated)");
  eval->add_option("--readings", opt->readings,
                   "a recogniser's readings of training lines, calibrated apart (may be repeated)");
  eval->add_flag("--heard", opt->heard,
                 "--data is a speech recogniser's transcripts, e.g. data/triage/test_asr.tsv");
  add_model_options(*eval, *opt);
  eval->add_option(
      "--groups", opt->groups,
      "with --cv: provenance.tsv, to keep each template, frame or section in one fold");
  eval->add_option("--emergency-cost", opt->emergency_cost,
                   "a missed emergency costs this many false alarms, with --train or --cv")
      ->check(CLI::Range(0.0, 1000.0));
  eval->add_option("--cv", opt->cv_folds,
                   "k-fold cross-validation on --data instead of a held-out evaluation")
      ->check(CLI::Range(2, 50));
  eval->add_flag("--json", opt->json, "one JSON object instead of a table");
  eval->callback([&ctx, &exit_code, opt] { exit_code = run_eval(ctx, *opt); });
}

}  // namespace spoofex::app
