// /config, /meta, /model and /tokenizer: the parts of a checkpoint that sampling and evaluation need.
#include <filesystem>
#include <stdexcept>

#include <algorithm>
#include <cmath>

#include "checkpoint/model_file.h"
#include "checkpoint/model_parts.h"
#include "common/memory.h"
#include "io/hdf5.h"

namespace gpt {

namespace {

void write_model_config(H5File& file, const GPTConfig& c) {
    H5Group config = file.require_group("config");
    config.set_attr_int("vocab_size", c.vocab_size);
    config.set_attr_int("block_size", c.block_size);
    config.set_attr_int("n_layer", c.n_layer);
    config.set_attr_int("n_head", c.n_head);
    config.set_attr_int("n_kv_head", c.kv_heads());
    config.set_attr_int("n_embd", c.n_embd);
    config.set_attr_string("pos_encoding", c.pos_encoding);
    config.set_attr_double("dropout", static_cast<float>(c.dropout));  // as the layers use it
    config.set_attr_int("bias", c.bias ? 1 : 0);
    if (c.vocab_used > 0) config.set_attr_int("vocab_used", c.vocab_used);  // padded vocabulary only
    if (c.mla()) {  // absent: "mha", as every checkpoint written before MLA existed
        config.set_attr_string("attention", c.attention);
        config.set_attr_int("kv_latent_dim", c.kv_latent_dim);
        config.set_attr_int("q_latent_dim", c.q_latent_dim);
        config.set_attr_int("rope_head_dim", c.rope_head_dim);
    }
    // Issue 31's options, each written only when it differs from GPT-2's (absent = the default, as every
    // checkpoint written before they existed).
    if (c.norm != "layernorm") config.set_attr_string("norm", c.norm);
    if (c.mlp != "gelu") config.set_attr_string("mlp", c.mlp);
    if (c.mlp_hidden > 0) config.set_attr_int("mlp_hidden", c.mlp_hidden);
    if (c.qk_norm) config.set_attr_int("qk_norm", 1);
    if (!c.tie_embeddings) config.set_attr_int("tie_embeddings", 0);
}

GPTConfig read_model_config(const H5File& file) {
    const H5Group config = config_group(file);
    GPTConfig c;
    c.kind = model_kind(file);  // /model's attribute: "gpt" or "bert" here (read_checkpoint refused the rest)
    c.vocab_size = config.attr_int("vocab_size");
    c.block_size = config.attr_int("block_size");
    c.n_layer = config.attr_int("n_layer");
    c.n_head = config.attr_int("n_head");
    c.n_kv_head = config.attr_int("n_kv_head");
    c.n_embd = config.attr_int("n_embd");
    c.pos_encoding = config.attr_string("pos_encoding");
    c.dropout = static_cast<float>(config.attr_double("dropout"));
    c.bias = config.attr_int("bias") != 0;
    if (config.has_attr("vocab_used")) c.vocab_used = config.attr_int("vocab_used");
    if (config.has_attr("attention")) c.attention = config.attr_string("attention");
    for (auto [name, field] : {std::pair{"kv_latent_dim", &GPTConfig::kv_latent_dim},
                               std::pair{"q_latent_dim", &GPTConfig::q_latent_dim},
                               std::pair{"rope_head_dim", &GPTConfig::rope_head_dim}})
        if (config.has_attr(name)) c.*field = config.attr_int(name);
    if (config.has_attr("norm")) c.norm = config.attr_string("norm");
    if (config.has_attr("mlp")) c.mlp = config.attr_string("mlp");
    if (config.has_attr("mlp_hidden")) c.mlp_hidden = config.attr_int("mlp_hidden");
    if (config.has_attr("qk_norm")) c.qk_norm = config.attr_int("qk_norm") != 0;
    if (config.has_attr("tie_embeddings")) c.tie_embeddings = config.attr_int("tie_embeddings") != 0;
    try {
        c.validate();
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(file.file_name() + ": /config is invalid: " + e.what());
    }
    return c;
}

}  // namespace

H5Group config_group(const H5File& file) {
    if (!file.is_group("config"))
        throw std::runtime_error(file.file_name() + ": not a checkpoint of this project (no /config group)");
    return file.open_group("config");
}

void check_meta(const H5File& file) {
    if (!file.is_group("meta"))
        throw std::runtime_error(file.file_name() + ": not a checkpoint of this project (no /meta group)");
    const int64_t version = file.open_group("meta").attr_int("format_version");
    if (version != kCheckpointFormatVersion)
        throw std::runtime_error(file.file_name() + ": checkpoint format_version " + std::to_string(version) +
                                 " is not supported (this build reads version " +
                                 std::to_string(kCheckpointFormatVersion) + ")");
}

TokenizerState read_tokenizer_state(const H5File& file) {
    if (!file.is_group("tokenizer"))
        throw std::runtime_error(file.file_name() + ": checkpoint has no /tokenizer group");
    const H5Group group = file.open_group("tokenizer");
    TokenizerState state;
    state.type = group.attr_string("type");
    state.token_bytes = group.read<uint8_t>("token_bytes").values;
    state.token_offsets = group.read<int64_t>("token_offsets").values;
    if (group.exists("merges")) {
        const H5Array<int32_t> merges = group.read<int32_t>("merges");
        if (merges.shape.size() != 2 || merges.shape[1] != 2)
            throw std::runtime_error(file.file_name() + ": dataset /tokenizer/merges must have shape [M, 2]");
        state.merges = merges.values;
    }
    state.special_ids = group.read<int32_t>("special_ids").values;
    return state;
}

// Reads every weight of `model` from /model; a stored dataset the model does not have is an error too.
void read_model(const H5File& file, Module& model) {
    if (!file.is_group("model")) throw std::runtime_error(file.file_name() + ": checkpoint has no /model group");
    const H5Group weights = file.open_group("model");
    const NamedTensors parameters = model.named_parameters();
    for (const auto& [name, tensor] : parameters) {
        if (!weights.is_dataset(name))
            throw std::runtime_error(file.file_name() + ": dataset /model/" + name + " is missing");
        weights.read_into<float>(name, H5Shape(tensor.shape().begin(), tensor.shape().end()), tensor.data());
    }
    // Every parameter name was found above, so any further member is one the model does not have. The
    // members are counted, not listed: listing a crafted /model crashes libhdf5 (docs/reliability.md).
    const std::size_t stored = weights.member_count();
    if (stored != parameters.size())
        throw std::runtime_error(file.file_name() + ": /model holds " + std::to_string(stored) +
                                 " members but the configured model has " + std::to_string(parameters.size()) +
                                 " parameters (a dataset there is not a parameter of the model)");
}

std::string model_kind(const H5File& file) {
    if (!file.is_group("model")) return "gpt";  // read_model names the missing group
    const H5Group weights = file.open_group("model");
    return weights.has_attr("model") ? weights.attr_string("model") : "gpt";
}

void require_model_kind(const H5File& file, const std::string& kind, const std::string& command_hint) {
    const std::string stored = model_kind(file);
    if (stored == kind) return;
    std::string message = file.file_name();
    message += ": a model = ";
    message += stored;
    message += " checkpoint; this needs model = ";
    message += kind;
    if (!command_hint.empty()) message += " (" + command_hint + ")";
    throw std::runtime_error(message);
}

void write_meta_and_weights(H5File& file, const Module& model, const std::string& kind) {
    H5Group meta = file.require_group("meta");
    meta.set_attr_int("format_version", kCheckpointFormatVersion);
    meta.set_attr_string("created_by", "gpt-cpp 0.1.0");
    H5Group weights = file.require_group("model");
    weights.set_attr_string("model", kind);
    for (const auto& [name, tensor] : model.named_parameters())
        weights.write<float>(name, H5Shape(tensor.shape().begin(), tensor.shape().end()), tensor.data());
}

std::shared_ptr<Tokenizer> read_tokenizer(const H5File& file) {
    try {
        return Tokenizer::from_state(read_tokenizer_state(file));
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(file.file_name() + ": /tokenizer is invalid: " + e.what());
    }
}

void check_finite(const Module& model, const std::string& path) {
    for (const auto& [name, tensor] : model.named_parameters()) {
        const float* w = tensor.data();
        for (int64_t i = 0; i < tensor.numel(); ++i)
            if (!std::isfinite(w[i]))
                throw std::runtime_error(path + ": parameter " + name + " holds a non-finite value (" +
                                         std::to_string(w[i]) + " at index " + std::to_string(i) + ")");
    }
}

void write_model(H5File& file, const GPT& model) {
    write_model_config(file, model.config());
    write_meta_and_weights(file, model, model.config().kind);  // "gpt" | "bert"
}

void write_tokenizer(H5File& file, const Tokenizer& tokenizer) {
    const TokenizerState state = tokenizer.state();
    H5Group group = file.require_group("tokenizer");
    group.set_attr_string("type", state.type);
    group.write<uint8_t>("token_bytes", state.token_bytes);
    group.write<int64_t>("token_offsets", state.token_offsets);
    if (state.type != "char")  // bpe, gpt2
        group.write<int32_t>("merges", H5Shape{static_cast<int64_t>(state.merges.size() / 2), 2}, state.merges.data());
    group.write<int32_t>("special_ids", state.special_ids);
}

void save_weights(const std::string& path, const GPT& model, const Tokenizer& tokenizer,
                  const std::string& train_config_toml, const std::function<void(H5File&)>& fill_more) {
    write_atomically(path, [&](H5File& file) {
        write_model(file, model);
        write_tokenizer(file, tokenizer);
        file.open_group("config").set_attr_string("train_config", train_config_toml);
        if (fill_more) fill_more(file);
    });
}

namespace {

// Before the model is built: the /config must describe a model whose weights this file can hold
// (every weight is stored as a float32, so 4 bytes per parameter is a lower bound on the file's size)
// and that fits in memory. A forged n_layer of 60000 in a 23 KB file is refused here instead of
// allocating gigabytes of weights the file cannot fill. (No listing of /model here: iterating a damaged
// group's links can crash libhdf5 1.10.8, see docs/reliability.md; read_model looks datasets up by name.)
void check_config_fits_file(const GPTConfig& config, const std::string& path) {
    try {
        config.validate();
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(path + ": /config: " + e.what());
    }
    const double parameters = static_cast<double>(count_parameters(config)), bytes = 4.0 * parameters;
    std::error_code error;
    const double file_bytes = static_cast<double>(std::filesystem::file_size(path, error));
    if (!error && bytes > file_bytes)
        throw std::runtime_error(path + ": /config describes a model of " + std::to_string(int64_t(parameters)) +
                                 " parameters (" + std::to_string(int64_t(bytes)) + " bytes of weights) but the file " +
                                 "has only " + std::to_string(int64_t(file_bytes)) + " bytes");
    const double available = available_memory_bytes();
    if (available > 0 && bytes > 0.9 * available)
        throw std::runtime_error(path + ": the model needs " + std::to_string(bytes / (1 << 30)) +
                                 " GiB of weights, more than the memory available (" +
                                 std::to_string(available / (1 << 30)) + " GiB)");
}

LoadedCheckpoint read_checkpoint_unguarded(const H5File& file, const CheckpointLoadOptions& options);

}  // namespace

LoadedCheckpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options) {
    try {
        const H5File file = H5File::open_read(path);
        return read_checkpoint_unguarded(file, options);
    } catch (const std::bad_alloc& e) {
        throw std::runtime_error(path + ": out of memory while loading this checkpoint (" + e.what() + ")");
    }
}

