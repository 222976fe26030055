#include "report/pair_analysis.h"

#include <stdexcept>
#include <string>

namespace gpt {

PairAnalysis analyse_pair(const EncoderDecoder& model, const Seq2SeqVocabulary& vocabulary,
                          const std::vector<int32_t>& source, const std::vector<int32_t>& target) {
    if (model.is_training())
        throw std::invalid_argument("analyse_pair: the model is in train mode (dropout on); call eval() first");
    const EncoderDecoderConfig& c = model.config();
    const auto S = static_cast<int64_t>(source.size());
    const auto T = static_cast<int64_t>(target.size()) + 1;
    if (S < 1 || S > c.source_block_size)
        throw std::invalid_argument("the source has " + std::to_string(S) + " tokens; the model reads 1.." +
                                    std::to_string(c.source_block_size) + " (source_block_size)");
    if (T > c.target_block_size)
        throw std::invalid_argument("the target has " + std::to_string(T - 1) + " tokens; the decoder reads at most " +
                                    std::to_string(c.target_block_size - 1) + " after its bos (target_block_size " +
                                    std::to_string(c.target_block_size) + ")");
    NoGradGuard no_grad;
    Generator unused(0);  // eval mode: no dropout draws
    PairAnalysis out;
    out.S = S;
    out.T = T;
    out.decoder_input.push_back(vocabulary.bos());
    out.decoder_input.insert(out.decoder_input.end(), target.begin(), target.end());
    const Tensor memory = model.encode(source, 1, S, {}, unused, &out.attention);
    const Tensor hidden =
        model.decode(out.decoder_input, 1, T, model.memory_kv(memory), {}, {}, unused, nullptr, &out.attention);
    const Tensor logits = model.logits(hidden);  // [1, T, V]
    out.logits.assign(logits.data(), logits.data() + logits.numel());
    return out;
}

}  // namespace gpt
