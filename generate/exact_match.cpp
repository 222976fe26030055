#include "generate/exact_match.h"

#include "generate/seq2seq.h"

namespace gpt {

ExactMatch exact_match(const EncoderDecoder& model, const std::vector<ParallelExample>& examples,
                       const Seq2SeqVocabulary& vocabulary, int64_t max_examples) {
    Seq2SeqOptions options;
    options.bos = vocabulary.bos();
    options.eos = vocabulary.eos();
    options.max_new_tokens = model.config().target_block_size - 1;
    ExactMatch result;
    for (const ParallelExample& example : examples) {
        if (max_examples > 0 && result.total >= max_examples) break;
        const Hypothesis h = greedy_decode(model, example.source, options);
        result.correct += h.finished && h.tokens == example.target ? 1 : 0;
        result.total += 1;
    }
    return result;
}

}  // namespace gpt
