// report.html for the other model kinds: model = transformer (report/report_encoder_decoder.h) has every
// section, one map per (kind, layer, head) with the cells its mask allows (encoder S×S, decoder T×T lower
// triangle, cross T×S) holding analyse_pair's weights, the decoder's predictions and the held-out
// translations with their exact match; --source/--target choose the pair; a missing corpus is a note.
// model = bert: the maps are full matrices (bidirectional) and section 4 is a [MASK]'s candidates, the
// ones gpt fill gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "checkpoint/encoder_decoder_file.h"
#include "generate/exact_match.h"
#include "generate/fill.h"
#include "generate/seq2seq.h"
#include "report/pair_analysis.h"
#include "report/report_encoder_decoder.h"
#include "report/report_html.h"
#include "report/report_sections.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "../train/tiny_corpus.h"
#include "html_probe.h"

using namespace gpt;
namespace fs = std::filesystem;
using test::attribute_values, test::count, test::element, test::read_file;

namespace {

// 200 lines "word<TAB>reversed word" of 3..8 letters a..h; the held-out split is the last 20 (lines 181..200).
fs::path write_reverse_corpus(const fs::path& dir) { return test::write_reversal_pairs(dir, 41, 200, 6); }

std::string line_of(const fs::path& path, int64_t number) {
    std::ifstream in(path);
    std::string line;
    for (int64_t i = 0; i < number; ++i) std::getline(in, line);
    return line;
}

TrainConfig transformer_config(const fs::path& corpus, const fs::path& out_dir) {
    TrainConfig c;
    c.model_kind = "transformer";
    c.data = corpus.string();
    c.out_dir = out_dir.string();
    c.encoder_decoder.n_encoder_layer = 2;  // unlike the decoder's 1: a map group drawn from the wrong stack shows
    c.encoder_decoder.n_decoder_layer = 1;
    c.encoder_decoder.source_block_size = 10;  // unlike the decoder's 12
    c.model.n_head = 2;
    c.model.n_embd = 16;
    c.model.block_size = 12;
    c.batch_size = 4;
    c.max_iters = 10;
    c.warmup_iters = 2;
    c.eval_interval = 5;
    c.eval_iters = 2;
    c.log_interval = 1;
    c.report_every = 5;
    c.sample_tokens = 0;
    c.threads = 1;
    return c;
}

// Every map of group `prefix` (enc, dec, cross) against the analysis: rows × cols, the cells the mask
// allows (causal: j ≤ i), each the recorded weight.
void check_maps(const std::string& html, const std::string& prefix, const std::vector<Tensor>& layers, int64_t rows,
                int64_t cols, bool causal) {
    CHECK(count(html, "id=\"" + prefix + "-L") == layers.size() * static_cast<size_t>(layers.front().size(1)));
    for (size_t l = 0; l < layers.size(); ++l)
        for (int64_t h = 0; h < layers[l].size(1); ++h) {
            const std::string id = prefix + "-L" + std::to_string(l) + "-H" + std::to_string(h);
            INFO(id);
            const std::string map = element(html, "id=\"" + id + "\"", "</svg>");
            CHECK(map.find("class=\"heatmap attention-map\"") != std::string::npos);
            CHECK(attribute_values(map, "data-layer").at(0) == std::to_string(l));
            CHECK(attribute_values(map, "data-head").at(0) == std::to_string(h));
            CHECK(std::stoll(attribute_values(map, "data-rows").at(0)) == rows);
            CHECK(std::stoll(attribute_values(map, "data-cols").at(0)) == cols);
            const auto r = attribute_values(map, "data-row"), c = attribute_values(map, "data-col");
            const auto v = attribute_values(map, "data-value");
            REQUIRE(v.size() == static_cast<size_t>(causal ? rows * (rows + 1) / 2 : rows * cols));
            for (size_t k = 0; k < v.size(); ++k) {
                const int64_t i = std::stoll(r[k]), j = std::stoll(c[k]);
                if (causal) CHECK(j <= i);
                const float w = layers[l].data()[(h * rows + i) * cols + j];
                CHECK(std::stod(v[k]) == doctest::Approx(w).epsilon(1e-6));
            }
        }
}

}  // namespace

