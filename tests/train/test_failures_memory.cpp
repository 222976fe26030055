// The memory estimate (train/memory_estimate.h): its parameter count agrees with the model actually
// built, its terms scale with the shapes as the formula says, and a config that cannot fit is refused
// with the estimate in the message.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "nn/gpt.h"
#include "train/memory_estimate.h"

using namespace gpt;

namespace {

GPTConfig small_config() {
    GPTConfig c;
    c.vocab_size = 37;
    c.block_size = 16;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_embd = 32;
    return c;
}

}  // namespace

TEST_CASE("count_parameters equals the built model's parameter_count") {
    GPTConfig c = small_config();
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.bias = false;
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.n_kv_head = 2;  // grouped-query attention: a narrower qkv projection
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.pos_encoding = "sinusoidal";  // no learned position table
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.pos_encoding = "rope";  // no position table either
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.n_kv_head = 0;
    c.attention = "mla";  // latent attention: down/up projections, decoupled rotary q and k
    c.kv_latent_dim = 12;
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.q_latent_dim = 20;
    c.bias = true;
    CHECK(count_parameters(c) == GPT(c).parameter_count());
    c.pos_encoding = "learned";  // no rotary projections
    CHECK(count_parameters(c) == GPT(c).parameter_count());
}

TEST_CASE("the estimate: 16 bytes per parameter of state, activations linear in the batch") {
    const GPTConfig c = small_config();
    const MemoryEstimate one = estimate_training_memory(c, 1);
    const MemoryEstimate four = estimate_training_memory(c, 4);
    CHECK(one.state_bytes == doctest::Approx(16.0 * static_cast<double>(GPT(c).parameter_count())));
    CHECK(four.state_bytes == one.state_bytes);
    CHECK(four.activation_bytes == doctest::Approx(4.0 * one.activation_bytes));
    // B=1, T=16, C=32, V=37, H=4, L=2, no dropout, in floats:
    //   embeddings 2·TC + L·(15·TC + T·3C + H·T(T+1)/2 + 4T) + TC + 2T + 3·TV
    const double T = 16, C = 32, V = 37, H = 4, L = 2;
    const double floats = 2 * T * C + L * (15 * T * C + T * 3 * C + H * T * (T + 1) / 2 + 4 * T) + T * C + 2 * T + 3 * T * V;
    CHECK(one.activation_bytes == doctest::Approx(4.0 * floats));
    GPTConfig with_dropout = c;
    with_dropout.dropout = 0.1f;
    // Dropout keeps no mask (regenerated from its seed in backward): the same estimate.
    CHECK(estimate_training_memory(with_dropout, 1).activation_bytes == one.activation_bytes);
}

TEST_CASE("check_training_memory refuses what does not fit and names the estimate") {
    const GPTConfig c = small_config();
    const MemoryEstimate estimate = estimate_training_memory(c, 8);
    CHECK_NOTHROW(check_training_memory(c, 8, 2.0 * estimate.total_bytes()));
    CHECK_NOTHROW(check_training_memory(c, 8, -1.0));  // unknown: not refused
    try {
        check_training_memory(c, 8, 0.5 * estimate.total_bytes());
        FAIL("not refused");
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        CHECK(message.find("training would need about") == 0);
        CHECK(message.find(std::to_string(estimate.parameters) + " parameters") != std::string::npos);
        CHECK(message.find("batch_size 8") != std::string::npos);
        CHECK(message.find("of memory is available") != std::string::npos);
    }
    CHECK(available_memory_bytes() > 0.0);  // /proc/meminfo is readable on Linux
}

TEST_CASE("model = transformer: count_parameters equals the built model's, and the check names its options") {
    EncoderDecoderConfig c;
    c.source_vocab_size = c.target_vocab_size = 29;
    c.source_block_size = 12;
    c.target_block_size = 10;
    c.n_encoder_layer = 2;
    c.n_decoder_layer = 3;
    c.n_head = 2;
    c.n_embd = 16;
    c.dim_feedforward = 40;
    for (const bool norm_first : {false, true})
        for (const bool shared : {true, false})
            for (const bool tied : {true, false}) {
                CAPTURE(norm_first);
                CAPTURE(shared);
                CAPTURE(tied);
                EncoderDecoderConfig v = c;
                v.norm_first = norm_first;
                v.share_embeddings = shared;
                v.source_vocab_size = shared ? 29 : 31;
                v.tie_embeddings = tied;
                CHECK(count_parameters(v) == static_cast<double>(EncoderDecoder(v).parameter_count()));
            }
    const MemoryEstimate one = estimate_training_memory(c, 1), four = estimate_training_memory(c, 4);
    CHECK(one.state_bytes == doctest::Approx(16.0 * static_cast<double>(EncoderDecoder(c).parameter_count())));
    CHECK(four.activation_bytes == doctest::Approx(4.0 * one.activation_bytes));
    CHECK_NOTHROW(check_training_memory(c, 4, 2.0 * four.total_bytes()));
    CHECK_THROWS_WITH_AS(check_training_memory(c, 4, 0.5 * four.total_bytes()),
                         doctest::Contains("reduce n_embd, n_encoder_layer, n_decoder_layer"), std::runtime_error);
}
