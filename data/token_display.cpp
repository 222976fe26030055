#include "data/token_display.h"

#include <cstdint>
#include <cstdio>

#include "data/utf8.h"

namespace gpt {

std::string printable_token(std::string_view bytes, bool quote) {
    std::string out;
    for (size_t pos = 0; pos < bytes.size();) {
        const auto byte = static_cast<uint8_t>(bytes[pos]);
        char32_t code_point = 0;
        const int length = utf8::sequence_length(bytes, pos, code_point);
        if (byte == '\n') out += "\\n";
        else if (byte == '\t') out += "\\t";
        else if (quote && (byte == '\'' || byte == '\\')) out += std::string("\\") + static_cast<char>(byte);
        else if (length > 1 || (length == 1 && byte >= 0x20 && byte < 0x7F)) out.append(bytes.substr(pos, static_cast<size_t>(length)));
        else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(byte));
            out += hex;
        }
        pos += length > 1 ? static_cast<size_t>(length) : 1;
    }
    return out;
}

}  // namespace gpt
