// The training configuration: one struct, filled from built-in defaults, then a TOML config file
// ([train] table), then command-line flags (the command line wins). The same words everywhere
// (nanoGPT's names; a few of nanoGPT's longer names are aliases).
//
// Every field is listed once in config_fields() with its name, help, type and aliases; that one table
// drives the command-line options (cli/options.h), the effective-config TOML written into the run folder
// and each checkpoint, and the resume logic ("take the stored value unless the option was given again").
// Numbers are written as the shortest text that reads back bit-identical (format_double).
#pragma once

#include <cstdint>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/text.h"
#include "nn/encoder_decoder.h"
#include "nn/gpt_config.h"

namespace gpt {

// model = transformer: the encoder–decoder's own options (nn/encoder_decoder.h). The options it shares
// with the GPT are the GPT's: n_head, n_embd, dropout, tie_embeddings, and block_size, the decoder's
// context (bos + target, or target + eos).
struct EncoderDecoderOptions {
    int64_t n_encoder_layer = 3;
    int64_t n_decoder_layer = 3;
    int64_t source_block_size = 0;  // the encoder's context; 0 = block_size
    int64_t dim_feedforward = 0;    // 0 = 4·n_embd
    std::string activation = "relu";
    bool norm_first = false;  // false: the paper's post-norm (with warm-up); true: pre-norm
    bool share_embeddings = true;
    double label_smoothing = 0.0;  // of the training loss; validation reports the plain cross-entropy
};

struct TrainConfig {
    // "gpt" (decoder-only, next-token loss on a text) | "bert" (the GPT's modules with bidirectional
    // attention, masked-LM loss on a text: data/masked_lm.h; model_config() sets GPTConfig::kind) |
    // "transformer" (encoder–decoder on a parallel corpus of source<TAB>target lines,
    // data/parallel_corpus.h). train/training_model.h.
    std::string model_kind = "gpt";
    EncoderDecoderOptions encoder_decoder = EncoderDecoderOptions();  // (as `model` below: GCC 12)
    // model: the options n_layer, n_head, n_kv_head, n_embd, block_size, dropout, bias, pos_encoding.
    // model.vocab_size is not an option: the tokenizer decides it (model_config()).
    GPTConfig model = GPTConfig();  // (not "model;": GCC 12 then warns -Wmaybe-uninitialized on TrainConfig{})
    // data
    std::string data = "/usr/share/games/fortunes";
    std::string tokenizer = "char";
    std::string tokenizer_files;  // gpt2: folder with encoder.json + vocab.bpe (data/gpt2_tokenizer.h)
    int64_t vocab_pad = 0;        // > 0: pad the model's vocabulary to a multiple of this (GPT-2: 64 -> 50304)
    int64_t vocab_size = 512;  // bpe only; char takes its vocabulary from the text
    double val_fraction = 0.1;
    std::string invalid_utf8 = "error";  // char tokenizer: "error" | "replace" (U+FFFD)
    // training
    int64_t batch_size = 12;
    int64_t grad_accum = 1;
    int64_t max_iters = 2000;
    double lr = 1e-3;
    // NaN (the default, which no option or file can spell): lr / 10, as nanoGPT advises, so that a
    // fine-tune at --lr 3e-5 gets 3e-6. start_run resolves it; config.toml records the number.
    double min_lr = std::numeric_limits<double>::quiet_NaN();
    int64_t warmup_iters = 100;
    int64_t lr_decay_iters = 0;  // 0: max_iters
    std::string lr_schedule = "cosine";  // "cosine" | "constant" | "trapezoidal"
    double decay_fraction = 0.2;  // trapezoidal: the linear decay takes this fraction of the run's end
    // Sequence-length warm-up: the first seq_warmup_iters steps train on windows that grow linearly from
    // seq_warmup_start tokens to block_size (0 in either: off). optim/schedule.h sequence_length_at.
    int64_t seq_warmup_start = 0;
    int64_t seq_warmup_iters = 0;
    double weight_decay = 0.1;
    double beta1 = 0.9;
    double beta2 = 0.99;
    double grad_clip = 1.0;  // 0 disables clipping
    // "adamw", or "muon": Muon (optim/muon.h) for the 2-D weights inside the blocks, AdamW for the rest.
    // Muon's learning rate follows the same schedule, scaled by muon_lr / lr.
    std::string optimizer = "adamw";
    double muon_lr = 0.02;
    double muon_momentum = 0.95;
    bool muon_nesterov = true;
    int64_t muon_ns_steps = 5;
    double muon_ns_a = 3.4445, muon_ns_b = -4.7750, muon_ns_c = 2.0315;
    double muon_weight_decay = 0.0;
    int64_t eval_interval = 250;
    int64_t eval_iters = 200;
    int64_t log_interval = 10;
    int64_t seed = 1337;
    int64_t threads = 0;  // 0: OMP_NUM_THREADS if set, else the physical core count
    bool skip_nonfinite = false;
    // AdamW inside backward (optim/adamw_in_backward.h): no full set of gradients in memory (GPT-2 124M:
    // 0.3 GiB less). Same bits; needs grad_clip 0, grad_accum 1 and one process.
    bool optimizer_in_backward = false;
    bool zero1 = false;  // data-parallel runs: shard the AdamW moments across the ranks (train/zero1.h)
    bool profile = false;  // time each op type (forward / backward) and print a table at the end
    // output
    std::string out_dir = "runs/default";
    int64_t ckpt_interval = 0;  // 0: eval_interval
    int64_t keep_last = 0;
    std::string resume;
    std::string init_from;
    int64_t sample_tokens = 300;  // length of the sample printed at the end (0: none)
    int64_t eval_sample_tokens = 100;  // tokens sampled at each evaluation into metrics.jsonl (0: none)
    int64_t report_every = 0;     // also write report.html every N steps (0: only at the end)

