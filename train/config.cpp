#include "train/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "common/regular_file.h"
#include "train/optimizer_setup.h"

namespace gpt {

namespace {
constexpr int64_t kMaxConfigFileBytes = 1 << 20;  // a config is a few hundred bytes; 1 MiB is no config
}  // namespace
namespace {

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string unquote(const std::string& value) {
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
        if (value.back() != value.front()) throw std::invalid_argument("unterminated string " + value);
        std::string out;
        for (size_t i = 1; i + 1 < value.size(); ++i) {
            if (value[i] == '\\' && value.front() == '"' && i + 2 < value.size()) ++i;
            out += value[i];
        }
        return out;
    }
    return value;
}

// `member(config)` is the field's value in a TrainConfig (const or not).
template <class T, class Member>
ConfigField make_field(const char* name, Member member, const char* help, bool shapes_model) {
    ConfigField f{name, help, shapes_model, nullptr, nullptr, "", {}, ""};
    if constexpr (std::is_same_v<T, int64_t>) {
        f.type = "INT";
        f.to_toml = [member](const TrainConfig& c) { return std::to_string(member(c)); };
        f.from_text = [member](TrainConfig& c, const std::string& v) { member(c) = parse_int64(v); };
    } else if constexpr (std::is_same_v<T, double>) {
        f.type = "FLOAT";
        f.to_toml = [member](const TrainConfig& c) { return format_double(member(c)); };
        f.from_text = [member](TrainConfig& c, const std::string& v) { member(c) = parse_double(v); };
    } else if constexpr (std::is_same_v<T, bool>) {
        f.type = "BOOL";
        f.to_toml = [member](const TrainConfig& c) { return std::string(member(c) ? "true" : "false"); };
        f.from_text = [member](TrainConfig& c, const std::string& v) { member(c) = parse_bool(v); };
    } else {
        f.type = "TEXT";
        f.to_toml = [member](const TrainConfig& c) { return quote(member(c)); };
        f.from_text = [member](TrainConfig& c, const std::string& v) { member(c) = unquote(v); };
    }
    return f;
}

template <class T>
ConfigField field(const char* name, T TrainConfig::*member, const char* help, bool shapes_model = false) {
    return make_field<T>(name, [member](auto& c) -> auto& { return c.*member; }, help, shapes_model);
}

// An option that sets a field of the model's shape (TrainConfig::model).
template <class T>
ConfigField model_field(const char* name, T GPTConfig::*member, const char* help, bool shapes_model = true) {
    return make_field<T>(name, [member](auto& c) -> auto& { return c.model.*member; }, help, shapes_model);
}

// An option of the encoder–decoder (model = transformer).
template <class T>
ConfigField encoder_decoder_field(const char* name, T EncoderDecoderOptions::*member, const char* help,
                                  bool shapes_model = true) {
    return make_field<T>(name, [member](auto& c) -> auto& { return c.encoder_decoder.*member; }, help, shapes_model);
}

ConfigField aliased(ConfigField f, std::vector<std::string> aliases) {
    f.aliases = std::move(aliases);
    return f;
}

// min_lr: written as the number it resolves to (lr / 10 unless given), so config.toml and checkpoints
// always hold a number.
ConfigField min_lr_field() {
    ConfigField f = field("min_lr", &TrainConfig::min_lr, "learning rate at the end of the cosine decay");
    f.to_toml = [](const TrainConfig& c) { return format_double(c.effective_min_lr()); };
    f.default_note = "lr / 10";
    return f;
}

// A text field that names a file or folder (shown as PATH in --help).
ConfigField path(ConfigField f) {
    f.type = "PATH";
    return f;
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
    static const std::vector<ConfigField> fields = {
        field("model", &TrainConfig::model_kind,
              "gpt (decoder-only, on a text) | bert (encoder-only: bidirectional, masked tokens; gpt fill) | "
              "transformer (encoder-decoder, on source<TAB>target lines)", true),
        model_field("n_layer", &GPTConfig::n_layer, "transformer blocks"),
        model_field("n_head", &GPTConfig::n_head, "query heads per attention layer"),
        model_field("n_kv_head", &GPTConfig::n_kv_head, "key/value heads; 0 = n_head, 1 = multi-query"),
        model_field("n_embd", &GPTConfig::n_embd, "embedding width C, in channels"),
        model_field("block_size", &GPTConfig::block_size, "context length T, in tokens"),
        model_field("dropout", &GPTConfig::dropout, "dropout probability, in training only", false),
        model_field("bias", &GPTConfig::bias, "biases in Linear and LayerNorm layers"),
        model_field("pos_encoding", &GPTConfig::pos_encoding, "position encoding: learned | sinusoidal | rope"),
        model_field("attention", &GPTConfig::attention, "attention: mha (with n_kv_head: GQA, MQA) | mla (latent)"),
        model_field("kv_latent_dim", &GPTConfig::kv_latent_dim, "mla: cached latent width d_c per token and layer"),
        model_field("q_latent_dim", &GPTConfig::q_latent_dim, "mla: query latent width d_c'; 0 = no query compression"),
        model_field("rope_head_dim", &GPTConfig::rope_head_dim, "mla + rope: decoupled rotary width d_R; 0 = head_dim/2"),
        model_field("norm", &GPTConfig::norm, "normalisation of ln_1, ln_2, ln_f: layernorm | rmsnorm (no bias)"),
        model_field("mlp", &GPTConfig::mlp, "MLP activation: gelu | relu2 (squared ReLU) | swiglu"),
        model_field("mlp_hidden", &GPTConfig::mlp_hidden, "MLP hidden width; 0 = 4·n_embd (swiglu: 8/3·n_embd rounded up to 64)"),
        model_field("qk_norm", &GPTConfig::qk_norm, "RMSNorm each query and key head before attention (mha only)"),
        model_field("tie_embeddings", &GPTConfig::tie_embeddings, "output head shares wte's weight; false: lm_head.weight of its own"),
        encoder_decoder_field("n_encoder_layer", &EncoderDecoderOptions::n_encoder_layer, "transformer: encoder layers"),
        encoder_decoder_field("n_decoder_layer", &EncoderDecoderOptions::n_decoder_layer, "transformer: decoder layers"),
        encoder_decoder_field("source_block_size", &EncoderDecoderOptions::source_block_size,
                              "transformer: the encoder's context in tokens; 0 = block_size (the decoder's)"),
        encoder_decoder_field("dim_feedforward", &EncoderDecoderOptions::dim_feedforward,
                              "transformer: feed-forward width; 0 = 4·n_embd"),
        encoder_decoder_field("activation", &EncoderDecoderOptions::activation,
                              "transformer: feed-forward activation: relu | gelu | gelu_tanh"),
        encoder_decoder_field("norm_first", &EncoderDecoderOptions::norm_first,
                              "transformer: pre-norm; false = the paper's post-norm (give it a warm-up)"),
        encoder_decoder_field("share_embeddings", &EncoderDecoderOptions::share_embeddings,
                              "transformer: one embedding table for source and target tokens"),
        encoder_decoder_field("label_smoothing", &EncoderDecoderOptions::label_smoothing,
                              "transformer: label smoothing of the training loss (the paper: 0.1)", false),
        path(aliased(field("data", &TrainConfig::data,
                           "text file or folder of text files; model = transformer: a file of source<TAB>target lines"),
                     {"dataset"})),
        field("tokenizer", &TrainConfig::tokenizer, "tokenizer: char | bpe | gpt2", true),
        path(field("tokenizer_files", &TrainConfig::tokenizer_files,
                   "gpt2 only: folder with encoder.json + vocab.bpe (or vocab.json + merges.txt)")),
        field("vocab_size", &TrainConfig::vocab_size, "vocabulary size of the BPE tokenizer (bpe only)", true),
        field("vocab_pad", &TrainConfig::vocab_pad,
              "pad the model's vocabulary to a multiple of N; padded ids get no loss and are never sampled; 0 = off",
              true),
        field("val_fraction", &TrainConfig::val_fraction, "fraction of tokens held out for validation"),
        field("invalid_utf8", &TrainConfig::invalid_utf8, "char tokenizer on invalid UTF-8: error | replace"),
        field("batch_size", &TrainConfig::batch_size, "sequences per micro-batch B"),
        aliased(field("grad_accum", &TrainConfig::grad_accum, "micro-batches per optimizer step"),
                {"gradient_accumulation_steps"}),
        field("max_iters", &TrainConfig::max_iters, "total optimizer steps of the run (also when resuming)"),
        aliased(field("lr", &TrainConfig::lr, "peak learning rate"), {"learning_rate"}),
        min_lr_field(),
        field("warmup_iters", &TrainConfig::warmup_iters, "linear warm-up steps"),
        field("lr_decay_iters", &TrainConfig::lr_decay_iters, "step where the cosine reaches min_lr; 0 = max_iters"),
        field("lr_schedule", &TrainConfig::lr_schedule,
              "learning-rate schedule after warm-up: cosine | constant | trapezoidal (stable, then linear decay)"),
        field("decay_fraction", &TrainConfig::decay_fraction,
              "trapezoidal: fraction of the run (up to lr_decay_iters, 0 = max_iters) spent in the linear decay to min_lr"),
        field("seq_warmup_start", &TrainConfig::seq_warmup_start,
              "sequence-length warm-up: first steps' context in tokens, growing to block_size; 0 = off"),
        field("seq_warmup_iters", &TrainConfig::seq_warmup_iters, "sequence-length warm-up: steps to reach block_size; 0 = off"),
        field("weight_decay", &TrainConfig::weight_decay, "AdamW decoupled weight decay (matrices only)"),
        field("beta1", &TrainConfig::beta1, "AdamW beta1"),
        field("beta2", &TrainConfig::beta2, "AdamW beta2"),
        field("grad_clip", &TrainConfig::grad_clip, "clip the global gradient norm at this value; 0 = off"),
        field("optimizer", &TrainConfig::optimizer,
              "adamw | muon (Muon for the 2-D weights inside the blocks, AdamW for embeddings, head, gains, biases)"),
        field("muon_lr", &TrainConfig::muon_lr, "muon: peak learning rate of the Muon matrices (same schedule as lr)"),
        field("muon_momentum", &TrainConfig::muon_momentum, "muon: momentum"),
        field("muon_nesterov", &TrainConfig::muon_nesterov, "muon: Nesterov momentum"),
        field("muon_ns_steps", &TrainConfig::muon_ns_steps, "muon: Newton-Schulz iterations per step"),
        field("muon_ns_a", &TrainConfig::muon_ns_a, "muon: Newton-Schulz coefficient a (of a*X + b*A*X + c*A*A*X)"),
        field("muon_ns_b", &TrainConfig::muon_ns_b, "muon: Newton-Schulz coefficient b"),
        field("muon_ns_c", &TrainConfig::muon_ns_c, "muon: Newton-Schulz coefficient c"),
        field("muon_weight_decay", &TrainConfig::muon_weight_decay, "muon: decoupled weight decay of the Muon matrices"),
        field("eval_interval", &TrainConfig::eval_interval, "steps between validation evaluations"),
        field("eval_iters", &TrainConfig::eval_iters, "validation batches per evaluation"),
        field("log_interval", &TrainConfig::log_interval, "steps between log lines / metrics records"),
        field("seed", &TrainConfig::seed, "seed of every random draw"),
        field("threads", &TrainConfig::threads, "worker threads (per rank); 0 = OMP_NUM_THREADS, else the physical cores / ranks on the machine"),
        field("skip_nonfinite", &TrainConfig::skip_nonfinite, "skip a step with a NaN/Inf gradient instead of stopping"),
        field("optimizer_in_backward", &TrainConfig::optimizer_in_backward,
              "update each weight inside backward, once its gradient is complete: less memory, same result; "
              "needs grad_clip 0, grad_accum 1, one process"),
        field("zero1", &TrainConfig::zero1, "under mpirun: each rank keeps the AdamW moments of 1/N of the weights (ZeRO-1)"),
        field("profile", &TrainConfig::profile, "print time per op type (forward/backward, evaluation included) at the end"),
        path(field("out_dir", &TrainConfig::out_dir, "run folder (checkpoints, metrics.jsonl, config.toml)")),
        field("ckpt_interval", &TrainConfig::ckpt_interval, "steps between checkpoints; 0 = eval_interval"),
        field("keep_last", &TrainConfig::keep_last, "periodic checkpoint copies to keep besides ckpt.h5"),
        path(field("resume", &TrainConfig::resume, "run folder or checkpoint to continue exactly")),
        path(field("init_from", &TrainConfig::init_from, "checkpoint whose weights start a new run (fine-tuning)")),
        field("sample_tokens", &TrainConfig::sample_tokens, "tokens sampled at the end of training; 0 = none"),
        field("eval_sample_tokens", &TrainConfig::eval_sample_tokens,
              "tokens sampled at each evaluation, kept in metrics.jsonl (gpt serve shows them); 0 = none"),
        field("report_every", &TrainConfig::report_every, "also write report.html every N steps; 0 = only at the end"),
    };
    return fields;
}

double TrainConfig::effective_min_lr() const {
    if (!std::isnan(min_lr)) return min_lr;
    // The shortest decimal of lr with its exponent lowered by one: exactly the decimal lr / 10.
    char text[64];
    const auto result = std::to_chars(text, text + sizeof text - 8, lr, std::chars_format::scientific);
    const std::string decimal(text, result.ptr);
    const size_t e = decimal.find('e');
    if (result.ec != std::errc() || e == std::string::npos || !std::isfinite(lr)) return lr / 10.0;
    return std::strtod((decimal.substr(0, e) + "e" + std::to_string(std::stoi(decimal.substr(e + 1)) - 1)).c_str(), nullptr);
}

GPTConfig TrainConfig::model_config(int64_t vocab) const {
    GPTConfig m = model;
    m.kind = model_kind == "bert" ? "bert" : "gpt";
    m.vocab_size = vocab;
    if (vocab_pad > 0 && vocab % vocab_pad != 0) {
        m.vocab_size = (vocab + vocab_pad - 1) / vocab_pad * vocab_pad;
        m.vocab_used = vocab;
    }
    return m;
}

EncoderDecoderConfig TrainConfig::encoder_decoder_config(int64_t vocab) const {
    const EncoderDecoderOptions& o = encoder_decoder;
    EncoderDecoderConfig c;
    c.source_vocab_size = c.target_vocab_size = vocab;
    c.source_block_size = o.source_block_size > 0 ? o.source_block_size : model.block_size;
    c.target_block_size = model.block_size;
    c.n_encoder_layer = o.n_encoder_layer;
    c.n_decoder_layer = o.n_decoder_layer;
    c.n_head = model.n_head;
    c.n_embd = model.n_embd;
    c.dim_feedforward = o.dim_feedforward;
    c.dropout = model.dropout;
    c.activation = o.activation;
    c.norm_first = o.norm_first;
    c.share_embeddings = o.share_embeddings;
    c.tie_embeddings = model.tie_embeddings;
    return c;
}

namespace {

// model = transformer: the encoder–decoder's options, and the GPT-only ones it cannot take.
void validate_encoder_decoder(const TrainConfig& c) {
    auto require = [](bool ok, const std::string& message) {
        if (!ok) throw std::invalid_argument(message);
    };
    require(c.encoder_decoder.source_block_size >= 0,
            "source_block_size must not be negative, got " + std::to_string(c.encoder_decoder.source_block_size));
    require(c.encoder_decoder.dim_feedforward >= 0,
            "dim_feedforward must not be negative, got " + std::to_string(c.encoder_decoder.dim_feedforward));
    try {
        c.encoder_decoder_config(256).validate();
    } catch (const std::invalid_argument& e) {  // "encoder-decoder config: n_encoder_layer must be positive, ..."
        throw std::invalid_argument(std::string("model transformer: ") + e.what());
    }
    const double eps = c.encoder_decoder.label_smoothing;
    require(eps >= 0.0 && eps < 1.0, "label_smoothing must be in [0, 1), got " + format_double(eps));
    auto unsupported = [&](bool ok, const std::string& what) {
        require(ok, "model transformer does not take " + what + " (a model = gpt option)");
    };
    unsupported(c.vocab_pad == 0, "vocab_pad");
    unsupported(c.seq_warmup_start == 0 && c.seq_warmup_iters == 0, "a sequence-length warm-up");

}

}  // namespace

void TrainConfig::validate() const {
    auto require = [](bool ok, const std::string& message) {
        if (!ok) throw std::invalid_argument(message);
    };
    auto positive = [&](const char* name, int64_t v) {
        require(v > 0, std::string(name) + " must be positive, got " + std::to_string(v));
    };
    auto non_negative = [&](const char* name, int64_t v) {
        require(v >= 0, std::string(name) + " must not be negative, got " + std::to_string(v));
    };
    require(model_kind == "gpt" || model_kind == "bert" || model_kind == "transformer",
            "model must be \"gpt\", \"bert\" or \"transformer\", got \"" + model_kind + "\"");
    if (model_kind == "transformer") validate_encoder_decoder(*this);
    model_config(tokenizer == "bpe" ? vocab_size : tokenizer == "gpt2" ? 50257 : 256).validate();
    require(tokenizer == "char" || tokenizer == "bpe" || tokenizer == "gpt2",
            "tokenizer must be \"char\", \"bpe\" or \"gpt2\", got \"" + tokenizer + "\"");
    require(tokenizer != "gpt2" || !tokenizer_files.empty() || !init_from.empty() || !resume.empty(),
            "tokenizer gpt2 needs tokenizer_files (a folder with encoder.json + vocab.bpe)");
    if (tokenizer == "bpe")
        require(vocab_size >= 257 && vocab_size <= 65536,
                "vocab_size must be in [257, 65536] for bpe (256 bytes + merges + <|endoftext|>), got " +
                    std::to_string(vocab_size));
    non_negative("vocab_pad", vocab_pad);
    require(val_fraction > 0.0 && val_fraction < 1.0, "val_fraction must be in (0, 1), got " + format_double(val_fraction));
    require(invalid_utf8 == "error" || invalid_utf8 == "replace",
            "invalid_utf8 must be \"error\" or \"replace\", got \"" + invalid_utf8 + "\"");
    positive("batch_size", batch_size);
    positive("grad_accum", grad_accum);
    non_negative("max_iters", max_iters);
    require(lr > 0.0 && std::isfinite(lr), "lr must be positive, got " + format_double(lr));
    require(std::isnan(min_lr) || (min_lr >= 0.0 && min_lr <= lr),
            "min_lr must be in [0, lr], got " + format_double(min_lr));
    non_negative("warmup_iters", warmup_iters);
    non_negative("lr_decay_iters", lr_decay_iters);
    require(lr_schedule == "cosine" || lr_schedule == "constant" || lr_schedule == "trapezoidal",
            "lr_schedule must be \"cosine\", \"constant\" or \"trapezoidal\", got \"" + lr_schedule + "\"");
    require(decay_fraction > 0.0 && decay_fraction <= 1.0, "decay_fraction must be in (0, 1], got " + format_double(decay_fraction));
    non_negative("seq_warmup_start", seq_warmup_start);
    non_negative("seq_warmup_iters", seq_warmup_iters);
    require(model_kind != "bert" || seq_warmup_start == 0 || seq_warmup_start >= 3,
            "seq_warmup_start must be 0 or at least 3 for model bert ([CLS] + a token + [SEP]), got " +
                std::to_string(seq_warmup_start));
    require(seq_warmup_start <= model.block_size, "seq_warmup_start (" + std::to_string(seq_warmup_start) +
                                                      ") must be at most block_size (" + std::to_string(model.block_size) + ")");
    require(weight_decay >= 0.0, "weight_decay must not be negative, got " + format_double(weight_decay));
    require(beta1 >= 0.0 && beta1 < 1.0, "beta1 must be in [0, 1), got " + format_double(beta1));
    require(beta2 >= 0.0 && beta2 < 1.0, "beta2 must be in [0, 1), got " + format_double(beta2));
    require(grad_clip >= 0.0, "grad_clip must not be negative, got " + format_double(grad_clip));
    // Clipping needs the global norm, i.e. every gradient, before the first update; a gradient is
    // complete only after the last micro-batch.
    require(!optimizer_in_backward || grad_clip == 0.0,
            "optimizer_in_backward needs grad_clip 0 (clipping needs every gradient before the first update), got "
            "grad_clip " + format_double(grad_clip));
    require(!optimizer_in_backward || grad_accum == 1,
            "optimizer_in_backward needs grad_accum 1 (a gradient is complete only after the last micro-batch), got " +
                std::to_string(grad_accum));
    require(optimizer == "adamw" || optimizer == "muon",
            "optimizer must be \"adamw\" or \"muon\", got \"" + optimizer + "\"");
    require(optimizer != "muon" || !optimizer_in_backward,
            "optimizer muon cannot run inside backward (optimizer_in_backward is AdamW only)");
    muon_options(*this).validate();  // Muon's own check, on the float values it will run with (optim/muon.h)
    positive("eval_interval", eval_interval);
    positive("eval_iters", eval_iters);
    positive("log_interval", log_interval);
    require(seed >= 0, "seed must not be negative, got " + std::to_string(seed));
    non_negative("threads", threads);
    non_negative("ckpt_interval", ckpt_interval);
    non_negative("keep_last", keep_last);
    non_negative("sample_tokens", sample_tokens);
    non_negative("eval_sample_tokens", eval_sample_tokens);
    non_negative("report_every", report_every);
    require(!out_dir.empty(), "out_dir must not be empty");
    require(resume.empty() || init_from.empty(), "resume and init_from cannot be used together");
}

std::string config_to_toml(const TrainConfig& config) {
    std::string out = "[train]\n";
    for (const ConfigField& f : config_fields()) out += f.name + " = " + f.to_toml(config) + "\n";
    return out;
}

namespace {

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// Drops a trailing "# comment" that is not inside quotes.
std::string strip_comment(const std::string& line) {
    char quote_char = 0;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote_char) {
            if (c == '\\' && quote_char == '"') ++i;
            else if (c == quote_char) quote_char = 0;
        } else if (c == '"' || c == '\'') {
            quote_char = c;
        } else if (c == '#') {
            return line.substr(0, i);
        }
    }
    return line;
}

