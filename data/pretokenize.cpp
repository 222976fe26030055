#include "data/pretokenize.h"

#include <cstdint>

namespace gpt {

enum class ByteClass : uint8_t { Letter, Number, Space, Other };

static constexpr ByteClass classify(uint8_t b) {
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b >= 0x80) return ByteClass::Letter;
    if (b >= '0' && b <= '9') return ByteClass::Number;
    if (b == ' ' || (b >= '\t' && b <= '\r')) return ByteClass::Space;
    return ByteClass::Other;
}

struct ClassTable {
    ByteClass of[256];
    constexpr ClassTable() : of() {
        for (int b = 0; b < 256; ++b) of[b] = classify(static_cast<uint8_t>(b));
    }
};
static constexpr ClassTable kClass;

size_t pretoken_length(std::string_view text, size_t pos) {
    const size_t n = text.size();
    const auto cls = [&](size_t i) { return kClass.of[static_cast<uint8_t>(text[i])]; };

    // 's 't 're 've 'm 'll 'd (case-sensitive, as in GPT-2)
    if (text[pos] == '\'' && pos + 1 < n) {
        const char c1 = text[pos + 1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
        if (pos + 2 < n) {
            const char c2 = text[pos + 2];
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
        }
    }

    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single space, then a run of one class.
    size_t start = pos;
    if (text[pos] == ' ' && pos + 1 < n && cls(pos + 1) != ByteClass::Space) start = pos + 1;
    const ByteClass run = cls(start);
    if (run != ByteClass::Space) {
        size_t end = start + 1;
        while (end < n && cls(end) == run) ++end;
        return end - pos;
    }

    // `\s+(?!\S)` then `\s+`: a whitespace run that reaches the end of the text is one piece; one that
    // is followed by a non-space gives up its last character (which then starts the next piece, e.g.
    // " word"), unless it has only one.
    size_t end = pos + 1;
    while (end < n && cls(end) == ByteClass::Space) ++end;
    if (end == n || end - pos == 1) return end - pos;
    return end - pos - 1;
}

}  // namespace gpt
