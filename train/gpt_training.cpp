#include "train/gpt_training.h"

#include <optional>

#include "data/masked_lm.h"
#include "evaluate/evaluate.h"
#include "train/checkpoint.h"
#include "train/text_sample.h"

namespace gpt {

namespace {

class GptTraining final : public TrainingModel {
public:
    GptTraining(RunTokens data, std::unique_ptr<GPT> model, const TrainConfig& config)
        : data_(std::move(data)),
          model_(std::move(model)),
          sampler_(data_.train.tokens(), config.batch_size, config.model.block_size, static_cast<uint64_t>(config.seed)) {
        if (model_->config().bidirectional()) masked_lm_ = MaskedLmTokens::of(*data_.tokenizer);
    }

    Module& module() override { return *model_; }
    const Tokenizer& tokenizer() const override { return *data_.tokenizer; }
    std::string data_summary() const override {
        return "train " + std::to_string(data_.train.size()) + " tokens, val " + std::to_string(data_.val.size()) +
               " tokens";
    }
    int64_t positions_per_sequence() const override { return sampler_.block_size(); }

    // The logits are not kept here: then cross-entropy's backward writes their gradient over them
    // (Grads::reuse_for_input). During a sequence-length warm-up (length < the sampler's T) each window
    // keeps its first `length` tokens: the sampler draws as always, so its state and the data order do
    // not depend on the warm-up.
    // model = bert: the (cropped) windows become masked-LM examples (data/masked_lm.h), masked from the
    // sampler's state after the draw (so resume and data-parallel ranks mask alike); the loss is then over
    // the masked positions alone (cross_entropy ignores the −100 targets).
    Tensor next_batch_loss(int64_t length, Generator& dropout) override {
        Batch batch = sampler_.next_batch();
        const int64_t full = sampler_.block_size(), T = length, B = sampler_.batch_size();
        if (T < full) {
            for (int64_t b = 0; b < B; ++b)
                for (int64_t t = 0; t < T; ++t) {
                    batch.inputs[static_cast<size_t>(b * T + t)] = batch.inputs[static_cast<size_t>(b * full + t)];
                    batch.targets[static_cast<size_t>(b * T + t)] = batch.targets[static_cast<size_t>(b * full + t)];
                }
            batch.inputs.resize(static_cast<size_t>(B * T));
            batch.targets.resize(static_cast<size_t>(B * T));
        }
        if (masked_lm_) {
            Generator masking = masking_generator(sampler_.state());
            make_masked_lm_batch(batch.inputs, batch.targets, B, T, *masked_lm_, masking);
        }
        return GPT::loss(model_->forward(batch.inputs, B, T, dropout), batch.targets);
    }
    void skip_batch() override { sampler_.skip_batch(); }
    SamplerState batch_state() const override { return sampler_.state(); }
    void set_batch_state(const SamplerState& state) override { sampler_.set_state(state); }

    double validation_loss(const TrainConfig& config, uint64_t seed) override {
        return estimate_loss(*model_, data_.val.tokens(), config.batch_size, config.model.block_size, config.eval_iters,
                             seed, masked_lm_ ? &*masked_lm_ : nullptr);
    }
    std::string evaluation_sample(const TrainConfig& config, int64_t step) override {
        if (config.eval_sample_tokens <= 0 || masked_lm_) return "";  // a bert model does not generate
        return gpt::evaluation_sample(*model_, *data_.tokenizer, config.eval_sample_tokens, config.seed, step);
    }
    void print_final_sample(const TrainConfig& config) override {
        if (config.sample_tokens > 0 && !masked_lm_) print_end_of_training_sample(*model_, *data_.tokenizer, config);
    }

    void save_checkpoint(const std::string& path, const AdamW& optimizer, const Muon* muon, const TrainConfig& config,
                         const TrainProgress& progress) const override {
        gpt::save_checkpoint(path, *model_, *data_.tokenizer, optimizer, muon, config, progress);
    }
    void save_weights(const std::string& path, const TrainConfig& config) const override {
        gpt::save_weights(path, *model_, *data_.tokenizer, config);
    }

    GPT* gpt() override { return model_.get(); }

private:
    RunTokens data_;
    std::unique_ptr<GPT> model_;
    BatchSampler sampler_;
    std::optional<MaskedLmTokens> masked_lm_;  // model = bert: its special tokens
};

}  // namespace

std::unique_ptr<TrainingModel> make_gpt_training(RunTokens data, std::unique_ptr<GPT> model, const TrainConfig& config) {
    return std::make_unique<GptTraining>(std::move(data), std::move(model), config);
}

}  // namespace gpt