std::vector<std::string> all_config_names() {
    std::vector<std::string> names;
    for (const ConfigField& f : config_fields()) {
        names.push_back(f.name);
        names.insert(names.end(), f.aliases.begin(), f.aliases.end());
    }
    return names;
}

// Calls visit(field name, value, "file:line: key as written") for every key of the [train] table;
// throws on anything else.
void parse_train_table(const std::string& toml, const std::string& source,
                       const std::function<void(const std::string&, const std::string&, const std::string&)>& visit) {
    std::istringstream in(toml);
    std::string raw;
    int line_number = 0;
    std::string section;
    std::map<std::string, std::string> seen;  // field name → where its first key was
    while (std::getline(in, raw)) {
        ++line_number;
        const std::string where = source + ":" + std::to_string(line_number);
        const std::string line = trim(strip_comment(raw));
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']') throw std::invalid_argument(where + ": malformed table header '" + line + "'");
            section = trim(line.substr(1, line.size() - 2));
            if (section != "train")
                throw std::invalid_argument(where + ": unknown table [" + section + "] (options go under [train])");
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string::npos) throw std::invalid_argument(where + ": expected 'key = value', got '" + line + "'");
        const std::string key = trim(line.substr(0, equals));
        const std::string value = trim(line.substr(equals + 1));
        if (section != "train")
            throw std::invalid_argument(where + ": key '" + key + "' outside the [train] table");
        const ConfigField* field = find_config_field(key);
        if (!field) {
            const std::string suggestion = closest_name(key, all_config_names());
            throw std::invalid_argument(where + ": unknown key '" + key + "'" +
                                        (suggestion.empty() ? "" : "; did you mean " + suggestion + "?"));
        }
        if (value.empty()) throw std::invalid_argument(where + ": key '" + key + "' has no value");
        if ((value.front() == '"' || value.front() == '\'') && (value.size() < 2 || value.back() != value.front()))
            throw std::invalid_argument(where + ": unterminated string for key '" + key + "'");
        const auto [first, inserted] = seen.emplace(field->name, where);
        if (!inserted)
            throw std::invalid_argument(where + ": key '" + key + "' sets " + field->name + ", already set at " +
                                        first->second);
        visit(field->name, value, where + ": " + key);
    }
}

}  // namespace

