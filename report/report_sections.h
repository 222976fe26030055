// The five sections of report.html, each a self-contained <section> of HTML with inline SVG.
// Element ids and classes the test (tests/train/test_report.cpp) and readers can rely on:
//   1. #loss:      svg#loss-chart (g.series-train, g.series-val: circle.pt[data-x=step][data-y=loss],
//                  line.ref-line.uniform-guess[data-y=ln V]), svg#lr-chart (g.series-lr)
//   2. #gradients: svg#grad-norm-chart (g.series-grad-norm, line.ref-line.clip[data-y=grad_clip]),
//                  svg#grad-norm-heatmap, svg#update-ratio-heatmap (its colour bar: text.tick.mark = 1e-3)
//                  (rect.cell[data-row=parameter][data-col=logged step][data-value])
//   3. #attention: one svg.attention-map#attn-L{layer}-H{head} per head, rect.cell[data-value] = weight
//   4. #next-token: svg.next-token-chart#next-token-t{0.5,1,1.5}, rect.bar[data-id][data-prob]
//                   [data-top-k][data-top-p]
//   5. #model:     pre#config, table#param-counts, pre#sample
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "report/report_attention.h"
#include "report/report_data.h"

namespace gpt {

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
std::string next_token_section(const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                               const std::vector<float>& logits);

// Parameter count per module: the dotted name up to its first component, or two for the blocks
// ("wte", "wpe", "h.0", "h.1", "ln_f"), in registration order.
std::vector<std::pair<std::string, int64_t>> parameter_counts(const GPT& model);

struct SampleShown {
    std::string text;
    std::string how;  // "200 tokens, temperature 0.8, top-k 40, seed 1337"
};
std::string model_section(const GPT& model, const std::string& config_toml, const SampleShown& sample);

}  // namespace gpt