TEST_CASE("transformer report: every section, encoder/decoder/cross maps of analyse_pair, predictions, translations") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_report_transformer";
    fs::remove_all(root);
    const fs::path corpus = write_reverse_corpus(root), run = root / "run";
    const TrainConfig config = transformer_config(corpus, run);
    REQUIRE(run_train(config, [](const std::string&) { return false; }, report_hooks()) == 0);
    REQUIRE(fs::exists(run / "report.html"));  // written by the training loop
    CHECK(read_file(run / "report.html").find("id=\"cross-L0-H1\"") != std::string::npos);

    REQUIRE(write_report(run.string(), ReportOptions{}) == (run / "report.html").string());
    const std::string html = read_file(run / "report.html");
    for (const char* id : {"loss", "loss-chart", "lr-chart", "gradients", "grad-norm-chart", "grad-norm-heatmap",
                           "update-ratio-heatmap", "attention", "next-token", "predictions", "prediction-last", "model",
                           "config", "param-counts", "param-total", "translations", "exact-match"})
        CHECK_MESSAGE(count(html, "id=\"" + std::string(id) + "\"") == 1, id);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("id=\"attn-L") == std::string::npos);  // the GPT's maps are not there
    CHECK(html.find("model = &quot;transformer&quot;") != std::string::npos);  // the config, escaped

    // The default pair is the first held-out example: line 181 of the corpus.
    LoadedEncoderDecoder loaded = load_encoder_decoder((run / "ckpt.h5").string());
    const Seq2SeqVocabulary vocabulary{loaded.tokenizer->vocab_size()};
    const HeldOutPairs held_out = read_held_out_pairs(config, *loaded.tokenizer, loaded.config);
    REQUIRE(held_out.examples.size() == 20);
    const ParallelExample& first = held_out.examples.front();
    CHECK(first.line == 181);
    const std::string line = line_of(corpus, 181);
    CHECK(loaded.tokenizer->decode(first.source) + "\t" + loaded.tokenizer->decode(first.target) == line);
    CHECK(html.find("<code class=\"prompt\">" + line.substr(0, line.find('\t')) + "</code>") != std::string::npos);
    CHECK(html.find("line 181 of") != std::string::npos);

    // Section 3: 2 encoder layers, 1 decoder layer, 2 heads; the weights are analyse_pair's.
    const PairAnalysis a = analyse_pair(*loaded.model, vocabulary, first.source, first.target);
    const int64_t S = a.S, T = a.T;
    CHECK(S == static_cast<int64_t>(first.source.size()));
    CHECK(T == static_cast<int64_t>(first.target.size()) + 1);
    CHECK(count(html, "class=\"heatmap attention-map\"") == 2 * 2 + 1 * 2 + 1 * 2);
    check_maps(html, "enc", a.attention.encoder_attention, S, S, false);
    check_maps(html, "dec", a.attention.decoder_attention, T, T, true);
    check_maps(html, "cross", a.attention.cross_attention, T, S, false);

    // Section 4: a row per decoder position, the expected token the target's next (eos last); the first
    // candidate is the row's most probable token with its softmax probability.
    const std::string table = element(html, "id=\"predictions\"", "</table>");
    const auto positions = attribute_values(table, "data-position");
    const auto expected = attribute_values(table, "data-expected");
    REQUIRE(positions.size() == static_cast<size_t>(T));
    const int64_t V = vocabulary.size();
    for (int64_t t = 0; t < T; ++t) {
        CHECK(expected[size_t(t)] ==
              std::to_string(t + 1 < T ? first.target[size_t(t)] : vocabulary.eos()));
        const float* row = a.row(t);
        int64_t best = 0;
        double total = 0.0;
        for (int64_t v = 0; v < V; ++v) {
            if (row[v] > row[best]) best = v;
        }
        for (int64_t v = 0; v < V; ++v) total += std::exp(double(row[v]) - double(row[best]));
        const std::string row_html =
            element(table, "data-position=\"" + std::to_string(t) + "\"", "</tr>");
        CHECK(attribute_values(row_html, "data-id").at(0) == std::to_string(best));
        CHECK(std::stod(attribute_values(row_html, "data-prob").at(0)) == doctest::Approx(1.0 / total).epsilon(1e-5));
    }
    const std::string last = element(html, "id=\"prediction-last\"", "</svg>");
    CHECK(attribute_values(last, "data-id").at(0) == attribute_values(element(table, "data-position=\"" + std::to_string(T - 1) + "\"", "</tr>"), "data-id").at(0));

    // Section 5: the modules of an encoder–decoder, adding up; 8 held-out translations with their exact match.
    const std::string params = element(html, "id=\"param-counts\"", "</table>");
    CHECK(attribute_values(params, "data-module") ==
          std::vector<std::string>{"wte", "encoder.h.0", "encoder.h.1", "decoder.h.0"});
    int64_t total = 0;
    for (const std::string& c : attribute_values(params, "data-count")) total += std::stoll(c);
    CHECK(total == loaded.model->parameter_count());
    const std::string translations = element(html, "id=\"translations\"", "</table>");
    const auto correct = attribute_values(translations, "data-correct");
    CHECK(correct.size() == 8);
    const std::string match = element(html, "id=\"exact-match\"", ">");
    const std::vector<ParallelExample> shown(held_out.examples.begin(), held_out.examples.begin() + 8);
    const ExactMatch expected_match = exact_match(*loaded.model, shown, vocabulary);
    CHECK(attribute_values(match, "data-total").at(0) == "8");
    CHECK(attribute_values(match, "data-correct").at(0) == std::to_string(expected_match.correct));
    CHECK(static_cast<int64_t>(std::count(correct.begin(), correct.end(), "1")) == expected_match.correct);
    CHECK(attribute_values(translations, "data-line").at(0) == "181");
    fs::remove_all(root);
}

