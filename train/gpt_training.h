// model = gpt as the training loop sees it (train/training_model.h): the token files of the run
// (train/run_data.h), the GPT, and the BatchSampler of training windows (data/batch_sampler.h).
#pragma once

#include <memory>

#include "nn/gpt.h"
#include "train/config.h"
#include "train/run_data.h"
#include "train/training_model.h"

namespace gpt {

// `model` in train mode; the sampler is seeded with config.seed.
std::unique_ptr<TrainingModel> make_gpt_training(RunTokens data, std::unique_ptr<GPT> model, const TrainConfig& config);

}  // namespace gpt
