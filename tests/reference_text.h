// The text format in which the C++ tests hand tensors to a PyTorch reference script and read its results
// back (tests/reference_text.py is the Python side), and the comparison they judge the results by.
// One tensor per line:  <name> <ndim> <dims...> : <values...>
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace gpt::test {

struct NamedValues {
    Shape shape;
    std::vector<double> values;
};

inline void write_tensor(std::ofstream& file, const std::string& name, const Shape& shape,
                         const std::vector<float>& values) {
    file << name << ' ' << shape.size();
    for (int64_t d : shape) file << ' ' << d;
    file << " :";
    char buffer[32];
    for (float v : values) {
        std::snprintf(buffer, sizeof buffer, " %.9g", static_cast<double>(v));  // round-trips float32
        file << buffer;
    }
    file << '\n';
}

inline std::map<std::string, NamedValues> read_tensors(const std::string& path) {
    std::map<std::string, NamedValues> tensors;
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line)) {
        std::istringstream in(line);
        std::string name, colon;
        size_t ndim = 0;
        in >> name >> ndim;
        NamedValues t;
        t.shape.resize(ndim);
        for (auto& d : t.shape) in >> d;
        in >> colon;
        double v = 0.0;
        while (in >> v) t.values.push_back(v);
        tensors[name] = std::move(t);
    }
    return tensors;
}

// Worst |ours − ref| / max(|ref|, 1e-2·max|ref|): relative per element, except that elements under a
// hundredth of the tensor's largest are judged against that hundredth. Their float32 rounding comes
// from sums of terms of the tensor's scale (an attention output near 0 is Σ P·v with |v| ~ 1), so it
// is ~1e-7 of the scale, not of their own size; measured with a 1e-3 floor it reached 1.5e-5.
inline double compare(const std::vector<float>& ours, const NamedValues& ref) {
    REQUIRE(ours.size() == ref.values.size());
    double scale = 0.0;
    for (double r : ref.values) scale = std::max(scale, std::fabs(r));
    double worst = 0.0;
    for (size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, std::fabs(ours[i] - ref.values[i]) / std::max({std::fabs(ref.values[i]), 1e-2 * scale, 1e-30}));
    return worst;
}

}  // namespace gpt::test
