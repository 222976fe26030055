// The training configuration: one struct, filled by CLI11 from built-in defaults, then a TOML config
// file ([train] table), then command-line flags. The same words everywhere (nanoGPT's names).
//
// Every field is listed once in config_fields() with its name, help and type; that one table drives the
// CLI11 options, the effective-config TOML written into the run folder and each checkpoint, and the
// resume logic ("take the stored value unless the option was given again").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/gpt_config.h"

namespace CLI {
class App;
}

namespace gpt {

struct TrainConfig {
    // model
    int64_t n_layer = 4;
    int64_t n_head = 4;
    int64_t n_kv_head = 0;  // 0: same as n_head
    int64_t n_embd = 128;
    int64_t block_size = 64;
    double dropout = 0.0;
    bool bias = true;
    std::string pos_encoding = "learned";
    // data
    std::string data = "/usr/share/games/fortunes";
    std::string tokenizer = "char";
    std::string tokenizer_files;
    int64_t vocab_pad = 0;  // > 0: pad the model's vocabulary to a multiple of this (GPT-2: 64 -> 50304)  // gpt2: folder with encoder.json + vocab.bpe (data/gpt2_tokenizer.h)
    int64_t vocab_size = 512;  // bpe only; char takes its vocabulary from the text
    double val_fraction = 0.1;
    std::string invalid_utf8 = "error";  // char tokenizer: "error" | "replace" (U+FFFD)
    // training
    int64_t batch_size = 12;
    int64_t grad_accum = 1;
    int64_t max_iters = 2000;
    double lr = 1e-3;
    double min_lr = 1e-4;
    int64_t warmup_iters = 100;
    int64_t lr_decay_iters = 0;  // 0: max_iters
    std::string lr_schedule = "cosine";  // "cosine" | "constant"
    double weight_decay = 0.1;
    double beta1 = 0.9;
    double beta2 = 0.99;
    double grad_clip = 1.0;  // 0 disables clipping
    int64_t eval_interval = 250;
    int64_t eval_iters = 200;
    int64_t log_interval = 10;
    int64_t seed = 1337;
    int64_t threads = 0;  // 0: OMP_NUM_THREADS if set, else the physical core count
    bool skip_nonfinite = false;
    bool profile = false;  // time each op type (forward / backward) and print a table at the end
    // output
    std::string out_dir = "runs/default";
    int64_t ckpt_interval = 0;  // 0: eval_interval
    int64_t keep_last = 0;
    std::string resume;
    std::string init_from;
    int64_t sample_tokens = 300;  // length of the sample printed at the end (0: none)
    int64_t report_every = 0;     // also write report.html every N steps (0: only at the end)

    GPTConfig model_config(int64_t vocab) const;
    // Throws std::invalid_argument naming the first bad option and its value.
    void validate() const;
};

struct ConfigField {
    std::string name;
    std::string help;
    bool shapes_model;  // changing it on resume is refused
    std::function<std::string(const TrainConfig&)> to_toml;           // value as TOML text
    std::function<void(TrainConfig&, const std::string&)> from_text;  // parse a TOML value
};

const std::vector<ConfigField>& config_fields();

// Registers --<name> for every field on `command` (the train subcommand).
void add_config_options(CLI::App& command, TrainConfig& config);

// "[train]\nn_layer = 4\n..." — loadable again with --config.
std::string config_to_toml(const TrainConfig& config);

// Parses the [train] table of TOML text as written by config_to_toml (or by a user), applying only
// keys for which `accept(name)` is true. Throws naming the line for syntax errors or unknown keys.
void apply_toml(TrainConfig& config, const std::string& toml, const std::string& source,
                const std::function<bool(const std::string&)>& accept);

// CLI11 2.1 sets an option with an empty value ("lr =") to its type's zero without complaint, and
// names an unknown key only as "INI was not able to parse": check the file first, with line numbers.
void lint_config_file(const std::string& path);

}  // namespace gpt
