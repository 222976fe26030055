#include "train/encoder_decoder_training.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/regular_file.h"
#include "data/corpus.h"
#include "data/prepare.h"
#include "data/example_sampler.h"
#include "evaluate/encoder_decoder_loss.h"
#include "generate/seq2seq.h"
#include "nn/init.h"
#include "train/checkpoint.h"
#include "train/text_sample.h"

namespace gpt {

namespace {

// The run's tokenizer trained (char, bpe) or read (gpt2) on the whole file, source and target sides alike,
// as model = gpt's is on its corpus (data/prepare.h make_tokenizer).
std::shared_ptr<const Tokenizer> train_tokenizer(const TrainConfig& config) {
    try {
        require_regular_file(config.data, "data", int64_t{1} << 32);
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
    PrepareOptions options;
    options.tokenizer_type = config.tokenizer;
    options.tokenizer_files = config.tokenizer_files;
    options.vocab_size = static_cast<int32_t>(config.vocab_size);
    options.replace_invalid_utf8 = config.invalid_utf8 == "replace";
    // Each message already names its file: the corpus (read_corpus) or the tokenizer's (gpt2's files).
    try {
        return make_tokenizer(options, read_corpus(config.data));
    } catch (const std::invalid_argument&) {
        throw;
    } catch (const std::exception& e) {
        throw std::invalid_argument(e.what());
    }
}

class EncoderDecoderTraining final : public TrainingModel {
public:
    EncoderDecoderTraining(EncoderDecoderData data, std::unique_ptr<EncoderDecoder> model, const TrainConfig& config)
        : data_(std::move(data)),
          model_(std::move(model)),
          sampler_(static_cast<int64_t>(data_.examples.train.size()), config.batch_size,
                   static_cast<uint64_t>(config.seed)),
          label_smoothing_(static_cast<float>(config.encoder_decoder.label_smoothing)),
          block_size_(config.model.block_size) {}

    Module& module() override { return *model_; }
    const Tokenizer& tokenizer() const override { return *data_.tokenizer; }
    std::string data_summary() const override {
        return "train " + std::to_string(data_.examples.train.size()) + " examples, held out " +
               std::to_string(data_.examples.held_out.size()) + " examples";
    }
    int64_t positions_per_sequence() const override { return block_size_; }

    Tensor next_batch_loss(int64_t /*length*/, Generator& dropout) override {
        const std::vector<size_t> indices = sampler_.next_batch();
        const Seq2SeqBatch batch = make_seq2seq_batch(data_.examples.train, indices, data_.vocabulary);
        const Tensor logits =
            model_->forward(batch.source, batch.B, batch.S, KeyPadding{batch.source_lengths, {}}, batch.target_in,
                            batch.T, KeyPadding{batch.target_lengths, {}}, dropout);
        return EncoderDecoder::loss(logits, batch.target_out, label_smoothing_);
    }
    void skip_batch() override { sampler_.skip_batch(); }
    SamplerState batch_state() const override { return sampler_.state(); }
    void set_batch_state(const SamplerState& state) override { sampler_.set_state(state); }

    double validation_loss(const TrainConfig& config, uint64_t /*seed: the held-out order is fixed*/) override {
        return encoder_decoder_loss(*model_, data_.examples.held_out, data_.vocabulary, config.batch_size,
                                    config.eval_iters)
            .loss;
    }
    // The first held-out example, "source → greedy output".
    std::string evaluation_sample(const TrainConfig& config, int64_t /*step*/) override {
        return config.eval_sample_tokens > 0 ? translation(data_.examples.held_out.front()) : "";
    }
    void print_final_sample(const TrainConfig& config) override {
        if (config.sample_tokens <= 0) return;
        const size_t shown = std::min<size_t>(3, data_.examples.held_out.size());
        std::fprintf(stderr, "--- %zu held-out example(s), greedy ---\n", shown);
        for (size_t i = 0; i < shown; ++i) {
            const ParallelExample& e = data_.examples.held_out[i];
            std::printf("%s (expected %s)\n", translation(e).c_str(),
                        valid_utf8(data_.tokenizer->decode(e.target)).c_str());
        }
        std::fflush(stdout);
    }

    void save_checkpoint(const std::string& path, const AdamW& optimizer, const Muon* muon, const TrainConfig& config,
                         const TrainProgress& progress) const override {
        gpt::save_checkpoint(path, *model_, *data_.tokenizer, optimizer, muon, config, progress);
    }
    void save_weights(const std::string& path, const TrainConfig& config) const override {
        gpt::save_weights(path, *model_, *data_.tokenizer, config);
    }

    EncoderDecoder* encoder_decoder() override { return model_.get(); }
    const std::vector<ParallelExample>* held_out_examples() const override { return &data_.examples.held_out; }

private:
    std::string translation(const ParallelExample& example) {
        model_->eval();
        Seq2SeqOptions options;
        options.bos = data_.vocabulary.bos();
        options.eos = data_.vocabulary.eos();
        options.max_new_tokens = model_->config().target_block_size - 1;
        const Hypothesis h = greedy_decode(*model_, example.source, options);
        model_->train();
        return valid_utf8(data_.tokenizer->decode(example.source)) + " → " + valid_utf8(decode_target(*data_.tokenizer, h.tokens));
    }

    EncoderDecoderData data_;
    std::unique_ptr<EncoderDecoder> model_;
    ExampleSampler sampler_;
    float label_smoothing_;
    int64_t block_size_;
};

}  // namespace

EncoderDecoderData read_encoder_decoder_data(const TrainConfig& config, std::shared_ptr<const Tokenizer> tokenizer) {
    EncoderDecoderData data;
    data.tokenizer = tokenizer ? std::move(tokenizer) : train_tokenizer(config);
    data.vocabulary.tokenizer_size = data.tokenizer->vocab_size();
    const EncoderDecoderConfig shape = config.encoder_decoder_config(data.vocabulary.size());
    std::vector<ParallelExample> examples =
        read_parallel_corpus(config.data, *data.tokenizer, {shape.source_block_size, shape.target_block_size});
    data.examples = split_held_out(std::move(examples), config.val_fraction, config.data);
    return data;
}

std::unique_ptr<TrainingModel> make_encoder_decoder_training(EncoderDecoderData data,
                                                             std::unique_ptr<EncoderDecoder> model,
                                                             const TrainConfig& config) {
    if (!model) {
        model = std::make_unique<EncoderDecoder>(config.encoder_decoder_config(data.vocabulary.size()));
        Generator init_generator(static_cast<uint64_t>(config.seed));
        init_encoder_decoder(*model, init_generator);
    }
    model->train();
    return std::make_unique<EncoderDecoderTraining>(std::move(data), std::move(model), config);
}

}  // namespace gpt
