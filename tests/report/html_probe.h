// What the report tests read from a written page, independently of report/: a file's text, counts of a
// marker, one element's markup and an attribute's values in order.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gpt::test {

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

// The markup from the element that has `marker` up to `end` (e.g. one <g> or one <svg>).
inline std::string element(const std::string& html, const std::string& marker, const std::string& end) {
    const size_t start = html.find(marker);
    REQUIRE_MESSAGE(start != std::string::npos, marker);
    return html.substr(start, html.find(end, start) - start);
}

// Every value of attribute `name` in order.
inline std::vector<std::string> attribute_values(const std::string& markup, const std::string& name) {
    std::vector<std::string> values;
    const std::string key = " " + name + "=\"";
    for (size_t at = markup.find(key); at != std::string::npos; at = markup.find(key, at + 1)) {
        const size_t from = at + key.size();
        values.push_back(markup.substr(from, markup.find('"', from) - from));
    }
    return values;
}

}  // namespace gpt::test
