#include "data/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>
#include <string>

namespace gpt {
namespace {

// GPT-2's pattern with \s / \S written as the Unicode White_Space property (see the header).
constexpr const char* kPattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\t-\\r\\x{85}\\p{Z}\\p{L}\\p{N}]+"
    "|[\\t-\\r\\x{85}\\p{Z}]+(?![^\\t-\\r\\x{85}\\p{Z}])|[\\t-\\r\\x{85}\\p{Z}]+";

struct CompiledPattern {
    pcre2_code* code = nullptr;
    bool jit = false;
    CompiledPattern() {
        int error = 0;
        PCRE2_SIZE offset = 0;
        code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
        if (!code) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error, message, sizeof message);
            throw std::runtime_error("pretokenize: PCRE2 cannot compile GPT-2's pattern at offset " +
                                     std::to_string(offset) + ": " + reinterpret_cast<const char*>(message));
        }
        jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    }
    ~CompiledPattern() { pcre2_code_free(code); }
};

const CompiledPattern& pattern() {
    static const CompiledPattern compiled;
    return compiled;
}

// One match-data block per thread: pcre2_match is thread-safe given its own match data.
struct MatchData {
    pcre2_match_data* data;
    MatchData() : data(pcre2_match_data_create_from_pattern(pattern().code, nullptr)) {}
    ~MatchData() { pcre2_match_data_free(data); }
};

}  // namespace

size_t pretoken_length(std::string_view text, size_t pos) {
    const CompiledPattern& p = pattern();
    thread_local MatchData match;
    const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    const int rc = p.jit ? pcre2_jit_match(p.code, subject, text.size(), pos, 0, match.data, nullptr)
                         : pcre2_match(p.code, subject, text.size(), pos, 0, match.data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return text.size() - pos;  // only invalid UTF-8 is left
    if (rc < 0) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(rc, message, sizeof message);
        throw std::runtime_error("pretokenize: PCRE2 match failed at byte " + std::to_string(pos) + ": " +
                                 reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    // A match that starts later means the bytes before it are invalid UTF-8: they are one piece.
    if (ovector[0] > pos) return ovector[0] - pos;
    return ovector[1] - pos;  // every alternative matches at least one character
}

}  // namespace gpt
