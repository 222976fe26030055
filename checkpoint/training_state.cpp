// /optimizer and /train: the parts of a checkpoint that only resuming needs.
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <cstdint>

#include "checkpoint/training_state.h"
#include "io/hdf5.h"

namespace gpt {

namespace {

// The batch sampler's state as the flat uint64 words /train/sampler_state stores: rng[0..3], batches_drawn.
std::vector<uint64_t> sampler_state_to_words(const SamplerState& state) {
    std::vector<uint64_t> words(state.rng.begin(), state.rng.end());
    words.push_back(static_cast<uint64_t>(state.batches_drawn));
    return words;
}

SamplerState sampler_state_from_words(const std::string& file_name, const std::vector<uint64_t>& words) {
    if (words.size() != 5)
        throw std::runtime_error(file_name + ": /train/sampler_state has " + std::to_string(words.size()) +
                                 " words, expected 5");
    SamplerState state;
    for (size_t i = 0; i < 4; ++i) state.rng[i] = words[i];
    // xoshiro256**'s all-zero state is a fixed point (every draw 0: the same batch for ever); a count
    // past int64 would wrap negative. Either would silently change training: refused.
    if (words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0)
        throw std::runtime_error(file_name + ": /train/sampler_state: the generator state is all zero");
    if (words[4] > static_cast<uint64_t>(INT64_MAX))
        throw std::runtime_error(file_name + ": /train/sampler_state: batches drawn " + std::to_string(words[4]) +
                                 " is out of range");
    state.batches_drawn = static_cast<int64_t>(words[4]);
    return state;
}

// /train ranks and rank_dropout_rng, absent in files from before data-parallel training (one rank).
void read_rank_states(const std::string& path, const H5Group& train, TrainProgress& progress) {
    progress.ranks = train.has_attr("ranks") ? train.attr_int("ranks") : 1;
    if (progress.ranks < 1) throw std::runtime_error(path + ": /train ranks " + std::to_string(progress.ranks) + " is below 1");
    if (!train.exists("rank_dropout_rng")) return;
    const std::vector<uint64_t> words = train.read<uint64_t>("rank_dropout_rng", H5Shape{progress.ranks, 4});
    for (int64_t r = 0; r < progress.ranks; ++r) {
        Generator::State state;
        for (size_t i = 0; i < 4; ++i) state[i] = words[static_cast<size_t>(r) * 4 + i];
        if (state == Generator::State{})
            throw std::runtime_error(path + ": /train/rank_dropout_rng: rank " + std::to_string(r) + "'s generator state is all zero");
        progress.rank_dropout_rng.push_back(state);
    }
}

// /optimizer: AdamW's options and step, and its moments named as its parameters.
void write_optimizer(H5File& file, const AdamW& optimizer) {
    H5Group adam = file.require_group("optimizer");
    const AdamWOptions& options = optimizer.options();
    adam.set_attr_int("step", optimizer.step_count());
    adam.set_attr_double("lr", options.lr);
    adam.set_attr_double("beta1", options.beta1);
    adam.set_attr_double("beta2", options.beta2);
    adam.set_attr_double("eps", options.eps);
    adam.set_attr_double("weight_decay", options.weight_decay);
    for (const auto& [name, shape] : optimizer.parameter_shapes()) {
        const H5Shape h5_shape(shape.begin(), shape.end());
        adam.write<float>("m/" + name, h5_shape, optimizer.first_moment(name).data());
        adam.write<float>("v/" + name, h5_shape, optimizer.second_moment(name).data());
    }
}

// /muon: Muon's options and step, and each matrix's momentum.
void write_muon(H5File& file, const Muon& muon) {
    H5Group group = file.require_group("muon");
    const MuonOptions& options = muon.options();
    group.set_attr_int("step", muon.step_count());
    group.set_attr_double("lr", options.lr);
    group.set_attr_double("momentum", options.momentum);
    group.set_attr_int("nesterov", options.nesterov ? 1 : 0);
    group.set_attr_int("ns_steps", options.ns_steps);
    group.set_attr_double("ns_a", options.ns_a);
    group.set_attr_double("ns_b", options.ns_b);
    group.set_attr_double("ns_c", options.ns_c);
    group.set_attr_double("weight_decay", options.weight_decay);
    for (const auto& [name, tensor] : muon.parameters()) {
        const H5Shape shape(tensor.shape().begin(), tensor.shape().end());
        group.write<float>("momentum/" + name, shape, muon.momentum(name).data());
    }
}

// /train: the step, the tokens seen, the best validation loss and the generators' states.
void write_progress(H5File& file, const TrainProgress& progress) {
    H5Group train = file.require_group("train");
    train.set_attr_int("iter", progress.iter);
    train.set_attr_int("tokens_seen", progress.tokens_seen);
    train.set_attr_double("best_val_loss", progress.best_val_loss);
    train.write<uint64_t>("dropout_rng", std::vector<uint64_t>(progress.dropout_rng.begin(), progress.dropout_rng.end()));
    train.write<uint64_t>("sampler_state", sampler_state_to_words(progress.sampler));
    train.set_attr_int("ranks", progress.ranks);
    // One row per rank; a single process's file (no rank states given) holds its one generator.
    std::vector<Generator::State> ranks = progress.rank_dropout_rng;
    if (ranks.empty()) ranks.push_back(progress.dropout_rng);
    std::vector<uint64_t> rank_words(ranks.size() * 4);
    for (size_t r = 0; r < ranks.size(); ++r)
        for (size_t i = 0; i < 4; ++i) rank_words[r * 4 + i] = ranks[r][i];
    train.write<uint64_t>("rank_dropout_rng", H5Shape{static_cast<int64_t>(ranks.size()), 4}, rank_words.data());
}

}  // namespace

void write_training_state(H5File& file, const AdamW& optimizer, const Muon* muon, const TrainProgress& progress) {
    write_optimizer(file, optimizer);
    if (muon) write_muon(file, *muon);
    write_progress(file, progress);
}

ResumeState read_training_state(const H5File& file, const Module& model) {
    const std::string& path = file.file_name();
    if (!file.is_group("optimizer") || !file.is_group("train"))
        throw std::runtime_error(path + ": checkpoint has no /optimizer and /train groups (weights only?)");
    ResumeState state;
    const H5Group adam = file.open_group("optimizer");
    state.optimizer.step = adam.attr_int("step");
    const bool has_muon = file.is_group("muon");
    if (has_muon) state.muon.emplace();
    std::optional<H5Group> muon;
    if (has_muon) {
        muon.emplace(file.open_group("muon"));
        state.muon->step = muon->attr_int("step");
        if (state.muon->step != state.optimizer.step)
            throw std::runtime_error(path + ": /muon step " + std::to_string(state.muon->step) + " differs from /optimizer step " +
                                     std::to_string(state.optimizer.step));
    }
    for (const auto& [name, tensor] : model.named_parameters()) {
        const H5Shape expected(tensor.shape().begin(), tensor.shape().end());
        if (has_muon && muon_takes(name, tensor.shape()))
            state.muon->momentum[name] = muon->read<float>("momentum/" + name, expected);
        else
            state.optimizer.moments[name] = {adam.read<float>("m/" + name, expected), adam.read<float>("v/" + name, expected)};
    }

    const H5Group train = file.open_group("train");
    TrainProgress& progress = state.progress;
    progress.iter = train.attr_int("iter");
    progress.tokens_seen = train.attr_int("tokens_seen");
    progress.best_val_loss = train.attr_double("best_val_loss");
    const std::vector<uint64_t> rng = train.read<uint64_t>("dropout_rng", H5Shape{4});
    for (size_t i = 0; i < 4; ++i) progress.dropout_rng[i] = rng[i];
    if (rng[0] == 0 && rng[1] == 0 && rng[2] == 0 && rng[3] == 0)
        throw std::runtime_error(path + ": /train/dropout_rng: the generator state is all zero");
    if (state.optimizer.step < 0)
        throw std::runtime_error(path + ": /optimizer step " + std::to_string(state.optimizer.step) + " is negative");
    if (progress.tokens_seen < 0) throw std::runtime_error(path + ": /train tokens_seen is negative");
    progress.sampler = sampler_state_from_words(path, train.read<uint64_t>("sampler_state").values);
    if (progress.iter < 0) throw std::runtime_error(path + ": /train iter is negative");
    read_rank_states(path, train, progress);
    if (state.optimizer.step != progress.iter)
        throw std::runtime_error(path + ": /optimizer step " + std::to_string(state.optimizer.step) +
                                 " differs from /train iter " + std::to_string(progress.iter));
    return state;
}

ResumableCheckpoint load_resumable_checkpoint(const std::string& path, const CheckpointLoadOptions& options,
                                              bool training_state) {
    try {
        const H5File file = H5File::open_read(path);
        ResumableCheckpoint loaded;
        static_cast<LoadedCheckpoint&>(loaded) = read_checkpoint(file, options);
        if (training_state && !loaded.has_training_state)
            throw std::runtime_error(path + ": holds weights only (no /optimizer, /train): use --init_from");
        if (training_state) loaded.training = read_training_state(file, *loaded.model);
        return loaded;
    } catch (const std::bad_alloc& e) {
        throw std::runtime_error(path + ": out of memory while loading this checkpoint (" + e.what() + ")");
    }
}

ResumableEncoderDecoder load_resumable_encoder_decoder(const std::string& path, std::optional<double> dropout,
                                                       bool training_state) {
    try {
        const H5File file = H5File::open_read(path);
        ResumableEncoderDecoder loaded;
        static_cast<LoadedEncoderDecoder&>(loaded) = read_encoder_decoder(file, dropout);
        if (training_state && !loaded.has_training_state)
            throw std::runtime_error(path + ": holds weights only (no /optimizer, /train): it cannot be resumed");
        if (training_state) loaded.training = read_training_state(file, *loaded.model);
        return loaded;
    } catch (const std::bad_alloc& e) {
        throw std::runtime_error(path + ": out of memory while loading this checkpoint (" + e.what() + ")");
    }
}

int64_t checkpoint_step(const std::filesystem::path& checkpoint) {
    const H5File file = H5File::open_read(checkpoint.string());
    if (!file.is_group("train")) return -1;
    return file.open_group("train").attr_int("iter");
}

}  // namespace gpt
