// Numbers and words as people type them: shared by the config files and every subcommand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gpt {

// Shortest text that reads back as the same double (std::to_chars): 0.1, 1e-4, 1.0 (always with a
// '.' or an exponent, so that TOML reads a float).
std::string format_double(double value);
// value with `decimals` digits after the point (printf's %.*f): the log's seconds and rates.
std::string format_fixed(double value, int decimals);
// A whole string as an int64 / a finite or infinite double / a boolean (true, false, 1, 0, yes, no,
// any case). Throw std::invalid_argument saying what was expected; out-of-range integers are refused,
// never clamped.
int64_t parse_int64(const std::string& text);
double parse_double(const std::string& text);
bool parse_bool(const std::string& text);
// Of `candidates`, the one closest to `name` by edit distance (case-insensitive, adjacent
// transpositions count once) if it is close enough to be a likely typo; "" otherwise.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace gpt
