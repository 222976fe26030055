#include "checkpoint/encoder_decoder_file.h"

#include <filesystem>
#include <stdexcept>

#include "checkpoint/model_file.h"
#include "checkpoint/model_parts.h"
#include "common/memory.h"
#include "io/hdf5.h"

namespace gpt {

namespace {

constexpr const char* kKind = "transformer";

void write_config(H5File& file, const EncoderDecoderConfig& c) {
    H5Group config = file.require_group("config");
    config.set_attr_int("source_vocab_size", c.source_vocab_size);
    config.set_attr_int("target_vocab_size", c.target_vocab_size);
    config.set_attr_int("source_block_size", c.source_block_size);
    config.set_attr_int("target_block_size", c.target_block_size);
    config.set_attr_int("n_encoder_layer", c.n_encoder_layer);
    config.set_attr_int("n_decoder_layer", c.n_decoder_layer);
    config.set_attr_int("n_head", c.n_head);
    config.set_attr_int("n_embd", c.n_embd);
    config.set_attr_int("dim_feedforward", c.dim_feedforward);
    config.set_attr_double("dropout", static_cast<float>(c.dropout));  // as the layers use it
    config.set_attr_string("activation", c.activation);
    config.set_attr_int("norm_first", c.norm_first ? 1 : 0);
    config.set_attr_int("share_embeddings", c.share_embeddings ? 1 : 0);
    config.set_attr_int("tie_embeddings", c.tie_embeddings ? 1 : 0);
}

EncoderDecoderConfig read_config(const H5File& file) {
    const H5Group config = config_group(file);
    EncoderDecoderConfig c;
    c.source_vocab_size = config.attr_int("source_vocab_size");
    c.target_vocab_size = config.attr_int("target_vocab_size");
    c.source_block_size = config.attr_int("source_block_size");
    c.target_block_size = config.attr_int("target_block_size");
    c.n_encoder_layer = config.attr_int("n_encoder_layer");
    c.n_decoder_layer = config.attr_int("n_decoder_layer");
    c.n_head = config.attr_int("n_head");
    c.n_embd = config.attr_int("n_embd");
    c.dim_feedforward = config.attr_int("dim_feedforward");
    c.dropout = static_cast<float>(config.attr_double("dropout"));
    c.activation = config.attr_string("activation");
    c.norm_first = config.attr_int("norm_first") != 0;
    c.share_embeddings = config.attr_int("share_embeddings") != 0;
    c.tie_embeddings = config.attr_int("tie_embeddings") != 0;
    return c;
}

// Before the model is built (as the GPT's check_config_fits_file): a valid /config, and weights that the
// file can hold (4 bytes per parameter at least) and that fit in memory (nn/encoder_decoder.h
// count_parameters, from the shapes alone).
void check_config_fits_file(const EncoderDecoderConfig& c, const std::string& path) {
    try {
        c.validate();
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(path + ": /config: " + e.what());
    }
    const double parameters = count_parameters(c);
    std::error_code error;
    const double file_bytes = static_cast<double>(std::filesystem::file_size(path, error));
    if (!error && 4.0 * parameters > file_bytes)
        throw std::runtime_error(path + ": /config describes a model of " + std::to_string(int64_t(parameters)) +
                                 " parameters (" + std::to_string(int64_t(4.0 * parameters)) +
                                 " bytes of weights) but the file has only " + std::to_string(int64_t(file_bytes)) +
                                 " bytes");
    const double available = available_memory_bytes();
    if (available > 0 && 4.0 * parameters > 0.9 * available)
        throw std::runtime_error(path + ": the model needs " + std::to_string(4.0 * parameters / (1 << 30)) +
                                 " GiB of weights, more than the memory available");
}

}  // namespace

void save_encoder_decoder(const std::string& path, const EncoderDecoder& model, const Tokenizer& tokenizer,
                          const std::string& train_config_toml, const std::function<void(H5File&)>& fill_more) {
    write_atomically(path, [&](H5File& file) {
        write_config(file, model.config());
        write_meta_and_weights(file, model, kKind);
        write_tokenizer(file, tokenizer);
        file.open_group("config").set_attr_string("train_config", train_config_toml);
        if (fill_more) fill_more(file);
    });
}

LoadedEncoderDecoder read_encoder_decoder(const H5File& file, std::optional<double> dropout) {
    const std::string& path = file.file_name();
    try {
        check_meta(file);
        require_model_kind(file, kKind, "gpt sample, gpt report, gpt serve and gpt export read model = gpt checkpoints");
        LoadedEncoderDecoder loaded;
        loaded.config = read_config(file);
        const H5Group config_group = file.open_group("config");
        if (config_group.has_attr("train_config")) loaded.train_config_toml = config_group.attr_string("train_config");
        loaded.tokenizer = read_tokenizer(file);
        if (loaded.tokenizer->vocab_size() + 2 != loaded.config.target_vocab_size)
            throw std::runtime_error(path + ": the tokenizer has " + std::to_string(loaded.tokenizer->vocab_size()) +
                                     " tokens (+ bos, eos) but the model's target_vocab_size is " +
                                     std::to_string(loaded.config.target_vocab_size));
        loaded.has_training_state = file.is_group("optimizer") && file.is_group("train");
        if (dropout) loaded.config.dropout = *dropout;
        check_config_fits_file(loaded.config, path);
        loaded.model = std::make_unique<EncoderDecoder>(loaded.config);
        read_model(file, *loaded.model);
        check_finite(*loaded.model, path);
        loaded.model->eval();
        return loaded;
    } catch (const std::bad_alloc& e) {
        throw std::runtime_error(path + ": out of memory while loading this checkpoint (" + e.what() + ")");
    }
}

LoadedEncoderDecoder load_encoder_decoder(const std::string& path, std::optional<double> dropout) {
    const H5File file = H5File::open_read(path);
    return read_encoder_decoder(file, dropout);
}

std::string checkpoint_model_kind(const std::string& path) {
    const H5File file = H5File::open_read(path);
    return model_kind(file);
}

}  // namespace gpt
