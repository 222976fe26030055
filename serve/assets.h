// The page's files, compiled into the program (CMakeLists.txt turns serve/assets/* into a source file),
// so that gpt serve needs nothing beside its binary and the page loads nothing from the network.
#pragma once

#include <string_view>
#include <vector>

namespace gpt {

struct Asset {
    std::string_view content;
    std::string_view content_type;
};

// "/NAME" → serve/assets/NAME, "/" → index.html; any other path: an empty content (not found).
Asset find_asset(std::string_view path);
std::vector<std::string_view> asset_paths();  // every path find_asset knows, "/" first

}  // namespace gpt
