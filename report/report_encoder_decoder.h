// report.html for an encoder–decoder run (model = transformer), on the GPT's page and sections where
// they apply (report/report_html.h):
//   1. loss, 2. gradients   as the GPT's (metrics.jsonl)
//   3. attention of one source/target pair (report/pair_analysis.h): encoder self-attention S×S,
//      decoder self-attention T×T (causal), cross attention T×S, every layer and head
//   4. the decoder's prediction at each position of that pair: its top candidates, the expected token
//   5. parameters per module, config, and a few held-out translations (greedy) with their exact match
// The pair: ReportOptions source/target, else the run's first held-out example. The held-out examples
// are the run's (config.data split by val_fraction as training splits it); when the file cannot be read
// the page says so and the maps are still drawn (for --source, or a few letters of the vocabulary).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/parallel_corpus.h"
#include "data/tokenizer.h"
#include "nn/encoder_decoder.h"
#include "report/report_html.h"
#include "train/config.h"

namespace gpt {

struct HeldOutPairs {
    std::vector<ParallelExample> examples;
    std::string note;  // why there are none ("" when read)
};

// The run's held-out examples: config.data read with `tokenizer` within the model's contexts, split by
// config.val_fraction. Never throws: a file that is gone or fails to read is a note.
HeldOutPairs read_held_out_pairs(const TrainConfig& config, const Tokenizer& tokenizer,
                                 const EncoderDecoderConfig& model);

// Writes run_dir/report.html (the model is put in eval mode for the duration, then back). Throws
// std::invalid_argument for a bad --source/--target (one line naming the option), std::runtime_error
// when the page cannot be written.
std::string write_encoder_decoder_report(const std::filesystem::path& run_dir, EncoderDecoder& model,
                                         const Tokenizer& tokenizer, const TrainConfig& config,
                                         const HeldOutPairs& held_out, const ReportOptions& options);

// For the training loop: never throws; "report: PATH" or "warning: report not written: WHY".
std::string write_encoder_decoder_report_or_warn(const std::filesystem::path& run_dir, EncoderDecoder& model,
                                                 const Tokenizer& tokenizer, const TrainConfig& config,
                                                 const std::vector<ParallelExample>& held_out);

}  // namespace gpt
