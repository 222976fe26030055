// The training report (report/report_*.h) and the tape graph (report/graph.h): the report of a tiny run
// has every section, one attention map per head, and the numbers of metrics.jsonl; the attention weights
// reproduce the fused attention op; text is escaped; the tape's DOT names the ops backward walks.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "data/char_tokenizer.h"
#include "data/token_file.h"
#include "nn/init.h"
#include "train/checkpoint.h"
#include "report/graph.h"
#include "report/report_attention.h"
#include "report/report_data.h"
#include "report/report_html.h"
#include "report/report_svg.h"
#include "train/trainer.h"
#include "../train/tiny_corpus.h"
#include "html_probe.h"

using namespace gpt;
namespace fs = std::filesystem;
using test::attribute_values, test::count, test::element, test::read_file;

namespace {

fs::path make_corpus(const fs::path& dir) { return test::write_word_corpus(dir, 777); }

// The value of "key": in a metrics line, read independently of report/report_data.cpp.
double json_value(const std::string& line, const std::string& key) {
    const size_t at = line.find("\"" + key + "\": ");
    return at == std::string::npos ? NAN : std::strtod(line.c_str() + at + key.size() + 4, nullptr);
}

int64_t loaded_vocab(const fs::path& run) { return load_checkpoint((run / "ckpt.h5").string()).model->config().vocab_size; }

TrainConfig tiny_config(const fs::path& corpus, const fs::path& out_dir) {
    TrainConfig c;
    c.data = corpus.string();
    c.out_dir = out_dir.string();
    c.model.n_layer = 2;
    c.model.n_head = 4;
    c.model.n_kv_head = 2;  // grouped-query attention: query heads 0,1 share kv head 0
    c.model.n_embd = 32;
    c.model.block_size = 32;
    c.batch_size = 4;
    c.max_iters = 20;
    c.warmup_iters = 2;
    c.eval_interval = 5;
    c.eval_iters = 2;
    c.log_interval = 2;
    c.report_every = 10;
    c.sample_tokens = 0;
    c.threads = 2;
    return c;
}

}  // namespace