TEST_CASE("transformer report: --source/--target choose the pair; bad ones are one error; a lost corpus is a note") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_report_transformer_options";
    fs::remove_all(root);
    const fs::path corpus = write_reverse_corpus(root), run = root / "run";
    TrainConfig config = transformer_config(corpus, run);
    config.max_iters = 2;
    REQUIRE(run_train(config, [](const std::string&) { return false; }, TrainHooks{}) == 0);
    CHECK_FALSE(fs::exists(run / "report.html"));  // no hooks, no report

    LoadedEncoderDecoder loaded = load_encoder_decoder((run / "ckpt.h5").string());
    const Seq2SeqVocabulary vocabulary{loaded.tokenizer->vocab_size()};
    ReportOptions options;
    options.source = "abcd";
    options.target = "dcb";
    write_report(run.string(), options);
    std::string html = read_file(run / "report.html");
    const std::string cross = element(html, "id=\"cross-L0-H0\"", "</svg>");
    CHECK(attribute_values(cross, "data-rows").at(0) == "4");  // bos d c b
    CHECK(attribute_values(cross, "data-cols").at(0) == "4");  // a b c d
    CHECK(html.find("<code class=\"prompt\">abcd</code>") != std::string::npos);

    // --source alone: the target is the greedy translation.
    options.target.clear();
    options.source = "hgf";
    write_report(run.string(), options);
    html = read_file(run / "report.html");
    Seq2SeqOptions greedy;
    greedy.bos = vocabulary.bos();
    greedy.eos = vocabulary.eos();
    greedy.max_new_tokens = loaded.config.target_block_size - 1;
    const Hypothesis h = greedy_decode(*loaded.model, loaded.tokenizer->encode("hgf"), greedy);
    CHECK(attribute_values(element(html, "id=\"dec-L0-H1\"", "</svg>"), "data-rows").at(0) ==
          std::to_string(h.tokens.size() + 1));
    CHECK(attribute_values(element(html, "id=\"enc-L1-H0\"", "</svg>"), "data-cols").at(0) == "3");
    CHECK(html.find("greedy translation") != std::string::npos);

    const auto refused = [&](ReportOptions o, const std::string& message) {
        CAPTURE(message);
        CHECK_THROWS_WITH_AS(write_report(run.string(), o), doctest::Contains(message.c_str()), std::invalid_argument);
    };
    ReportOptions bad;
    bad.source = "abcdefghabc";  // 11 tokens, source_block_size 10
    refused(bad, "--source is 11 tokens, longer than the encoder's context (10 tokens");
    bad.source = "ABC";
    refused(bad, "--source cannot be encoded");
    bad.source = "abc";
    bad.target = "abcdefghabcd";  // 12 tokens: with bos 13 > 12
    refused(bad, "--target is 12 tokens; the decoder reads at most 11");
    bad.source.clear();
    bad.target = "abc";
    refused(bad, "--target needs --source");
    bad.target.clear();
    bad.prompt = "abc";
    refused(bad, "--prompt is for model = gpt and bert runs");

    // The corpus gone: the page says so and still draws the maps (for a few letters of the vocabulary).
    fs::rename(corpus, root / "moved.tsv");
    write_report(run.string(), ReportOptions{});
    html = read_file(run / "report.html");
    CHECK(html.find("id=\"translations-note\"") != std::string::npos);
    CHECK(html.find("cannot open") != std::string::npos);
    CHECK(html.find("id=\"translations\"") == std::string::npos);
    CHECK(html.find("id=\"enc-L0-H0\"") != std::string::npos);
    CHECK(html.find("<code class=\"prompt\">abcdef</code>") != std::string::npos);

    // For the training loop a report that cannot be written is a warning, and the mode is restored.
    loaded.model->train();
    const std::string message = write_encoder_decoder_report_or_warn(root / "moved.tsv" / "run", *loaded.model,
                                                                     *loaded.tokenizer, config, {});
    CHECK(message.rfind("warning: report not written", 0) == 0);
    CHECK(loaded.model->is_training());
    fs::remove_all(root);
}

