// gpt fill's library half (generate/fill.h): [CLS] text [SEP] with each literal "[MASK]" as the mask
// token, candidates the most probable ordinary tokens from the model's own softmax, and one-line errors.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/char_tokenizer.h"
#include "data/masked_lm.h"
#include "generate/fill.h"
#include "nn/init.h"

using namespace gpt;

namespace {

struct Bert {
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<GPT> model;
};

Bert tiny_bert(const std::string& kind = "bert") {
    Bert b;
    b.tokenizer = with_special_tokens(*CharTokenizer::train("abcde [.]"), masked_lm_token_names());
    GPTConfig c;
    c.kind = kind;
    c.vocab_size = b.tokenizer->vocab_size();
    c.block_size = 12;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 16;
    b.model = std::make_unique<GPT>(c);
    Generator generator(3);
    init_gpt2(*b.model, generator);
    b.model->eval();
    return b;
}

}  // namespace

TEST_CASE("fill: every [MASK] gets the top ordinary candidates with the model's probabilities") {
    const Bert b = tiny_bert();
    const MaskedLmTokens special = MaskedLmTokens::of(*b.tokenizer);
    const FillResult result = fill_masks(*b.model, *b.tokenizer, "a[MASK] b[MASK]", 4);
    // [CLS] a [MASK] ' ' b [MASK] [SEP]
    REQUIRE(result.ids.size() == 7);
    CHECK(result.ids.front() == special.cls);
    CHECK(result.ids.back() == special.sep);
    REQUIRE(result.masks.size() == 2);
    CHECK(result.masks[0].position == 2);
    CHECK(result.masks[1].position == 5);
    // The probabilities are the softmax of the model's logits at that position, over the whole vocabulary.
    NoGradGuard no_grad;
    const Tensor logits = b.model->forward(result.ids, 1, 7);
    const int64_t V = b.model->config().vocab_size;
    for (const MaskFill& mask : result.masks) {
        REQUIRE(mask.candidates.size() == 4);
        const float* row = logits.data() + mask.position * V;
        double total = 0.0;
        for (int64_t v = 0; v < V; ++v) total += std::exp(double(row[v]));
        for (size_t c = 0; c < mask.candidates.size(); ++c) {
            const Candidate& candidate = mask.candidates[c];
            CHECK(candidate.id < special.ordinary);  // never a special token
            CHECK(candidate.probability == doctest::Approx(std::exp(double(row[candidate.id])) / total).epsilon(1e-5));
            if (c > 0) CHECK(candidate.probability <= mask.candidates[c - 1].probability);
        }
        for (int32_t v = 0; v < special.ordinary; ++v) {  // nothing outside the list beats its last entry
            bool listed = false;
            for (const Candidate& candidate : mask.candidates) listed = listed || candidate.id == v;
            if (!listed) CHECK(std::exp(double(row[v])) / total <= mask.candidates.back().probability + 1e-7);
        }
    }
    // --top larger than the ordinary vocabulary: all of it.
    CHECK(fill_masks(*b.model, *b.tokenizer, "[MASK]", 100).masks[0].candidates.size() == size_t(special.ordinary));
}

TEST_CASE("fill: errors are one line naming the problem") {
    const Bert b = tiny_bert();
    CHECK_THROWS_WITH_AS(fill_masks(*b.model, *b.tokenizer, "abc", 3), doctest::Contains("--text has no [MASK]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(fill_masks(*b.model, *b.tokenizer, "aaaaa aaaa[MASK]", 3), doctest::Contains("block_size 12"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(fill_masks(*b.model, *b.tokenizer, "x[MASK]", 3), doctest::Contains("cannot be encoded"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(fill_masks(*b.model, *b.tokenizer, "a[MASK]", 0), doctest::Contains("--top must be >= 1"),
                         std::invalid_argument);
    const Bert causal = tiny_bert("gpt");
    CHECK_THROWS_WITH_AS(fill_masks(*causal.model, *causal.tokenizer, "a[MASK]", 3), doctest::Contains("needs a bert model"),
                         std::invalid_argument);
}
