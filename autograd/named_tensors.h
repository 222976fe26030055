// A parameter list: (dotted name, tensor) in the model's order, as nn::Module::named_parameters()
// returns it and every optim/ function takes it. Declared here, below both, so that optim/ needs only
// autograd/ to compile.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace gpt {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

}  // namespace gpt
