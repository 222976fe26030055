#include "data/utf8.h"

#include <cstdio>
#include <stdexcept>

namespace gpt::utf8 {

// The well-formed byte sequences (Unicode Table 3-7): the lead byte fixes the length and the range
// the second byte may take, which is what excludes overlongs (E0, F0), surrogates (ED) and values
// above U+10FFFF (F4). Later continuation bytes are always 80..BF.
struct LeadByte {
    int length = 0;  // 0: not a lead byte
    uint8_t second_low = 0x80, second_high = 0xBF;
};

static LeadByte classify(uint8_t lead) {
    if (lead < 0x80) return {1};
    if (lead >= 0xC2 && lead <= 0xDF) return {2};
    if (lead >= 0xE0 && lead <= 0xEF)
        return {3, uint8_t(lead == 0xE0 ? 0xA0 : 0x80), uint8_t(lead == 0xED ? 0x9F : 0xBF)};
    if (lead >= 0xF0 && lead <= 0xF4)
        return {4, uint8_t(lead == 0xF0 ? 0x90 : 0x80), uint8_t(lead == 0xF4 ? 0x8F : 0xBF)};
    return {};
}

// How many bytes from pos (at most lead.length) form a valid prefix of a sequence.
static size_t valid_prefix(std::string_view text, size_t pos, const LeadByte& lead) {
    size_t length = 1;
    while (length < static_cast<size_t>(lead.length) && pos + length < text.size()) {
        const uint8_t b = static_cast<uint8_t>(text[pos + length]);
        const bool ok = length == 1 ? (b >= lead.second_low && b <= lead.second_high) : (b & 0xC0) == 0x80;
        if (!ok) break;
        ++length;
    }
    return length;
}

int sequence_length(std::string_view text, size_t pos, char32_t& code_point) {
    const uint8_t first = static_cast<uint8_t>(text[pos]);
    const LeadByte lead = classify(first);
    if (lead.length == 1) {
        code_point = first;
        return 1;
    }
    if (lead.length == 0 || valid_prefix(text, pos, lead) != static_cast<size_t>(lead.length)) return 0;
    char32_t value = first & (0x7F >> lead.length);
    for (int i = 1; i < lead.length; ++i)
        value = (value << 6) | (static_cast<uint8_t>(text[pos + static_cast<size_t>(i)]) & 0x3F);
    code_point = value;
    return lead.length;
}

// An invalid sequence is replaced by one U+FFFD per maximal invalid subpart: the lead byte plus the
// continuation bytes that were still acceptable when it broke off, so "E2 82 41" gives U+FFFD then 'A'.
size_t invalid_length(std::string_view text, size_t pos) {
    const LeadByte lead = classify(static_cast<uint8_t>(text[pos]));
    return lead.length == 0 ? 1 : valid_prefix(text, pos, lead);
}

size_t find_invalid(std::string_view text) {
    char32_t code_point = 0;
    for (size_t pos = 0; pos < text.size();) {
        const int length = sequence_length(text, pos, code_point);
        if (length == 0) return pos;
        pos += static_cast<size_t>(length);
    }
    return std::string_view::npos;
}

std::string invalid_message(std::string_view text, size_t offset) {
    char message[96];
    std::snprintf(message, sizeof message, "invalid UTF-8 at byte offset %zu (byte 0x%02x)", offset,
                  static_cast<unsigned>(static_cast<uint8_t>(text[offset])));
    return message;
}

std::vector<char32_t> decode(std::string_view text, OnInvalid on_invalid) {
    std::vector<char32_t> out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        char32_t code_point = 0;
        const int length = sequence_length(text, pos, code_point);
        if (length > 0) {
            out.push_back(code_point);
            pos += static_cast<size_t>(length);
            continue;
        }
        if (on_invalid == OnInvalid::Throw) throw std::invalid_argument(invalid_message(text, pos));
        out.push_back(kReplacement);
        pos += invalid_length(text, pos);
    }
    return out;
}

void append(std::string& out, char32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        throw std::invalid_argument("utf8::encode: " + code_point_name(cp) + " is not a Unicode scalar value");
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string encode(char32_t code_point) {
    std::string out;
    append(out, code_point);
    return out;
}

std::string encode(const std::vector<char32_t>& code_points) {
    std::string out;
    out.reserve(code_points.size());
    for (char32_t cp : code_points) append(out, cp);
    return out;
}

std::string code_point_name(char32_t code_point) {
    char name[16];
    std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(code_point));
    return name;
}

}  // namespace gpt::utf8