LoadedCheckpoint read_checkpoint(const H5File& file, const CheckpointLoadOptions& options) {
    try {
        return read_checkpoint_unguarded(file, options);
    } catch (const std::bad_alloc& e) {
        throw std::runtime_error(file.file_name() + ": out of memory while loading this checkpoint (" + e.what() + ")");
    }
}

namespace {

LoadedCheckpoint read_checkpoint_unguarded(const H5File& file, const CheckpointLoadOptions& options) {
    const std::string& path = file.file_name();
    check_meta(file);
    if (model_kind(file) != "bert")  // the GPT's modules either way (nn/gpt_config.h GPTConfig::kind)
        require_model_kind(file, "gpt", "gpt translate, gpt eval and gpt report read model = transformer checkpoints");
    LoadedCheckpoint loaded;
    loaded.model_config = read_model_config(file);
    const H5Group config_group = file.open_group("config");
    if (config_group.has_attr("train_config")) loaded.train_config_toml = config_group.attr_string("train_config");
    loaded.tokenizer = read_tokenizer(file);
    if (loaded.tokenizer->vocab_size() != loaded.model_config.tokens())
        throw std::runtime_error(path + ": the tokenizer has " + std::to_string(loaded.tokenizer->vocab_size()) +
                                 " tokens but the model's " +
                                 (loaded.model_config.vocab_used > 0 ? "vocab_used is " : "vocab_size is ") +
                                 std::to_string(loaded.model_config.tokens()));
    loaded.has_training_state = file.is_group("optimizer") && file.is_group("train");
    if (options.dropout) loaded.model_config.dropout = *options.dropout;
    check_config_fits_file(loaded.model_config, path);
    loaded.model = std::make_unique<GPT>(loaded.model_config);
    read_model(file, *loaded.model);
    check_finite(*loaded.model, path);
    loaded.model->eval();
    return loaded;
}

}  // namespace

std::string resolve_checkpoint_path(const std::string& run_dir_or_file) {
    namespace fs = std::filesystem;
    std::error_code error;
    if (fs::is_directory(run_dir_or_file, error)) {
        const std::string candidate = (fs::path(run_dir_or_file) / "ckpt.h5").string();
        if (!fs::exists(candidate, error)) {
            const fs::path folder(run_dir_or_file);
            const fs::path name = folder.filename().empty() ? folder.parent_path().filename() : folder.filename();
            if (fs::exists(folder / "config.json", error) && fs::exists(folder / "model.safetensors", error))
                throw std::runtime_error(run_dir_or_file + ": a Hugging Face model folder (config.json + "
                                         "model.safetensors), not a checkpoint; convert it first: gpt import " +
                                         run_dir_or_file + " " + name.string() + ".h5");
            throw std::runtime_error(run_dir_or_file + ": folder has no ckpt.h5 (expected a run folder or a .h5 "
                                     "checkpoint)");
        }
        return candidate;
    }
    if (!fs::exists(run_dir_or_file, error)) throw std::runtime_error(run_dir_or_file + ": no such checkpoint");
    return run_dir_or_file;
}

}  // namespace gpt
