#include <cstdio>
#include "nn/gpt.h"
#include "nn/init.h"
int main() {
    gpt::GPTConfig c; c.vocab_size = 10; c.block_size = 4; c.n_layer = 1; c.n_head = 2; c.n_embd = 8;
    gpt::GPT model(c); gpt::Generator g(1); gpt::init_gpt2(model, g);
    std::vector<int32_t> ids{1, 2, 3, 4};
    gpt::Tensor loss = gpt::GPT::loss(model.forward(ids, 1, 4, g), {2, 3, 4, 5});
    loss.backward();
    std::printf("loss %.4f, %lld parameters\n", loss.item(), (long long)model.parameter_count());
}