    // Not a config field (never stored, never taken from a checkpoint): --overwrite allows replacing a
    // run folder's run, or branching from an older checkpoint (train/run_folder.h).
    bool overwrite = false;

    // min_lr as given, or lr / 10 when it was not (in decimal: lr 0.003 gives 0.0003, not the binary
    // quotient 0.00030000000000000003).
    double effective_min_lr() const;
    // `model` with the tokenizer's vocabulary size.
    GPTConfig model_config(int64_t vocab) const;
    // model = transformer: the encoder–decoder with `vocab` tokens (the tokenizer's + bos and eos) on both sides.
    EncoderDecoderConfig encoder_decoder_config(int64_t vocab) const;
    // Throws std::invalid_argument naming the first bad option and its value.
    void validate() const;
};

struct ConfigField {
    std::string name;
    std::string help;
    bool shapes_model;  // changing it on resume is refused
    std::function<std::string(const TrainConfig&)> to_toml;           // value as TOML text
    std::function<void(TrainConfig&, const std::string&)> from_text;  // parse a value; throws without the name
    std::string type;                  // INT, FLOAT, BOOL, TEXT or PATH (a text naming a file; what --help shows)
    std::vector<std::string> aliases;  // other accepted names (nanoGPT's), on the command line and in files
    std::string default_note;          // --help's "(default ...)" when it is not a fixed value ("lr / 10")
};

const std::vector<ConfigField>& config_fields();

// The field named `name` or one of its aliases; nullptr when there is none.
const ConfigField* find_config_field(const std::string& name);

// "[train]\nn_layer = 4\n..." — loadable again with --config.
std::string config_to_toml(const TrainConfig& config);

// Parses the [train] table of TOML text as written by config_to_toml (or by a user), applying only
// keys for which `accept(name)` is true (`name` is the field's own name, also for an alias).
// Throws naming the line for syntax errors or unknown keys (with a did-you-mean suggestion).
void apply_toml(TrainConfig& config, const std::string& toml, const std::string& source,
                const std::function<bool(const std::string&)>& accept);

// Checks the whole file (syntax, unknown keys, every value) with file:line in each message.
void lint_config_file(const std::string& path);

// lint_config_file, then applies the keys for which accept(name) holds; returns the fields' names of
// every key the file sets.
std::vector<std::string> apply_config_file(TrainConfig& config, const std::string& path,
                                           const std::function<bool(const std::string&)>& accept);

}  // namespace gpt