void apply_toml(TrainConfig& config, const std::string& toml, const std::string& source,
                const std::function<bool(const std::string&)>& accept) {
    parse_train_table(toml, source, [&](const std::string& key, const std::string& value, const std::string& where) {
        if (!accept(key)) return;
        try {
            find_config_field(key)->from_text(config, value);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(where + ": " + e.what());
        }
    });
}

namespace {

std::string read_config_file(const std::string& path) {
    try {
        require_regular_file(path, "config file", kMaxConfigFileBytes);  // not a FIFO, device or 4 GB file
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("config file " + path + " cannot be read (missing?)");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

void lint_config_file(const std::string& path) {
    TrainConfig scratch;
    apply_toml(scratch, read_config_file(path), path, [](const std::string&) { return true; });
}

std::vector<std::string> apply_config_file(TrainConfig& config, const std::string& path,
                                           const std::function<bool(const std::string&)>& accept) {
    const std::string text = read_config_file(path);
    TrainConfig scratch;
    apply_toml(scratch, text, path, [](const std::string&) { return true; });  // every value checked
    std::vector<std::string> keys;
    apply_toml(config, text, path, [&](const std::string& name) {
        keys.push_back(name);
        return accept(name);
    });
    return keys;
}

const ConfigField* find_config_field(const std::string& name) {
    for (const ConfigField& f : config_fields()) {
        if (f.name == name) return &f;
        for (const std::string& alias : f.aliases)
            if (alias == name) return &f;
    }
    return nullptr;
}

}  // namespace gpt
