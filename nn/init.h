// GPT-2 initialisation: normal(0, 0.02) for Linear and Embedding weights (an untied lm_head too), zeros
// for biases, norm gains 1 / bias 0 (LayerNorm, RMSNorm, the QK-norm gains q_norm / k_norm), and the residual output projections (attn.c_proj, mlp.c_proj) with
// std 0.02/√(2·n_layer), so the residual stream's variance does not grow with depth.
// Draws happen in named_parameters() order, so a seed fixes every weight.
#pragma once

#include "common/random.h"
#include "nn/encoder_decoder.h"
#include "nn/gpt.h"

namespace gpt {

void init_gpt2(GPT& model, Generator& generator);
// The same rules for the encoder–decoder Transformer (nn/encoder_decoder.h): embeddings, attention and
// feed-forward weights normal(0, 0.02), an untied lm_head too; every residual output projection
// (attn.c_proj, cross_attn.c_proj, mlp.c_proj) 0.02/√(2·(n_encoder_layer + n_decoder_layer)); LayerNorms
// 1/0; biases 0.
void init_encoder_decoder(EncoderDecoder& model, Generator& generator);

}  // namespace gpt
