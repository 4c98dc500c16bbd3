#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/commands.h"

namespace spoofex::app {
namespace {

using triage::Category;
using triage::kCategories;

struct TriageOptions {
  std::string data;
  std::string out;
  std::string model;
  std::string train;
  double alpha = 0.3;
  bool complement = false;
  bool no_feedback = false;
  bool json = false;
};

nlohmann::json scores_json(const triage::Prediction& p) {
  nlohmann::json j;
  for (std::size_t c = 0; c < kCategories; ++c)
    j[std::string(to_string(static_cast<Category>(c)))] = p.scores[c];
  return j;
}

int run_classify(const Context& ctx) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto model = Context::classifier(*cfg);
  if (!model) return fail(model.error(), kExitFailure);
  auto urgency = Context::urgency(*cfg);
  if (!urgency) return fail(urgency.error(), kExitFailure);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const triage::Prediction p = model->predict(line);
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
  std::size_t feedback = 0;
  if (!opt.no_feedback) {
    // Operator corrections are training data too (issue 5).
    auto db = Context::open_store(*cfg);
    if (!db) return fail(db.error(), kExitFailure);
    auto rows = (*db)->list_feedback();
    if (!rows) return fail(rows.error(), kExitFailure);
    for (const auto& f : *rows) {
      if (auto c = triage::category_from(f.category); c && !f.text.empty()) {
        examples->push_back({*c, f.text});
        ++feedback;
      }
    }
  }
  if (examples->empty()) return fail("train: no examples in '" + opt.data + "'");
  const auto t0 = std::chrono::steady_clock::now();
  const auto model = triage::NaiveBayes::train(*examples, {opt.alpha, opt.complement, true});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (auto st = model.save(opt.out); !st) return fail(st.error(), kExitFailure);
  print_json({{"out", opt.out},
              {"examples", examples->size()},
              {"feedback", feedback},
              {"vocabulary", model.vocabulary_size()},
              {"temperature", model.temperature()},
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

int run_eval(const Context& ctx, const TriageOptions& opt) {
  auto cfg = ctx.config();
  if (!cfg) return fail(cfg.error());
  auto data = triage::load_examples(opt.data);
  if (!data) return fail("eval: " + data.error());
  if (data->empty()) return fail("eval: no examples in '" + opt.data + "'");
  const std::string train_path = opt.train.empty() ? data_dir() + "/triage/train.tsv" : opt.train;
  auto train = triage::load_examples(train_path);
  if (!train) return fail("eval: " + train.error());
  // --model, else a model trained on --train, else the one classify uses (the corpus
  // plus its recognised readings).
  Result<triage::NaiveBayes> model =
      !opt.model.empty()   ? triage::NaiveBayes::load(opt.model)
      : !opt.train.empty() ? Result<triage::NaiveBayes>(triage::NaiveBayes::train(*train))
                           : Context::classifier(*cfg);
  if (!model) return fail(model.error(), kExitFailure);
  const auto& nb = *model;
  auto urgency = Context::urgency(*cfg);
  if (!urgency) return fail(urgency.error(), kExitFailure);
  const Category majority = triage::majority_class(*train);
  // The whole triage as a call without a key meets it: the model, the urgency score
  // and the fusion rules (an undecided call counts as the model's category).
  auto fused = [&](std::string_view t) {
    const triage::Prediction p = nb.predict(t);
    triage::Signals s;
    s.prediction = &p;
    s.urgency = urgency->score(t);
    const auto d = triage::decide(s, cfg->departments, cfg->fusion);
    return triage::category_from(d.category).value_or(p.category);
  };
  std::vector<std::pair<std::string, triage::Metrics>> rows = {
      {opt.model.empty() ? "naive-bayes" : "naive-bayes (" + opt.model + ")",
       triage::evaluate(*data, [&](std::string_view t) { return nb.predict(t).category; })},
      {"naive-bayes+urgency", triage::evaluate(*data, fused)},
      {"majority-class", triage::evaluate(*data, [&](std::string_view) { return majority; })},
      {"keyword-rules", triage::evaluate(*data, triage::keyword_rule)}};
  if (opt.json) {
    nlohmann::json j = metrics_json(rows[0].second);
    j["data"] = opt.data;
    j["with_urgency_rules"] = metrics_json(rows[1].second);
    j["baselines"] = {{"majority_class", metrics_json(rows[2].second)},
                      {"keyword_rules", metrics_json(rows[3].second)}};
    print_json(j);
  } else {
    print_table(rows);
  }
  return kExitOk;
}

}  // namespace

void add_triage_commands(CLI::App& app, const Context& ctx, int& exit_code) {
  auto opt = std::make_shared<TriageOptions>();
  auto* classify = app.add_subcommand("classify", "classify utterances, one per stdin line");
  classify->callback([&ctx, &exit_code] { exit_code = run_classify(ctx); });

  auto* train =
      app.add_subcommand("train", "train the triage model (plus stored operator corrections)");
  train->add_option("--data", opt->data, "labelled utterances: label<TAB>text per line")
      ->required();
  train->add_option("--out", opt->out, "where to write the model")->required();
  train->add_option("--alpha", opt->alpha, "additive smoothing")->check(CLI::Range(1e-6, 10.0));
  train->add_flag("--complement", opt->complement, "Complement Naive Bayes");
  train->add_flag("--no-feedback", opt->no_feedback,
                  "leave out operator corrections from the database");
  train->callback([&ctx, &exit_code, opt] { exit_code = run_train(ctx, *opt); });

  auto* eval = app.add_subcommand("eval", "evaluate on labelled data against two baselines");
  eval->add_option("--data", opt->data, "labelled utterances: label<TAB>text per line")->required();
  eval->add_option("--model", opt->model, "a trained model (default: train on --train)");
  eval->add_option("--train", opt->train, "training data for the model and the majority baseline");
  eval->add_flag("--json", opt->json, "one JSON object instead of a table");
  eval->callback([&ctx, &exit_code, opt] { exit_code = run_eval(ctx, *opt); });
}

}  // namespace spoofex::app
