#include "train/config.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace gpt {
namespace {

std::string format_double(double v) {
    std::ostringstream out;
    out.precision(17);
    out << v;
    std::string s = out.str();
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // TOML floats need a '.' or exponent
    return s;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string unquote(const std::string& value, const std::string& where) {
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
        if (value.back() != value.front()) throw std::invalid_argument(where + ": unterminated string " + value);
        std::string out;
        for (size_t i = 1; i + 1 < value.size(); ++i) {
            if (value[i] == '\\' && value.front() == '"' && i + 2 < value.size()) ++i;
            out += value[i];
        }
        return out;
    }
    return value;
}

template <class T>
ConfigField field(const char* name, T TrainConfig::*member, const char* help, bool shapes_model = false) {
    ConfigField f{name, help, shapes_model, nullptr, nullptr};
    const std::string field_name = name;
    if constexpr (std::is_same_v<T, int64_t>) {
        f.to_toml = [member](const TrainConfig& c) { return std::to_string(c.*member); };
        f.from_text = [member, field_name](TrainConfig& c, const std::string& v) {
            size_t used = 0;
            long long parsed = 0;
            try {
                parsed = std::stoll(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size())
                throw std::invalid_argument(field_name + ": expected an integer, got '" + v + "'");
            c.*member = parsed;
        };
    } else if constexpr (std::is_same_v<T, double>) {
        f.to_toml = [member](const TrainConfig& c) { return format_double(c.*member); };
        f.from_text = [member, field_name](TrainConfig& c, const std::string& v) {
            size_t used = 0;
            double parsed = 0;
            try {
                parsed = std::stod(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size())
                throw std::invalid_argument(field_name + ": expected a number, got '" + v + "'");
            c.*member = parsed;
        };
    } else if constexpr (std::is_same_v<T, bool>) {
        f.to_toml = [member](const TrainConfig& c) { return std::string(c.*member ? "true" : "false"); };
        f.from_text = [member, field_name](TrainConfig& c, const std::string& v) {
            if (v == "true" || v == "1") c.*member = true;
            else if (v == "false" || v == "0") c.*member = false;
            else throw std::invalid_argument(field_name + ": expected true or false, got '" + v + "'");
        };
    } else {
        f.to_toml = [member](const TrainConfig& c) { return quote(c.*member); };
        f.from_text = [member, field_name](TrainConfig& c, const std::string& v) {
            c.*member = unquote(v, field_name);
        };
    }
    return f;
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
    static const std::vector<ConfigField> fields = {
        field("n_layer", &TrainConfig::n_layer, "transformer blocks", true),
        field("n_head", &TrainConfig::n_head, "query heads per attention layer", true),
        field("n_kv_head", &TrainConfig::n_kv_head, "key/value heads (0 = n_head; 1 = multi-query)", true),
        field("n_embd", &TrainConfig::n_embd, "embedding width C", true),
        field("block_size", &TrainConfig::block_size, "context length T", true),
        field("dropout", &TrainConfig::dropout, "dropout probability"),
        field("bias", &TrainConfig::bias, "biases in Linear and LayerNorm", true),
        field("pos_encoding", &TrainConfig::pos_encoding, "learned | sinusoidal", true),
        field("data", &TrainConfig::data, "text file or folder of text files"),
        field("tokenizer", &TrainConfig::tokenizer, "char | bpe | gpt2", true),
        field("tokenizer_files", &TrainConfig::tokenizer_files, "gpt2 only: folder with encoder.json + vocab.bpe (or vocab.json + merges.txt)"),
        field("vocab_size", &TrainConfig::vocab_size, "BPE vocabulary size (bpe only)", true),
        field("vocab_pad", &TrainConfig::vocab_pad, "pad the model's vocabulary to a multiple of N; padded ids get no loss and are never sampled (0 = off)", true),
        field("val_fraction", &TrainConfig::val_fraction, "fraction of tokens held out for validation"),
        field("invalid_utf8", &TrainConfig::invalid_utf8, "char tokenizer on invalid UTF-8: error | replace"),
        field("batch_size", &TrainConfig::batch_size, "sequences per micro-batch B"),
        field("grad_accum", &TrainConfig::grad_accum, "micro-batches per optimizer step"),
        field("max_iters", &TrainConfig::max_iters, "total optimizer steps of the run (also when resuming)"),
        field("lr", &TrainConfig::lr, "peak learning rate"),
        field("min_lr", &TrainConfig::min_lr, "learning rate at the end of the cosine decay"),
        field("warmup_iters", &TrainConfig::warmup_iters, "linear warm-up steps"),
        field("lr_decay_iters", &TrainConfig::lr_decay_iters, "step where the cosine reaches min_lr (0 = max_iters)"),
        field("lr_schedule", &TrainConfig::lr_schedule, "cosine | constant"),
        field("weight_decay", &TrainConfig::weight_decay, "AdamW decoupled weight decay (matrices only)"),
        field("beta1", &TrainConfig::beta1, "AdamW beta1"),
        field("beta2", &TrainConfig::beta2, "AdamW beta2"),
        field("grad_clip", &TrainConfig::grad_clip, "clip the global gradient norm (0 = off)"),
        field("eval_interval", &TrainConfig::eval_interval, "steps between validation evaluations"),
        field("eval_iters", &TrainConfig::eval_iters, "validation batches per evaluation"),
        field("log_interval", &TrainConfig::log_interval, "steps between log lines / metrics records"),
        field("seed", &TrainConfig::seed, "seed of every random draw"),
        field("threads", &TrainConfig::threads, "worker threads (0 = OMP_NUM_THREADS or physical cores)"),
        field("skip_nonfinite", &TrainConfig::skip_nonfinite, "skip a step with a NaN/Inf gradient instead of stopping"),
        field("profile", &TrainConfig::profile, "print time per op type (forward/backward, evaluation included) at the end"),
        field("out_dir", &TrainConfig::out_dir, "run folder (checkpoints, metrics.jsonl, config.toml)"),
        field("ckpt_interval", &TrainConfig::ckpt_interval, "steps between checkpoints (0 = eval_interval)"),
        field("keep_last", &TrainConfig::keep_last, "periodic checkpoint copies to keep besides ckpt.h5"),
        field("resume", &TrainConfig::resume, "run folder or checkpoint to continue exactly"),
        field("init_from", &TrainConfig::init_from, "checkpoint whose weights start a new run (fine-tuning)"),
        field("sample_tokens", &TrainConfig::sample_tokens, "tokens sampled at the end of training (0 = none)"),
        field("report_every", &TrainConfig::report_every, "also write report.html every N steps (0 = only at the end)"),
    };
    return fields;
}

GPTConfig TrainConfig::model_config(int64_t vocab) const {
    GPTConfig m;
    m.vocab_size = vocab;
    if (vocab_pad > 0 && vocab % vocab_pad != 0) {
        m.vocab_size = (vocab + vocab_pad - 1) / vocab_pad * vocab_pad;
        m.vocab_used = vocab;
    }
    m.block_size = block_size;
    m.n_layer = n_layer;
    m.n_head = n_head;
    m.n_kv_head = n_kv_head > 0 ? n_kv_head : n_head;
    m.n_embd = n_embd;
    m.pos_encoding = pos_encoding;
    m.dropout = static_cast<float>(dropout);
    m.bias = bias;
    return m;
}

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
    require(min_lr >= 0.0 && min_lr <= lr, "min_lr must be in [0, lr], got " + format_double(min_lr));
    non_negative("warmup_iters", warmup_iters);
    non_negative("lr_decay_iters", lr_decay_iters);
    require(lr_schedule == "cosine" || lr_schedule == "constant",
            "lr_schedule must be \"cosine\" or \"constant\", got \"" + lr_schedule + "\"");
    require(weight_decay >= 0.0, "weight_decay must not be negative, got " + format_double(weight_decay));
    require(beta1 >= 0.0 && beta1 < 1.0, "beta1 must be in [0, 1), got " + format_double(beta1));
    require(beta2 >= 0.0 && beta2 < 1.0, "beta2 must be in [0, 1), got " + format_double(beta2));
    require(grad_clip >= 0.0, "grad_clip must not be negative, got " + format_double(grad_clip));
    positive("eval_interval", eval_interval);
    positive("eval_iters", eval_iters);
    positive("log_interval", log_interval);
    require(seed >= 0, "seed must not be negative, got " + std::to_string(seed));
    non_negative("threads", threads);
    non_negative("ckpt_interval", ckpt_interval);
    non_negative("keep_last", keep_last);
    non_negative("sample_tokens", sample_tokens);
    non_negative("report_every", report_every);
    require(!out_dir.empty(), "out_dir must not be empty");
    require(resume.empty() || init_from.empty(), "resume and init_from cannot be used together");
}

void add_config_options(CLI::App& command, TrainConfig& config) {
    for (const ConfigField& f : config_fields()) {
        // Every option takes one value as text and goes through the same parser as the config files,
        // so "--bias false" and "bias = false" mean the same thing and errors read the same.
        command.add_option_function<std::string>(
            "--" + f.name, [&config, from_text = f.from_text](const std::string& v) { from_text(config, v); },
            f.help + " (default " + f.to_toml(TrainConfig{}) + ")");
    }
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

const ConfigField* find_field(const std::string& name) {
    for (const ConfigField& f : config_fields())
        if (f.name == name) return &f;
    return nullptr;
}

// Calls visit(key, value, where) for every key of the [train] table; throws on anything else.
void parse_train_table(const std::string& toml, const std::string& source,
                       const std::function<void(const std::string&, const std::string&, const std::string&)>& visit) {
    std::istringstream in(toml);
    std::string raw;
    int line_number = 0;
    std::string section;
    std::set<std::string> seen;
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
        if (!find_field(key)) throw std::invalid_argument(where + ": unknown key '" + key + "'");
        if (value.empty()) throw std::invalid_argument(where + ": key '" + key + "' has no value");
        if ((value.front() == '"' || value.front() == '\'') && (value.size() < 2 || value.back() != value.front()))
            throw std::invalid_argument(where + ": unterminated string for key '" + key + "'");
        if (!seen.insert(key).second) throw std::invalid_argument(where + ": key '" + key + "' given twice");
        visit(key, value, where);
    }
}

}  // namespace

void apply_toml(TrainConfig& config, const std::string& toml, const std::string& source,
                const std::function<bool(const std::string&)>& accept) {
    parse_train_table(toml, source, [&](const std::string& key, const std::string& value, const std::string& where) {
        if (!accept(key)) return;
        try {
            find_field(key)->from_text(config, value);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(where + ": " + e.what());
        }
    });
}

void lint_config_file(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error))
        throw std::invalid_argument("config file " + path + " is a directory, not a file");
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("config file " + path + " cannot be read (missing?)");
    std::stringstream text;
    text << in.rdbuf();
    TrainConfig scratch;
    apply_toml(scratch, text.str(), path, [](const std::string&) { return true; });
}

}  // namespace gpt