TEST_CASE("bert report: full attention maps; section 4 is the [MASK]'s candidates, gpt fill's") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_report_bert";
    fs::remove_all(root);
    const fs::path corpus = test::write_word_corpus(root, 31), run = root / "run";
    TrainConfig c;
    c.model_kind = "bert";
    c.data = corpus.string();
    c.out_dir = run.string();
    c.model.n_layer = 2;
    c.model.n_head = 2;
    c.model.n_embd = 16;
    c.model.block_size = 20;
    c.batch_size = 4;
    c.max_iters = 6;
    c.warmup_iters = 2;
    c.eval_interval = 3;
    c.eval_iters = 2;
    c.sample_tokens = 0;
    c.threads = 1;
    REQUIRE(run_train(c, [](const std::string&) { return false; }, report_hooks()) == 0);
    REQUIRE(fs::exists(run / "report.html"));

    ReportOptions options;
    options.prompt = "the quick [MASK] fox";
    write_report(run.string(), options);
    const std::string html = read_file(run / "report.html");
    const LoadedCheckpoint loaded = load_checkpoint((run / "ckpt.h5").string());
    const FillResult fill = fill_masks(*loaded.model, *loaded.tokenizer, options.prompt, 12);
    const auto T = static_cast<int64_t>(fill.ids.size());  // [CLS] 10 characters [MASK] 4 characters [SEP]
    CHECK(T == 17);
    for (int64_t l = 0; l < 2; ++l)
        for (int64_t h = 0; h < 2; ++h) {
            const std::string map = element(html, "id=\"attn-L" + std::to_string(l) + "-H" + std::to_string(h) + "\"", "</svg>");
            CHECK(std::stoll(attribute_values(map, "data-rows").at(0)) == T);
            const auto values = attribute_values(map, "data-value");
            REQUIRE(values.size() == static_cast<size_t>(T * T));  // the full matrix, not the lower triangle
            double first_row = 0.0;
            for (int64_t j = 0; j < T; ++j) first_row += std::stod(values[size_t(j)]);
            CHECK(first_row == doctest::Approx(1.0).epsilon(1e-5));  // [CLS] attends to every position
        }
    CHECK(html.find("without a mask") != std::string::npos);
    CHECK(html.find("id=\"next-token-t1\"") == std::string::npos);
    const std::string chart = element(html, "id=\"fill-chart\"", "</svg>");
    const auto ids = attribute_values(chart, "data-id"), probs = attribute_values(chart, "data-prob");
    REQUIRE(fill.masks.size() == 1);
    REQUIRE(ids.size() == fill.masks[0].candidates.size());
    for (size_t k = 0; k < 3; ++k) {
        CHECK(ids[k] == std::to_string(fill.masks[0].candidates[k].id));
        CHECK(std::stod(probs[k]) == doctest::Approx(fill.masks[0].candidates[k].probability).epsilon(1e-4));
    }
    CHECK(html.find("[MASK] at position " + std::to_string(fill.masks[0].position)) != std::string::npos);

    // The default prompt hides a token of the validation text behind the [MASK].
    write_report(run.string(), ReportOptions{});
    const std::string default_html = read_file(run / "report.html");
    CHECK(default_html.find("id=\"hidden-token\"") != std::string::npos);
    CHECK(default_html.find("id=\"fill-chart\"") != std::string::npos);
    ReportOptions gpt_only;
    gpt_only.source = "abc";
    CHECK_THROWS_WITH_AS(write_report(run.string(), gpt_only), doctest::Contains("--source and --target are for model = transformer"),
                         std::invalid_argument);
    fs::remove_all(root);
}

TEST_CASE("parameter counts per module: the encoder-decoder's groups (pre-norm, untied, separate source table)") {
    EncoderDecoderConfig c;
    c.source_vocab_size = 11;
    c.target_vocab_size = 9;
    c.n_encoder_layer = 1;
    c.n_decoder_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    c.norm_first = true;
    c.share_embeddings = false;
    c.tie_embeddings = false;
    const EncoderDecoder model(c);
    const auto counts = parameter_counts(model);
    std::vector<std::string> names;
    int64_t total = 0;
    for (const auto& [name, n] : counts) {
        names.push_back(name);
        total += n;
    }
    CHECK(names == std::vector<std::string>{"wte", "wte_source", "encoder.h.0", "encoder.ln_f", "decoder.h.0",
                                            "decoder.h.1", "decoder.ln_f", "lm_head"});
    CHECK(counts[1].second == 11 * 8);
    CHECK(counts.back().second == 9 * 8);
    CHECK(total == model.parameter_count());
}