TEST_CASE("report of a tiny run: every section, one map per head, the numbers of metrics.jsonl") {
    const fs::path root = fs::temp_directory_path() / "gpt_test_report";
    fs::remove_all(root);
    const fs::path run = root / "run";
    const TrainConfig config = tiny_config(make_corpus(root), run);
    REQUIRE(run_train(config, [](const std::string&) { return false; }, report_hooks()) == 0);
    REQUIRE(fs::exists(run / "report.html"));  // written by the training loop at the end

    ReportOptions options;
    options.sample_tokens = 60;
    REQUIRE(write_report(run.string(), options) == (run / "report.html").string());
    const std::string html = read_file(run / "report.html");
    INFO("report size " << html.size());

    for (const char* id : {"loss", "loss-chart", "lr-chart", "gradients", "grad-norm-chart", "grad-norm-heatmap",
                           "update-ratio-heatmap", "attention", "next-token", "next-token-t0.5", "next-token-t1",
                           "next-token-t1.5", "model", "config", "param-counts", "sample"})
        CHECK_MESSAGE(count(html, "id=\"" + std::string(id) + "\"") == 1, id);
    CHECK(count(html, "http://") == count(html, "http://www.w3.org/2000/svg"));  // no link but the SVG namespace
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);

    // The promised reference lines: ln(vocabulary) on the loss chart, the clip threshold on the norms;
    // the update-ratio colour bar labels 1e-3; charts scale with the window.
    const std::string loss_chart = element(html, "id=\"loss-chart\"", "</svg>");
    const auto uniform = attribute_values(element(loss_chart, "ref-line uniform-guess", "/>"), "data-y");
    CHECK(std::stod(uniform.at(0)) == doctest::Approx(std::log(double(loaded_vocab(run)))));
    CHECK(loss_chart.find("max-width:") != std::string::npos);
    const std::string norm_chart = element(html, "id=\"grad-norm-chart\"", "</svg>");
    CHECK(std::stod(attribute_values(element(norm_chart, "ref-line clip", "/>"), "data-y").at(0)) == config.grad_clip);
    const std::string ratios = element(html, "id=\"update-ratio-heatmap\"", "</svg>");
    CHECK(ratios.find("class=\"tick mark\" ") != std::string::npos);
    CHECK(element(ratios, "class=\"tick mark\"", "</text>").find(">0.001") != std::string::npos);

    // Section 3: n_layer · n_head maps, each T×T lower triangle, each row summing to 1.
    CHECK(count(html, "class=\"heatmap attention-map\"") == static_cast<size_t>(config.model.n_layer * config.model.n_head));
    const std::string map = element(html, "id=\"attn-L1-H3\"", "</svg>");
    const int64_t T = std::stoll(attribute_values(map, "data-rows").at(0));
    CHECK(T >= 2);
    CHECK(T <= 32);
    const auto weights = attribute_values(map, "data-value");
    CHECK(weights.size() == static_cast<size_t>(T * (T + 1) / 2));
    double last_row = 0.0;
    for (size_t k = weights.size() - static_cast<size_t>(T); k < weights.size(); ++k) last_row += std::stod(weights[k]);
    CHECK(last_row == doctest::Approx(1.0).epsilon(1e-5));

    // The default prompt is the first line of the validation text with at least 8 tokens (characters here),
    // cut to 32.
    const LoadedCheckpoint loaded = load_checkpoint((run / "ckpt.h5").string());
    const TokenFile val(run / "val.bin");
    std::string val_text;
    for (int64_t i = 0; i < val.size() && val_text.size() < 4000; ++i) val_text += loaded.tokenizer->token_bytes(val[i]);
    std::string first_line;
    std::istringstream val_lines(val_text);
    for (std::string candidate; std::getline(val_lines, candidate);)
        if (candidate.size() >= 8) {
            first_line = candidate.substr(0, 32);
            break;
        }
    REQUIRE(!first_line.empty());
    CHECK(static_cast<int64_t>(first_line.size()) == T);
    CHECK(html.find("<code class=\"prompt\">" + first_line + "</code>") != std::string::npos);

    // Section 1: the plotted points are metrics.jsonl's values, to the 9 digits it holds.
    std::vector<std::string> lines;
    {
        std::ifstream in(run / "metrics.jsonl");
        for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    REQUIRE(lines.size() == 12);  // steps 2, 4, …, 20 plus the evaluations at 5 and 15
    const std::string train = element(html, "class=\"series series-train\"", "</g>");
    const std::string valg = element(html, "class=\"series series-val\"", "</g>");
    const std::string lr = element(html, "class=\"series series-lr\"", "</g>");
    const auto train_x = attribute_values(train, "data-x"), train_y = attribute_values(train, "data-y");
    const auto val_x = attribute_values(valg, "data-x"), val_y = attribute_values(valg, "data-y");
    const auto lr_y = attribute_values(lr, "data-y");
    REQUIRE(train_y.size() == lines.size());
    REQUIRE(lr_y.size() == lines.size());
    size_t v = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        INFO(lines[i]);
        CHECK(std::stod(train_x[i]) == json_value(lines[i], "step"));
        CHECK(std::stod(train_y[i]) == json_value(lines[i], "train_loss"));
        CHECK(std::stod(lr_y[i]) == json_value(lines[i], "lr"));
        if (std::isfinite(json_value(lines[i], "val_loss"))) {
            REQUIRE(v < val_y.size());
            CHECK(std::stod(val_x[v]) == json_value(lines[i], "step"));
            CHECK(std::stod(val_y[v++]) == json_value(lines[i], "val_loss"));
        }
    }
    CHECK(v == val_y.size());
    CHECK(v == 4);  // steps 5, 10, 15, 20

    // Section 2: parameters × logged steps; cell (row, col) is that tensor's norm at that step.
    const std::vector<MetricsRecord> records = read_metrics((run / "metrics.jsonl").string());
    std::vector<const MetricsRecord*> logged;
    for (const MetricsRecord& r : records)
        if (!r.grad_norms.empty()) logged.push_back(&r);
    CHECK(logged.size() == 10);
    const NamedTensors parameters = loaded.model->named_parameters();
    for (const char* id : {"grad-norm-heatmap", "update-ratio-heatmap"}) {
        const std::string svg = element(html, "id=\"" + std::string(id) + "\"", "</svg>");
        CHECK(std::stoul(attribute_values(svg, "data-rows").at(0)) == parameters.size());
        CHECK(std::stoul(attribute_values(svg, "data-cols").at(0)) == logged.size());
        const auto rows = attribute_values(svg, "data-row"), cols = attribute_values(svg, "data-col");
        const auto values = attribute_values(svg, "data-value");
        REQUIRE(values.size() == parameters.size() * logged.size());
        for (size_t k = 0; k < values.size(); k += 7) {
            const MetricsRecord& r = *logged[std::stoul(cols[k])];
            const auto& named = std::string(id) == "grad-norm-heatmap" ? r.grad_norms : r.update_ratios;
            const size_t row = std::stoul(rows[k]);
            CHECK(named[row].first == parameters[row].first);
            CHECK(std::stod(values[k]) == named[row].second);
        }
    }
    // The same values as metrics.jsonl's text: the reader parses what the writer wrote.
    CHECK(logged.back()->grad_norms.front().second == json_value(lines.back(), "wte.weight"));

    // Section 4: at each temperature, top-k 5 keeps exactly the 5 most probable; top-p keeps a prefix
    // whose mass reaches 0.9 without its last member.
    for (const char* t : {"0.5", "1", "1.5"}) {
        INFO("temperature " << t);
        const std::string chart = element(html, "id=\"next-token-t" + std::string(t) + "\"", "</svg>");
        const auto probs = attribute_values(chart, "data-prob");
        const auto in_k = attribute_values(chart, "data-top-k"), in_p = attribute_values(chart, "data-top-p");
        REQUIRE(probs.size() >= 5);
        double mass = 0.0;
        for (size_t r = 0; r < probs.size(); ++r) {
            CHECK(in_k[r] == (r < 5 ? "1" : "0"));
            if (r > 0) CHECK(std::stod(probs[r]) <= std::stod(probs[r - 1]));
            if (in_p[r] == "1") CHECK(mass < 0.9);
            else CHECK(mass >= 0.9 - 1e-6);
            mass += std::stod(probs[r]);
        }
        CHECK(mass <= 1.0 + 1e-5);
    }
    const std::string sharp = element(html, "id=\"next-token-t0.5\"", "</svg>");
    const std::string flat = element(html, "id=\"next-token-t1.5\"", "</svg>");
    CHECK(std::stod(attribute_values(sharp, "data-prob")[0]) > std::stod(attribute_values(flat, "data-prob")[0]));

    // Section 5: the per-module counts add up to the model's, the sample is there.
    const std::string table = element(html, "id=\"param-counts\"", "</table>");
    int64_t total = 0;
    for (const std::string& c : attribute_values(table, "data-count")) total += std::stoll(c);
    CHECK(total == loaded.model->parameter_count());
    CHECK(attribute_values(table, "data-module") ==
          std::vector<std::string>{"wte", "wpe", "h.0", "h.1", "ln_f"});
    CHECK(element(html, "<pre id=\"sample\">", "</pre>").size() > std::string("<pre id=\"sample\">").size() + 10);
    CHECK(html.find("report_every = 10") != std::string::npos);
    fs::remove_all(root);
}

