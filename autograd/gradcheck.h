// Finite-difference check of an op's backward, for the tests.
//
// The scalar probed is L = Σ_i out_i · r_i with a fixed random r (so every output element and every
// cross term of the Jacobian matters, not just the sum). Analytic: backward seeded with r. Numeric:
// central differences (L(x + ε) − L(x − ε)) / 2ε per input element, with L accumulated in double.
// The forward itself runs in float32, so the numeric estimate carries an error of roughly
// (float rounding of L) / ε ≈ 1e-7·|L| / ε: with ε = 1e-3 that is ~1e-4 relative, which is why the
// tests accept ~1e-2 relative (and an absolute floor for gradients near zero).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace gpt {

struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0.0;
    double max_rel_error = 0.0;  // |analytic − numeric| / max(|analytic|, |numeric|, abs_floor)
    std::string worst;           // "input 1 element 17: analytic 0.3 numeric 0.31"
};

struct GradcheckOptions {
    double epsilon = 1e-3;
    double rel_tolerance = 1e-2;
    double abs_floor = 1e-3;  // below this magnitude errors are judged absolutely
    uint64_t seed = 42;
};

// `f` maps the inputs to an output of any shape. Inputs must require grad (those that do not are not
// checked). The inputs' values are restored afterwards; their gradients are overwritten.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                          const GradcheckOptions& options = {});

}  // namespace gpt
