#include "interop/gpt2_interop.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/memory.h"
#include "common/output_path.h"
#include "common/untrusted_text.h"
#include "io/atomic_write.h"
#include "data/gpt2_tokenizer.h"
#include "interop/safetensors.h"
#include "nn/gpt.h"
#include "checkpoint/encoder_decoder_file.h"
#include "train/checkpoint.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

// The Linear weights that Hugging Face's GPT-2 stores as Conv1D ([in, out]).
bool is_conv1d(const std::string& name) {
    const auto ends = [&](const char* suffix) {
        const size_t n = std::strlen(suffix);
        return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
    };
    return ends("attn.c_attn.weight") || ends("attn.c_proj.weight") || ends("mlp.c_fc.weight") || ends("mlp.c_proj.weight");
}

std::vector<float> transpose(const std::vector<float>& v, int64_t rows, int64_t cols) {
    std::vector<float> t(v.size());
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) t[size_t(c * rows + r)] = v[size_t(r * cols + c)];
    return t;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A value of an untrusted file for a one-line message: a number, boolean or (bounded) string as written,
// an array or object by its type only -- never dumped (dump() recurses through nesting).
std::string value_text(const nlohmann::json& value) {
    if (value.is_structured()) return std::string("a JSON ") + value.type_name();
    return excerpt(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

int64_t json_int(const nlohmann::json& config, const char* key, const std::string& file, int64_t fallback = -1) {
    if (!config.contains(key) || config[key].is_null()) {
        if (fallback >= 0) return fallback;
        throw std::runtime_error(file + ": " + key + " is missing");
    }
    if (!config[key].is_number_integer() || config[key].get<int64_t>() <= 0)
        throw std::runtime_error(file + ": " + key + " is " + value_text(config[key]) + ", not a positive integer");
    return config[key].get<int64_t>();
}

}  // namespace

namespace {

// config.json as this model's configuration: GPT-2's keys, every setting this model cannot represent
// refused by name, --block_size applied (the file's n_positions is returned in source_positions).
GPTConfig read_hf_config(const fs::path& config_path, const ImportOptions& options, int64_t& source_positions) {
    const std::string cfile = config_path.string();
    nlohmann::json config;
    {
        std::ifstream in(config_path);
        if (!in) throw std::runtime_error(cfile + ": cannot open (a Hugging Face GPT-2 folder has config.json + model.safetensors)");
        std::ostringstream text;
        text << in.rdbuf();
        // Hugging Face's config.json nests a few levels; far deeper is refused before the parse.
        if (const size_t depth = json_nesting_depth(text.str()); depth > 16)
            throw std::runtime_error(cfile + ": nests arrays or objects " + std::to_string(depth) + " deep (at most 16)");
        try {
            config = nlohmann::json::parse(text.str());
        } catch (const nlohmann::json::exception& e) {
            const std::string what = e.what();  // may quote the file: bounded
            throw std::runtime_error(cfile + ": not valid JSON: " + (what.size() > 200 ? what.substr(0, 200) + "…" : what));
        }
    }
    if (config.contains("model_type") && config["model_type"] != "gpt2")
        throw std::runtime_error(cfile + ": model_type is " + value_text(config["model_type"]) + ", not \"gpt2\"");
    GPTConfig m;
    m.vocab_size = json_int(config, "vocab_size", cfile);
    m.block_size = json_int(config, "n_positions", cfile);
    m.n_embd = json_int(config, "n_embd", cfile);
    m.n_layer = json_int(config, "n_layer", cfile);
    m.n_head = json_int(config, "n_head", cfile);
    m.n_kv_head = m.n_head;
    m.pos_encoding = "learned";
    m.bias = true;
    m.dropout = 0.0f;
    if (json_int(config, "n_inner", cfile, 4 * m.n_embd) != 4 * m.n_embd)
        throw std::runtime_error(cfile + ": n_inner is " + value_text(config["n_inner"]) + "; this model's MLP is 4 x n_embd");
    const std::string activation = config.value("activation_function", std::string("gelu_new"));
    if (activation != "gelu_new" && activation != "gelu_pytorch_tanh")
        throw std::runtime_error(cfile + ": activation_function is \"" + activation + "\"; this model uses GELU's tanh form (gelu_new)");
    const double eps = config.value("layer_norm_epsilon", 1e-5);
    if (std::abs(eps - 1e-5) > 1e-12)
        throw std::runtime_error(cfile + ": layer_norm_epsilon is " + std::to_string(eps) + "; this model's LayerNorm uses 1e-5");
    if (config.value("scale_attn_by_inverse_layer_idx", false))
        throw std::runtime_error(cfile + ": scale_attn_by_inverse_layer_idx is true; this model scales attention by 1/sqrt(head_dim) only");
    if (!config.value("scale_attn_weights", true))
        throw std::runtime_error(cfile + ": scale_attn_weights is false; this model scales attention by 1/sqrt(head_dim)");
    if (!config.value("tie_word_embeddings", true))
        throw std::runtime_error(cfile + ": tie_word_embeddings is false; this model's head is the token embedding");
    source_positions = m.block_size;
    if (options.block_size > 0) {
        if (options.block_size > source_positions)
            throw std::runtime_error("--block_size " + std::to_string(options.block_size) + " exceeds n_positions " +
                                     std::to_string(source_positions) + " of " + cfile);
        m.block_size = options.block_size;
    }
    try {
        m.validate();
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(cfile + ": " + e.what());
    }

    return m;
}

// Before anything is allocated: the tensors of the file must hold exactly the parameters the
// configuration describes (a config.json claiming n_embd 2048 over a small file is refused here, not
// after building a 2048-wide model), and those weights must fit in memory.
void check_weights_fit(const GPTConfig& source, const SafetensorsFile& weights, const std::string& prefix,
                       const std::string& cfile, const std::string& wfile) {
    int64_t stored = 0;
    for (const SafetensorsEntry& entry : weights.entries()) {
        std::string name = entry.name.substr(entry.name.rfind(prefix, 0) == 0 ? prefix.size() : 0);
        if (name == "lm_head.weight" || name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias")) continue;
        int64_t n = 1;
        for (const int64_t d : entry.shape) n *= d;  // SafetensorsFile checked every product for overflow
        stored += n;
    }
    const int64_t expected = count_parameters(source);
    if (stored != expected)
        throw std::runtime_error(cfile + " describes a model of " + std::to_string(expected) + " parameters (n_layer " +
                                 std::to_string(source.n_layer) + ", n_embd " + std::to_string(source.n_embd) + ", vocab " +
                                 std::to_string(source.vocab_size) + "), but " + wfile + " holds " + std::to_string(stored));
    const double bytes = 4.0 * static_cast<double>(expected), available = available_memory_bytes();
    if (available > 0 && 2.0 * bytes > 0.9 * available)  // the model, and the values read for one tensor at most
        throw std::runtime_error(wfile + ": the model needs " + std::to_string(bytes / (1 << 30)) + " GiB of weights, more "
                                 "than the memory available allows (" + std::to_string(available / (1 << 30)) + " GiB)");
}

}  // namespace

std::string import_hf_gpt2(const fs::path& dir, const fs::path& out, const ImportOptions& options) {
    check_output_file(out, "OUT", options.overwrite);
    const fs::path config_path = dir / "config.json", weights_path = dir / "model.safetensors";
    const std::string cfile = config_path.string();
    int64_t source_positions = 0;
    GPTConfig m = read_hf_config(config_path, options, source_positions);

    // Tokenizer first: a wrong vocabulary is cheaper to report before reading the weights.
    std::shared_ptr<Tokenizer> tokenizer;
    const fs::path tokenizer_dir = options.tokenizer_files.empty() ? dir : options.tokenizer_files;
    if (!Gpt2Tokenizer::has_files(tokenizer_dir))
        throw std::runtime_error(tokenizer_dir.string() + ": no GPT-2 tokenizer files (vocab.json + merges.txt or encoder.json + "
                                 "vocab.bpe); give them with --tokenizer_files DIR");
    tokenizer = Gpt2Tokenizer::from_files(tokenizer_dir);
    if (tokenizer->vocab_size() != m.tokens())
        throw std::runtime_error(tokenizer_dir.string() + ": the tokenizer has " + std::to_string(tokenizer->vocab_size()) +
                                 " tokens but " + cfile + " says vocab_size " + std::to_string(m.vocab_size));

    const SafetensorsFile weights(weights_path);
    const std::string wfile = weights_path.string();
    std::string prefix;
    if (weights.find("transformer.wte.weight")) prefix = "transformer.";
    const int64_t source_vocab = m.vocab_size;
    GPTConfig source = m;
    source.block_size = source_positions;
    check_weights_fit(source, weights, prefix, cfile, wfile);
    if (options.vocab_pad > 0 && m.vocab_size % options.vocab_pad != 0) {
        m.vocab_used = m.vocab_size;
        m.vocab_size = (m.vocab_size + options.vocab_pad - 1) / options.vocab_pad * options.vocab_pad;
    }
    GPT model(m);  // zeros: padded wte rows stay 0
    const NamedTensors parameters = model.named_parameters();
    // Every expected tensor, its shape checked (in Hugging Face's orientation) before any data is read.
    std::vector<std::pair<const SafetensorsEntry*, Tensor>> plan;
    for (const auto& [name, tensor] : parameters) {
        const SafetensorsEntry* entry = weights.find(prefix + name);
        if (!entry) throw std::runtime_error(wfile + ": tensor " + prefix + name + " is missing");
        std::vector<int64_t> expected(tensor.shape().begin(), tensor.shape().end());
        if (is_conv1d(name)) std::swap(expected[0], expected[1]);
        if (name == "wpe.weight") expected[0] = source_positions;
        if (name == "wte.weight") expected[0] = source_vocab;
        if (entry->shape != expected)
            throw std::runtime_error(wfile + ": tensor " + entry->name + " has shape " + shape_text(entry->shape) + ", expected " +
                                     shape_text(expected) + " for " + cfile + (is_conv1d(name) ? " (Conv1D: [in, out])" : ""));
        plan.emplace_back(entry, tensor);
    }
    for (const SafetensorsEntry& entry : weights.entries()) {
        std::string name = entry.name;
        if (!prefix.empty() && name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
        const bool buffer = name.size() > 10 && (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias"));
        bool known = buffer || name == "lm_head.weight";
        for (const auto& [pname, tensor] : parameters) known = known || pname == name;
        if (!known) throw std::runtime_error(wfile + ": tensor " + entry.name + " is not part of a GPT-2 model");
    }
    for (auto& [entry, tensor] : plan) {
        std::vector<float> values = weights.read(*entry);
        std::string name = entry->name.substr(prefix.size());
        if (is_conv1d(name)) values = transpose(values, entry->shape[0], entry->shape[1]);
        const size_t n = std::min(size_t(tensor.numel()), values.size());  // wpe: the first block_size rows; wte: the real tokens
        std::memcpy(tensor.data(), values.data(), n * sizeof(float));
        for (float v : values)
            if (!std::isfinite(v)) throw std::runtime_error(wfile + ": tensor " + entry->name + " holds NaN or Inf");
    }
    if (const SafetensorsEntry* head = weights.find("lm_head.weight")) {
        if (head->shape != std::vector<int64_t>{source_vocab, m.n_embd})
            throw std::runtime_error(wfile + ": tensor lm_head.weight has shape " + shape_text(head->shape) + ", expected " +
                                     shape_text({source_vocab, m.n_embd}));
        const std::vector<float> values = weights.read(*head);
        if (std::memcmp(values.data(), model.wte->weight.data(), values.size() * sizeof(float)) != 0)
            throw std::runtime_error(wfile + ": tensor lm_head.weight differs from wte.weight; this model's head is tied");
    }

    TrainConfig train;
    train.model = m;  // GPT-2: learned positions, biases, no dropout
    train.tokenizer = "gpt2";
    train.tokenizer_files = fs::absolute(tokenizer_dir).string();
    train.vocab_size = m.tokens();
    train.vocab_pad = options.vocab_pad;
    save_weights(out.string(), model, *tokenizer, train);
    return "imported " + dir.string() + " -> " + out.string() + ": " + std::to_string(model.parameter_count()) +
           " parameters, n_layer " + std::to_string(m.n_layer) + ", n_head " + std::to_string(m.n_head) + ", n_embd " +
           std::to_string(m.n_embd) + ", block_size " + std::to_string(m.block_size) + ", vocab " + std::to_string(m.tokens()) +
           (m.tokens() < m.vocab_size ? " padded to " + std::to_string(m.vocab_size) : "");
}

namespace {

constexpr const char* kTokenizerJson = "gpt_cpp_tokenizer.json";

// A character-level or BPE tokenizer as JSON, enough to decode the export's ids without this program:
// every token's bytes as hex in id order (a token may be half a UTF-8 character), the BPE merges in rank
// order (merge k makes id 256 + k), the special ids. Decoding: concatenate bytes.fromhex(tokens[i]).
void write_tokenizer_json(const Tokenizer& tokenizer, const fs::path& path) {
    const TokenizerState state = tokenizer.state();
    static const char* digits = "0123456789abcdef";
    nlohmann::ordered_json tokens = nlohmann::ordered_json::array();
    for (int32_t id = 0; id < state.vocab_size(); ++id) {
        std::string hex;
        for (int64_t i = state.token_offsets[size_t(id)]; i < state.token_offsets[size_t(id) + 1]; ++i) {
            const uint8_t b = state.token_bytes[size_t(i)];
            hex += digits[b >> 4];
            hex += digits[b & 15];
        }
        tokens.push_back(hex);
    }
    nlohmann::ordered_json merges = nlohmann::ordered_json::array();
    for (size_t k = 0; k + 1 < state.merges.size(); k += 2) merges.push_back({state.merges[k], state.merges[k + 1]});
    const nlohmann::ordered_json json = {
        {"format", "gpt-cpp tokenizer"},
        {"type", state.type},
        {"vocab_size", state.vocab_size()},
        {"decode", "text = b''.join(bytes.fromhex(tokens[i]) for i in ids).decode('utf-8', 'replace')"},
        {"tokens", tokens},
        {"merges", merges},
        {"special_ids", state.special_ids}};
    write_bytes_atomically(path.string(), json.dump(1) + "\n");
}

// The files of an export are written into a staging folder beside OUT_DIR, every write checked, and
// moved into OUT_DIR only when all are complete: a failed export leaves OUT_DIR as it was.
class ExportStaging {
public:
    explicit ExportStaging(const fs::path& out_dir) : out_dir_(out_dir.has_filename() ? out_dir : out_dir.parent_path()) {
        if (fs::exists(out_dir_) && !fs::is_directory(out_dir_))
            throw std::runtime_error(out_dir_.string() + ": exists and is not a folder; choose another OUT_DIR");
        staging_ = out_dir_.parent_path() / ("." + out_dir_.filename().string() + ".export-tmp");
        fs::remove_all(staging_);
        fs::create_directories(staging_);
    }
    ~ExportStaging() {
        std::error_code ignored;
        fs::remove_all(staging_, ignored);
    }
    const fs::path& dir() const { return staging_; }
    // Checks every target first (common/output_path.h: no FIFO, device or folder is replaced), then moves
    // each file into OUT_DIR (rename: atomic per file).
    void publish() {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(staging_)) files.push_back(entry.path().filename());
        for (const fs::path& name : files) check_output_file(out_dir_ / name, "OUT_DIR's", true);
        fs::create_directories(out_dir_);
        for (const fs::path& name : files) fs::rename(staging_ / name, out_dir_ / name);
    }

private:
    fs::path out_dir_, staging_;
};

}  // namespace

namespace {

// The tensors under their own names (safetensors) for any module.
std::vector<SafetensorsTensor> own_tensors(const Module& model) {
    std::vector<SafetensorsTensor> tensors;
    for (const auto& [name, tensor] : model.named_parameters()) {
        SafetensorsTensor t;
        t.name = name;
        t.shape.assign(tensor.shape().begin(), tensor.shape().end());
        t.values.assign(tensor.data(), tensor.data() + tensor.numel());
        tensors.push_back(std::move(t));
    }
    return tensors;
}

// model.safetensors, config.json and the vocabulary, written in the staging folder and moved into OUT_DIR.
// Returns what was written after "OUT_DIR/config.json + model.safetensors".
std::string publish_export(ExportStaging& staging, const std::vector<SafetensorsTensor>& tensors,
                           const nlohmann::ordered_json& config, bool config_in_metadata, const Tokenizer& tokenizer) {
    std::map<std::string, std::string> metadata{{"format", "pt"}};
    if (config_in_metadata) metadata["gpt_cpp_config"] = config.dump();
    write_safetensors(staging.dir() / "model.safetensors", tensors, metadata);
    write_bytes_atomically((staging.dir() / "config.json").string(), config.dump(2) + "\n");
    std::string extra;
    if (const auto* gpt2 = dynamic_cast<const Gpt2Tokenizer*>(&tokenizer)) {
        gpt2->write_files(staging.dir(), "hf");
        extra = " + vocab.json + merges.txt";
    } else {
        write_tokenizer_json(tokenizer, staging.dir() / kTokenizerJson);
        extra = std::string(" + ") + kTokenizerJson;
    }
    staging.publish();
    return extra;
}

// model = transformer: this project's names only (Hugging Face has no layout of this encoder–decoder).
std::string export_encoder_decoder(const std::string& path, const std::string& format, const fs::path& out_dir) {
    if (format == "hf")
        throw std::runtime_error(path + ": cannot export as a Hugging Face GPT-2: model is \"transformer\" (an "
                                 "encoder-decoder; use --format safetensors)");
    const LoadedEncoderDecoder loaded = load_encoder_decoder(path);
    const EncoderDecoderConfig& c = loaded.config;
    nlohmann::ordered_json config = {{"format", "gpt-cpp"},
                                     {"model", "transformer"},
                                     {"source_vocab_size", c.source_vocab_size},
                                     {"target_vocab_size", c.target_vocab_size},
                                     {"bos_id", c.target_vocab_size - 2},
                                     {"eos_id", c.target_vocab_size - 1},
                                     {"source_block_size", c.source_block_size},
                                     {"target_block_size", c.target_block_size},
                                     {"n_encoder_layer", c.n_encoder_layer},
                                     {"n_decoder_layer", c.n_decoder_layer},
                                     {"n_head", c.n_head},
                                     {"n_embd", c.n_embd},
                                     {"dim_feedforward", c.feedforward_dim()},
                                     {"activation", c.activation},
                                     {"norm_first", c.norm_first},
                                     {"share_embeddings", c.share_embeddings},
                                     {"tie_embeddings", c.tie_embeddings},
                                     {"tokenizer", loaded.tokenizer->type()}};
    ExportStaging staging(out_dir);
    const std::string extra = publish_export(staging, own_tensors(*loaded.model), config, true, *loaded.tokenizer);
    return "exported " + path + " -> " + (out_dir / "config.json").string() + " + model.safetensors" + extra +
           " (gpt-cpp names)";
}

}  // namespace

std::string export_checkpoint(const fs::path& checkpoint, const std::string& format, const fs::path& out_dir) {
    if (format != "hf" && format != "safetensors")
        throw std::invalid_argument("--format must be \"hf\" or \"safetensors\", got \"" + format + "\"");
    const std::string path = resolve_checkpoint_path(checkpoint.string());
    if (checkpoint_model_kind(path) == "transformer") return export_encoder_decoder(path, format, out_dir);
    const LoadedCheckpoint loaded = load_checkpoint(path);
    const GPTConfig& m = loaded.model_config;
    const std::string where = checkpoint.string() + ": cannot export as a Hugging Face GPT-2: ";
    if (format == "hf") {
        if (m.bidirectional())
            throw std::runtime_error(where + "model is \"bert\" (bidirectional attention); GPT2LMHeadModel is causal "
                                     "(use --format safetensors)");
        if (m.pos_encoding != "learned")
            throw std::runtime_error(where + "pos_encoding is \"" + m.pos_encoding + "\"; GPT-2 has learned positions (use --format safetensors)");
        if (m.mla())
            throw std::runtime_error(where + "attention is \"mla\"; GPT-2 has multi-head attention (use --format safetensors)");
        if (m.kv_heads() != m.n_head)
            throw std::runtime_error(where + "n_kv_head is " + std::to_string(m.kv_heads()) + " but n_head is " +
                                     std::to_string(m.n_head) + "; GPT-2 has no grouped-query attention (use --format safetensors)");
        if (!m.bias) throw std::runtime_error(where + "bias is false; GPT-2 has biases in every Linear and LayerNorm (use --format safetensors)");
        if (m.norm != "layernorm")
            throw std::runtime_error(where + "norm is \"" + m.norm + "\"; GPT-2 has LayerNorm (use --format safetensors)");
        if (m.mlp != "gelu" || m.mlp_hidden_dim() != 4 * m.n_embd)
            throw std::runtime_error(where + "mlp is \"" + m.mlp + "\" of width " + std::to_string(m.mlp_hidden_dim()) +
                                     "; GPT-2 has a GELU MLP of width 4·n_embd (use --format safetensors)");
        if (m.qk_norm) throw std::runtime_error(where + "qk_norm is true; GPT-2 has no QK-norm (use --format safetensors)");
        if (!m.tie_embeddings)
            throw std::runtime_error(where + "tie_embeddings is false; GPT-2 ties its output head to wte (use --format safetensors)");
    }
    ExportStaging staging(out_dir);
    std::vector<SafetensorsTensor> tensors;
    for (const auto& [name, tensor] : loaded.model->named_parameters()) {
        SafetensorsTensor t;
        t.shape.assign(tensor.shape().begin(), tensor.shape().end());
        t.values.assign(tensor.data(), tensor.data() + tensor.numel());
        if (format == "hf") {
            t.name = "transformer." + name;
            if (name == "wte.weight" && m.tokens() < m.vocab_size) {  // padded rows are not tokens: drop them
                t.shape[0] = m.tokens();
                t.values.resize(size_t(m.tokens() * m.n_embd));
            }
            if (is_conv1d(name)) {
                t.values = transpose(t.values, t.shape[0], t.shape[1]);
                std::swap(t.shape[0], t.shape[1]);
            }
        } else {
            t.name = name;
        }
        tensors.push_back(std::move(t));
    }
    nlohmann::ordered_json config;
    const std::optional<int32_t> eot = loaded.tokenizer->end_of_text_id();
    if (format == "hf") {
        config = {{"architectures", {"GPT2LMHeadModel"}},
                  {"model_type", "gpt2"},
                  {"vocab_size", m.tokens()},
                  {"n_positions", m.block_size},
                  {"n_ctx", m.block_size},
                  {"n_embd", m.n_embd},
                  {"n_layer", m.n_layer},
                  {"n_head", m.n_head},
                  {"n_inner", nullptr},
                  {"activation_function", "gelu_new"},
                  {"layer_norm_epsilon", 1e-5},
                  {"resid_pdrop", 0.0},
                  {"embd_pdrop", 0.0},
                  {"attn_pdrop", 0.0},
                  {"initializer_range", 0.02},
                  {"scale_attn_weights", true},
                  {"tie_word_embeddings", true},
                  {"torch_dtype", "float32"}};
        if (eot) {
            config["bos_token_id"] = *eot;
            config["eos_token_id"] = *eot;
        }
    } else {
        config = {{"format", "gpt-cpp"},       {"model", m.kind},            {"vocab_size", m.vocab_size}, {"vocab_used", m.tokens()}, {"block_size", m.block_size},
                  {"n_layer", m.n_layer},      {"n_head", m.n_head},         {"n_kv_head", m.kv_heads()},
                  {"n_embd", m.n_embd},        {"pos_encoding", m.pos_encoding}, {"bias", m.bias},
                  {"tokenizer", loaded.tokenizer->type()}};
        if (m.mla()) {
            config["attention"] = m.attention;
            config["kv_latent_dim"] = m.kv_latent_dim;
            config["q_latent_dim"] = m.q_latent_dim;
            config["rope_head_dim"] = m.rope_head_dim;
        }
        config["norm"] = m.norm;
        config["mlp"] = m.mlp;
        config["mlp_hidden"] = m.mlp_hidden_dim();
        config["qk_norm"] = m.qk_norm;
        config["tie_embeddings"] = m.tie_embeddings;
    }
    const std::string extra = publish_export(staging, tensors, config, format == "safetensors", *loaded.tokenizer);
    return "exported " + checkpoint.string() + " -> " + (out_dir / "config.json").string() + " + model.safetensors" + extra +
           " (" + (format == "hf" ? "Hugging Face GPT2LMHeadModel layout" : "gpt-cpp names") + ")";
}

}  // namespace gpt
