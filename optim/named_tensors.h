// The parameter list every optim/ function takes: (dotted name, tensor) in the model's order, as
// nn::Module::named_parameters() returns it. The alias is declared identically in nn/module.h; a
// repeated alias of the same type is legal C++, and optim/ needs only autograd/ to compile.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace gpt {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

}  // namespace gpt
