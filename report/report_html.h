// report.html: one self-contained page (inline SVG and CSS, no script, no network) that shows a run:
//   1. train/val loss vs steps and tokens, learning rate     (metrics.jsonl)
//   2. gradient flow: global norm, per-tensor norms and update ratios as heatmaps (metrics.jsonl)
//   3. attention maps of every head of every layer for a prompt   (the model)
//   4. next-token candidates at temperatures 0.5/1/1.5 with top-k 5 / top-p 0.9   (the model)
//   5. config, parameter count per module, a sample             (config.toml, the model)
// model = bert: the maps are full (bidirectional) and section 4 is the candidates for a [MASK];
// model = transformer: report/report_encoder_decoder.h (the maps and predictions of a source/target pair,
// held-out translations). Section ids and element classes: report/report_sections.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "nn/gpt.h"
#include "train/config.h"
#include "train/trainer.h"

namespace gpt {

struct ReportOptions {
    std::string prompt;             // empty: a line of the validation text (see report_prompt);
                                    // bert: a [MASK] in it is the one predicted, else one is put after it
    int64_t sample_tokens = 200;    // length of the sample in section 5 (0: none)
    int64_t max_prompt_tokens = 32;
    // model = transformer: the pair of the maps. source empty: the first held-out example (target must
    // be empty too); target empty: the model's greedy translation of source.
    std::string source, target;
    int64_t translations = 8;  // held-out examples translated in section 5
};

// The prompt of the attention and next-token views: `text` encoded, or when it is empty the first line of
// RUN_DIR/val.bin with at least kMinReportPromptTokens tokens (a map of one or two tokens shows nothing:
// Tiny Shakespeare's validation text starts with short lines), cut at max_tokens and block_size tokens;
// lines are looked for in the first kReportPromptScan tokens, and the longest one seen there is taken
// when none is long enough; default_prompt() when there is no val.bin or no line with text.
inline constexpr int64_t kMinReportPromptTokens = 8;
inline constexpr int64_t kReportPromptScan = 1 << 16;
std::vector<int32_t> report_prompt(const Tokenizer& tokenizer, const std::filesystem::path& run_dir,
                                   const std::string& text, int64_t max_tokens, int64_t block_size);

// Writes run_dir/report.html (atomically: report.html.tmp, then rename) from run_dir/metrics.jsonl,
// run_dir/config.toml (else config) and the given model, which is put in eval mode for the duration and
// returned to its previous mode. Returns the path written. Throws std::runtime_error naming what failed.
std::string write_report(const std::filesystem::path& run_dir, GPT& model, const Tokenizer& tokenizer,
                         const TrainConfig& config, const ReportOptions& options);

// write_report for the training loop: never throws (a report must never cost a run). Returns one line
// for the log: "report: PATH", or "warning: report not written: WHY".
std::string write_report_or_warn(const std::filesystem::path& run_dir, GPT& model, const Tokenizer& tokenizer,
                                 const TrainConfig& config);

// The hooks that make the training loop write the report (every report_every steps and at the end):
// `gpt train` passes them to run_train; train/ itself does not depend on report/.
TrainHooks report_hooks();

// The same from run_dir/ckpt.h5 (or a checkpoint file, whose folder is the run folder), for any model
// kind (model = transformer: write_encoder_decoder_report). --source/--target on a gpt or bert run and
// --prompt on a transformer run are refused (std::invalid_argument).
std::string write_report(const std::string& run_dir_or_checkpoint, const ReportOptions& options);

}  // namespace gpt