TEST_CASE("attention weights reproduce the fused attention op (GQA) and the logits the model's") {
    GPTConfig config;
    config.vocab_size = 13;
    config.block_size = 9;
    config.n_layer = 2;
    config.n_head = 4;
    config.n_kv_head = 2;
    config.n_embd = 16;
    GPT model(config);
    Generator generator(5);
    init_gpt2(model, generator);
    model.eval();
    const std::vector<int32_t> ids{3, 1, 4, 1, 5, 9, 2, 6};
    const int64_t T = 8, H = 4, hd = 4;
    const PromptAnalysis a = analyse_prompt(model, ids);
    REQUIRE(a.attention.size() == static_cast<size_t>(2 * H * T * T));

    NoGradGuard no_grad;
    Tensor x = model.embed(ids, 1, T, generator);
    for (int64_t layer = 0; layer < 2; ++layer) {
        const auto& block = model.h[static_cast<size_t>(layer)];
        const auto& attention = static_cast<const CausalSelfAttention&>(*block->attn);
        const Tensor qkv = attention.c_attn->forward(block->ln_1->forward(x));
        const Tensor fused = causal_self_attention(qkv, H, 2, 0.0f, false, generator);  // [1, T, H·hd]
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < T; ++i) {
                double row = 0.0;
                for (int64_t j = 0; j < T; ++j) {
                    if (j > i) CHECK(a.weight(layer, h, i, j) == 0.0f);
                    row += a.weight(layer, h, i, j);
                }
                CHECK(row == doctest::Approx(1.0).epsilon(1e-6));
                for (int64_t d = 0; d < hd; ++d) {
                    double out = 0.0;  // Σ_j P_ij v_j with v of kv head h / 2
                    for (int64_t j = 0; j <= i; ++j)
                        out += a.weight(layer, h, i, j) * qkv.data()[j * qkv.size(2) + (H + 2 + h / 2) * hd + d];
                    CHECK(out == doctest::Approx(fused.data()[i * H * hd + h * hd + d]).epsilon(1e-5));
                }
            }
        x = block->forward(x, generator);
    }
    const Tensor logits = model.forward(ids, 1, T, generator);
    for (int64_t k = 0; k < config.vocab_size; ++k)
        CHECK(a.next_logits[static_cast<size_t>(k)] ==
              doctest::Approx(logits.data()[(T - 1) * config.vocab_size + k]).epsilon(1e-5));
    model.train();
    CHECK_THROWS_WITH(analyse_prompt(model, ids), doctest::Contains("eval"));
}

