#include "evaluate/encoder_decoder_loss.h"

#include <algorithm>
#include <numeric>

namespace gpt {

EncoderDecoderLoss encoder_decoder_loss(EncoderDecoder& model, const std::vector<ParallelExample>& examples,
                                        const Seq2SeqVocabulary& vocabulary, int64_t B, int64_t max_batches) {
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    Generator unused(0);  // eval mode draws nothing
    EncoderDecoderLoss result;
    double total = 0.0;  // Σ over batches of (mean loss · tokens): the mean per token over all of them
    for (size_t first = 0, batch_count = 0; first < examples.size(); first += static_cast<size_t>(B), ++batch_count) {
        if (max_batches > 0 && static_cast<int64_t>(batch_count) >= max_batches) break;
        std::vector<size_t> indices(std::min(static_cast<size_t>(B), examples.size() - first));
        std::iota(indices.begin(), indices.end(), first);
        const Seq2SeqBatch batch = make_seq2seq_batch(examples, indices, vocabulary);
        const Tensor logits = model.forward(batch.source, batch.B, batch.S, KeyPadding{batch.source_lengths, {}},
                                            batch.target_in, batch.T, KeyPadding{batch.target_lengths, {}}, unused);
        const int64_t tokens = std::accumulate(batch.target_lengths.begin(), batch.target_lengths.end(), int64_t{0});
        total += static_cast<double>(EncoderDecoder::loss(logits, batch.target_out).item()) * static_cast<double>(tokens);
        result.tokens += tokens;
        result.examples += batch.B;
    }
    result.loss = result.tokens > 0 ? total / static_cast<double>(result.tokens) : 0.0;
    return result;
}

}  // namespace gpt
