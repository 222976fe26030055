// /optimizer and /train: the parts of a checkpoint that only resuming needs.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "io/hdf5.h"
#include "optim/adamw.h"
#include "train/checkpoint.h"
#include "train/sampler_words.h"

namespace gpt {

void save_checkpoint(const std::string& path, const GPT& model, const Tokenizer& tokenizer, const AdamW& optimizer,
                     const TrainConfig& config, const TrainProgress& progress) {
    write_atomically(path, [&](H5File& file) {
        write_model(file, model);
        write_tokenizer(file, tokenizer);
        file.open_group("config").set_attr_string("train_config", config_to_toml(config));

        H5Group adam = file.require_group("optimizer");
        const AdamWOptions& options = optimizer.options();
        adam.set_attr_int("step", optimizer.step_count());
        adam.set_attr_double("lr", options.lr);
        adam.set_attr_double("beta1", options.beta1);
        adam.set_attr_double("beta2", options.beta2);
        adam.set_attr_double("eps", options.eps);
        adam.set_attr_double("weight_decay", options.weight_decay);
        for (const auto& [name, tensor] : model.named_parameters()) {
            const H5Shape shape(tensor.shape().begin(), tensor.shape().end());
            adam.write<float>("m/" + name, shape, optimizer.first_moment(name).data());
            adam.write<float>("v/" + name, shape, optimizer.second_moment(name).data());
        }

        H5Group train = file.require_group("train");
        train.set_attr_int("iter", progress.iter);
        train.set_attr_int("tokens_seen", progress.tokens_seen);
        train.set_attr_double("best_val_loss", progress.best_val_loss);
        train.write<uint64_t>("dropout_rng", std::vector<uint64_t>(progress.dropout_rng.begin(), progress.dropout_rng.end()));
        train.write<uint64_t>("sampler_state", progress.sampler_state);
    });
}

TrainProgress load_training_state(const std::string& path, AdamW& optimizer) {
    H5File file = H5File::open_read(path);
    if (!file.is_group("optimizer") || !file.is_group("train"))
        throw std::runtime_error(path + ": checkpoint has no /optimizer and /train groups (weights only?)");
    const H5Group adam = file.open_group("optimizer");
    AdamWState state;
    state.step = adam.attr_int("step");
    for (const auto& [name, shape] : optimizer.parameter_shapes()) {
        const H5Shape expected(shape.begin(), shape.end());
        state.moments[name] = {adam.read<float>("m/" + name, expected), adam.read<float>("v/" + name, expected)};
    }
    optimizer.load_state(state);

    const H5Group train = file.open_group("train");
    TrainProgress progress;
    progress.iter = train.attr_int("iter");
    progress.tokens_seen = train.attr_int("tokens_seen");
    progress.best_val_loss = train.attr_double("best_val_loss");
    const std::vector<uint64_t> rng = train.read<uint64_t>("dropout_rng", H5Shape{4});
    for (size_t i = 0; i < 4; ++i) progress.dropout_rng[i] = rng[i];
    progress.sampler_state = train.read<uint64_t>("sampler_state").values;
    if (progress.iter < 0) throw std::runtime_error(path + ": /train iter is negative");
    return progress;
}

}  // namespace gpt
