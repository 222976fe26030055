// The five sections of report.html, each a self-contained <section> of HTML with inline SVG.
// Element ids and classes the tests (tests/report/test_report*.cpp) and readers can rely on:
//   1. #loss:      svg#loss-chart (g.series-train, g.series-val: circle.pt[data-x=step][data-y=loss],
//                  line.ref-line.uniform-guess[data-y=ln V]), svg#lr-chart (g.series-lr)
//   2. #gradients: svg#grad-norm-chart (g.series-grad-norm, line.ref-line.clip[data-y=grad_clip]),
//                  svg#grad-norm-heatmap, svg#update-ratio-heatmap (its colour bar: text.tick.mark = 1e-3)
//                  (rect.cell[data-row=parameter][data-col=logged step][data-value])
//   3. #attention: every map an svg.attention-map[data-layer][data-head][data-rows][data-cols],
//                  rect.cell[data-row][data-col][data-value] = weight (no cell where a mask hides the key):
//                    gpt:         #attn-L{l}-H{h}, T×T lower triangle
//                    bert:        #attn-L{l}-H{h}, T×T full (bidirectional)
//                    transformer: #enc-L{l}-H{h} S×S full, #dec-L{l}-H{h} T×T lower triangle,
//                                 #cross-L{l}-H{h} T×S (rows: decoder inputs bos + target; columns: source)
//   4. #next-token: gpt:         svg.next-token-chart#next-token-t{0.5,1,1.5}, rect.bar[data-id][data-prob]
//                                [data-top-k][data-top-p]
//                   bert:        svg.next-token-chart#fill-chart (the [MASK]'s candidates), rect.bar[data-id][data-prob]
//                   transformer: table#predictions, tr[data-position][data-expected] per decoder position,
//                                span.candidate[data-id][data-prob]; svg.next-token-chart#prediction-last
//   5. #model:     pre#config, table#param-counts (tr[data-module][data-count]), td#param-total;
//                  gpt: pre#sample; transformer: table#translations (tr[data-correct]),
//                  p#exact-match[data-correct][data-total]
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "report/report_attention.h"
#include "report/report_data.h"
#include "generate/sampling.h"
#include "nn/module.h"
#include "train/config.h"

namespace gpt {

// The page around the sections: <head> with the style, the <h1> and the meta line (already escaped);
// and its writing, atomically, to run_dir/report.html (returns the path).
std::string report_page_start(const std::string& run_dir, const std::string& meta_html);
std::string write_report_page(const std::filesystem::path& run_dir, std::string html);
// run_dir/metrics.jsonl's records (none when it is missing); run_dir/config.toml's text, else `config`'s.
std::vector<MetricsRecord> run_metrics(const std::filesystem::path& run_dir);
std::string run_config_toml(const std::filesystem::path& run_dir, const TrainConfig& config);

// One attention map: rows × cols weights, row-major (NaN: a masked cell, not drawn); labels escaped.
struct AttentionMap {
    std::string id, title;
    int64_t layer = 0, head = 0;
    std::vector<std::string> row_labels, col_labels;
    std::vector<double> values;
    int64_t per_row = 1;  // maps drawn side by side (sizes the cells to fit the page)
};
std::string attention_map(const AttentionMap& map);

// "12.3%" (two decimals below 10%).
std::string percent(double p);
// The candidates as horizontal bars (svg.next-token-chart#id, rect.bar[data-id][data-prob]).
std::string candidate_bars(const std::string& id, const std::string& title, const std::vector<Candidate>& candidates,
                           const std::function<std::string(int32_t id)>& label);

// What the charts need to know about the run besides its metrics: the reference lines and titles.
struct RunFacts {
    int64_t vocab_size = 0;   // the model's: ln(vocab_size) is the loss of a uniform guess
    double grad_clip = 0.0;   // 0: no clipping
    std::string lr_schedule;  // "cosine" | "constant" | "trapezoidal"
    int64_t warmup_iters = 0;
};

std::string loss_section(const std::vector<MetricsRecord>& records, const RunFacts& run);
std::string gradient_section(const std::vector<MetricsRecord>& records, const RunFacts& run);
std::string attention_section(const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                              const PromptAnalysis& analysis);
// gpt: the next token at three temperatures; bert (analysis.causal false): the ordinary tokens most
// probable at the [MASK] at analysis.position (`hidden`: the token the [MASK] hides, −1 for none).
std::string next_token_section(const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                               const PromptAnalysis& analysis, int32_t hidden = -1);

// Parameter count per module, in registration order: the dotted name up to its first component that is
// not "encoder", "decoder" or "h" ("wte", "wpe", "h.0", "ln_f"; "encoder.h.0", "encoder.ln_f", "lm_head").
std::vector<std::pair<std::string, int64_t>> parameter_counts(const Module& model);

struct SampleShown {
    std::string text;
    std::string how;  // "200 tokens, temperature 0.8, top-k 40, seed 1337"
};
std::string model_section(const GPT& model, const std::string& config_toml, const SampleShown& sample);
// The same frame for any model: the parameter table (with `parameter_note` under it), the config, and
// `shown_html` (a heading and what the model produced) after them.
std::string model_section(const Module& model, const std::string& parameter_note, const std::string& config_toml,
                          const std::string& title, const std::string& shown_html);

}  // namespace gpt
