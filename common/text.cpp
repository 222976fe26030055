#include "common/text.h"

#include <cstdio>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gpt {

std::string format_fixed(double value, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string format_double(double value) {
    char buffer[64];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string s(buffer, error == std::errc() ? end : buffer);
    if (!std::isfinite(value)) return s;  // inf, -inf, nan: TOML's words too
    // "1e-04" → "1e-4": the exponent as people write it.
    const auto e = s.find('e');
    if (e != std::string::npos) {
        size_t digits = e + 1;
        if (digits < s.size() && (s[digits] == '-' || s[digits] == '+')) {
            if (s[digits] == '+') s.erase(digits, 1);
            else ++digits;
        }
        while (digits + 1 < s.size() && s[digits] == '0') s.erase(digits, 1);
    }
    if (s.find_first_of(".e") == std::string::npos) s += ".0";  // TOML floats need a '.' or an exponent
    return s;
}

int64_t parse_int64(const std::string& text) {
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    if (begin != end && *begin == '+') ++begin;
    int64_t value = 0;
    const auto [stop, error] = std::from_chars(begin, end, value);
    if (error == std::errc::result_out_of_range && stop == end)
        throw std::invalid_argument(text + " is out of range (an integer from " +
                                    std::to_string(std::numeric_limits<int64_t>::min()) + " to " +
                                    std::to_string(std::numeric_limits<int64_t>::max()) + ")");
    if (error != std::errc() || stop != end || begin == end || (begin != text.data() && *begin == '-'))
        throw std::invalid_argument("expected an integer, got '" + text + "'");
    return value;
}

double parse_double(const std::string& text) {
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    if (begin != end && *begin == '+') ++begin;
    double value = 0;
    const auto [stop, error] = std::from_chars(begin, end, value);
    if (error == std::errc::result_out_of_range && stop == end)
        throw std::invalid_argument(text + " is out of range for a double");
    if (error != std::errc() || stop != end || begin == end || (begin != text.data() && *begin == '-'))
        throw std::invalid_argument("expected a number, got '" + text + "'");
    return value;
}

bool parse_bool(const std::string& text) {
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "1" || lower == "yes") return true;
    if (lower == "false" || lower == "0" || lower == "no") return false;
    throw std::invalid_argument("expected true or false (or 1/0, yes/no), got '" + text + "'");
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions.
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

std::string lowercase(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
    // Up to 1 edit for short names, 2 for most, a third of the length for long ones.
    const size_t limit = name.size() <= 3 ? 1 : std::max<size_t>(2, name.size() / 3);
    std::string best;
    size_t best_distance = limit + 1;
    const std::string wanted = lowercase(name);
    for (const std::string& candidate : candidates) {
        const size_t distance = edit_distance(wanted, lowercase(candidate));
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

}  // namespace gpt