TEST_CASE("report text is escaped: markup, quotes, control bytes, invalid UTF-8") {
    CHECK(html_escape("<b>&\"'</b>") == "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;");
    CHECK(html_escape(std::string("a\x01z\x7f")) == "a\\x01z\\x7f");
    CHECK(html_escape("\xff\xc3") == "\\xff\\xc3");                 // invalid and truncated UTF-8
    CHECK(html_escape("caf\xc3\xa9\n") == "caf\xc3\xa9\n");        // whole characters pass
    CHECK(html_escape("a\nb\t", false) == "a\\nb\\t");
    CHECK(token_label(" \n") == "␣\\n");
    CHECK(token_label("<") == "&lt;");
    CHECK(token_label(std::string("\xe2\x82", 2)) == "\\xe2\\x82");  // half a character from a BPE token
    CHECK(token_label("abcdefghijkl", 4) == "abcd…");
}

TEST_CASE("metrics reader: flat objects, null, nested per-parameter objects; errors name the column") {
    const MetricsRecord r = parse_metrics_line(
        "{\"step\": 20, \"tokens_seen\": 960, \"train_loss\": 2.5, \"val_loss\": null, \"lr\": 1e-3, "
        "\"grad_norm\": 0.75, \"tokens_per_s\": 100, \"elapsed_s\": 1.5, \"grad_norms\": {\"wte.weight\": 0.5, "
        "\"h.0.attn.c_attn.bias\": 2e-05}, \"update_ratios\": {}}");
    CHECK(r.step == 20);
    CHECK(r.tokens_seen == 960);
    CHECK(r.train_loss == 2.5);
    CHECK(std::isnan(r.val_loss));
    CHECK(r.lr == 1e-3);
    REQUIRE(r.grad_norms.size() == 2);
    CHECK(r.grad_norms[1].first == "h.0.attn.c_attn.bias");
    CHECK(r.grad_norms[1].second == 2e-05);
    CHECK(r.update_ratios.empty());
    CHECK_THROWS_WITH(parse_metrics_line("{\"step\": }"), doctest::Contains("column 10"));
    CHECK_THROWS_WITH(parse_metrics_line("{\"step\": 1} x"), doctest::Contains("after the closing"));
    // Any JSON: booleans, strings with \u escapes, nested objects and arrays are read and ignored.
    const MetricsRecord n = parse_metrics_line(
        "{\"step\": 7, \"note\": true, \"who\": \"caf\\u00e9\", \"deep\": {\"a\": {\"b\": [1, 2]}}, "
        "\"train_loss\": 1.25, \"grad_norms\": {\"w\": 0.5, \"flag\": false}}");
    CHECK(n.step == 7);
    CHECK(n.train_loss == 1.25);
    REQUIRE(n.grad_norms.size() == 2);
    CHECK(n.grad_norms[0].second == 0.5);
    CHECK(std::isnan(n.grad_norms[1].second));
    // Counts an int64 cannot hold are unknown (-1), not an undefined cast (UBSan, fuzz_config_metrics).
    const MetricsRecord huge = parse_metrics_line("{\"step\": 1e300, \"tokens_seen\": -1e19, \"train_loss\": 1}");
    CHECK(huge.step == -1);
    CHECK(huge.tokens_seen == -1);
    CHECK(parse_metrics_line("{\"step\": 9.2e18}").step == int64_t{9200000000000000000});
    CHECK(parse_metrics_line("{\"step\": -9.3e18}").step == -1);
}

