// What optim/'s option checks share: a number as "%g" prints it, and the std::invalid_argument they throw,
// prefixed with the owner's name ("AdamW: lr must be finite and >= 0, got -1").
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace gpt::detail {

inline std::string num(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", x);
    return buffer;
}

inline void require_option(bool ok, const char* owner, const std::string& message) {
    if (!ok) throw std::invalid_argument(std::string(owner) + ": " + message);
}

}  // namespace gpt::detail