TEST_CASE("a report that cannot be written is a warning, not an exception") {
    const fs::path file = fs::temp_directory_path() / "gpt_test_report_not_a_dir";
    std::ofstream(file) << "x";
    GPTConfig config;
    config.vocab_size = 8;
    config.block_size = 4;
    config.n_layer = 1;
    config.n_head = 1;
    config.n_embd = 8;
    GPT model(config);
    const auto tokenizer = Tokenizer::from_state({"char", {'\n', 'a', 'b', 'c', 'd', 'e', 'f', 'g'},
                                                  {0, 1, 2, 3, 4, 5, 6, 7, 8}, {}, {}});
    std::string message;
    CHECK_NOTHROW(message = write_report_or_warn(file / "run", model, *tokenizer, TrainConfig{}));
    CHECK(message.rfind("warning: report not written", 0) == 0);
    CHECK(model.is_training());  // the mode is restored
    fs::remove(file);
}

TEST_CASE("gpt graph: the tape's DOT names the ops backward walks, parameters and shapes") {
    GraphOptions options;
    options.out = (fs::temp_directory_path() / "gpt_test_graph" / "tape.dot").string();
    fs::remove_all(fs::path(options.out).parent_path());
    const GraphResult result = write_graph(options);
    const std::string dot = read_file(options.out);
    CHECK(dot == result.dot);
    CHECK(dot.rfind("digraph tape {", 0) == 0);
    for (const char* op : {"\"embedding\"", "\"layer_norm\"", "\"add_layer_norm\"", "\"linear\"",
                           "\"causal_self_attention\"", "\"linear_gelu\"", "\"add\"", "\"cross_entropy\""})
        CHECK_MESSAGE(dot.find(std::string("label=") + op) != std::string::npos, op);
    CHECK(dot.find("wte.weight") != std::string::npos);
    CHECK(dot.find("h.0.attn.c_attn.weight") != std::string::npos);
    CHECK(dot.find("[2, 4, 11]") != std::string::npos);  // the logits [B, T, V]
    CHECK(dot.find("loss\\n[]") != std::string::npos);
    // One layer: 2 embeddings, 3 layer norms (ln_1 alone; ln_2 and ln_f fused with the residual add before
    // each, one op drawn with two outputs), 3 linears in the block + the tied head, and c_fc with its GELU
    // (linear_gelu).
    CHECK(count(dot, "label=\"linear\"") == 4);
    CHECK(count(dot, "label=\"linear_gelu\"") == 1);
    CHECK(count(dot, "label=\"gelu\"") == 0);
    CHECK(count(dot, "label=\"layer_norm\"") == 1);
    CHECK(count(dot, "label=\"add_layer_norm\"") == 2);
    CHECK(result.op_nodes == static_cast<int64_t>(count(dot, "shape=box")));
    if (!result.svg_path.empty()) CHECK(read_file(result.svg_path).find("<svg") != std::string::npos);
    fs::remove_all(fs::path(options.out).parent_path());
}

TEST_CASE("report_prompt: the first validation line of 8 tokens or more, else the longest, cut to the cap") {
    const fs::path dir = fs::temp_directory_path() / "gpt_test_report_prompt";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto tokenizer = CharTokenizer::train("abcdefghijklmnopqrstuvwxyz .\n");
    auto prompt_for = [&](const std::string& val_text, int64_t cap) {
        write_token_file(dir / "val.bin", tokenizer->encode(val_text), tokenizer->vocab_size());
        return tokenizer->decode(report_prompt(*tokenizer, dir, "", cap, 64));
    };
    CHECK(prompt_for("ing.\n.\n\nab\nto be or not\nthe question\n", 32) == "to be or not");  // short lines skipped
    CHECK(prompt_for("ing.\n.\n\nab\nto be or not\nthe question\n", 5) == "to be");        // a cap under 8
    CHECK(prompt_for(".\nabc\nab\n", 32) == "abc");                                       // none long enough
    CHECK(prompt_for("no newline at all here", 32) == "no newline at all here");
    CHECK(tokenizer->decode(report_prompt(*tokenizer, dir, "typed", 32, 64)) == "typed");  // the given text
    fs::remove_all(dir);
}
