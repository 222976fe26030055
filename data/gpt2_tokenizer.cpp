#include "data/gpt2_tokenizer.h"

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/untrusted_text.h"
#include "data/utf8.h"

namespace gpt {
namespace fs = std::filesystem;

namespace {

// bytes_to_unicode() of GPT-2's encoder.py: printable bytes stand for themselves, the other 68 bytes
// (controls, space, 0x7F-0xA0, 0xAD) for U+0100 + n in byte order. The table's order is also the
// order of ids 0..255.
struct ByteTable {
    std::array<char32_t, 256> to_unicode{};
    std::array<uint8_t, 256> order{};  // order[i] = byte of id i
    ByteTable() {
        int i = 0;
        const auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
        for (int b = 0; b < 256; ++b)
            if (printable(b)) {
                to_unicode[size_t(b)] = char32_t(b);
                order[size_t(i++)] = uint8_t(b);
            }
        int n = 0;
        for (int b = 0; b < 256; ++b)
            if (!printable(b)) {
                to_unicode[size_t(b)] = char32_t(256 + n++);
                order[size_t(i++)] = uint8_t(b);
            }
    }
};
const ByteTable& byte_table() {
    static const ByteTable table;
    return table;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Token text in bytes_to_unicode form -> raw bytes.
std::string unicode_to_bytes(const std::string& text, const std::string& where) {
    static const std::unordered_map<char32_t, uint8_t> inverse = [] {
        std::unordered_map<char32_t, uint8_t> m;
        for (int b = 0; b < 256; ++b) m[byte_table().to_unicode[size_t(b)]] = uint8_t(b);
        return m;
    }();
    std::string bytes;
    std::vector<char32_t> code_points;
    try {
        code_points = utf8::decode(text);
    } catch (const std::exception& e) {
        throw std::runtime_error(where + ": " + e.what());
    }
    for (char32_t c : code_points) {
        const auto found = inverse.find(c);
        if (found == inverse.end())
            throw std::runtime_error(where + ": character " + utf8::code_point_name(c) +
                                     " is not one of GPT-2's 256 byte characters");
        bytes += static_cast<char>(found->second);
    }
    return bytes;
}

}  // namespace

char32_t Gpt2Tokenizer::byte_to_unicode(uint8_t b) { return byte_table().to_unicode[b]; }

std::string Gpt2Tokenizer::file_text(int32_t id) const {
    std::string text;
    for (char c : token_view(id)) utf8::append(text, byte_to_unicode(static_cast<uint8_t>(c)));
    return text;
}

bool Gpt2Tokenizer::has_files(const fs::path& dir) {
    return (fs::is_regular_file(dir / "encoder.json") && fs::is_regular_file(dir / "vocab.bpe")) ||
           (fs::is_regular_file(dir / "vocab.json") && fs::is_regular_file(dir / "merges.txt"));
}

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::from_files(const fs::path& dir) {
    fs::path vocab_path = dir / "encoder.json", merges_path = dir / "vocab.bpe";
    if (!fs::is_regular_file(vocab_path) || !fs::is_regular_file(merges_path)) {
        vocab_path = dir / "vocab.json";
        merges_path = dir / "merges.txt";
    }
    if (!fs::is_regular_file(vocab_path) || !fs::is_regular_file(merges_path))
        throw std::runtime_error(dir.string() + ": no GPT-2 tokenizer files (encoder.json + vocab.bpe, or vocab.json + merges.txt)");
    std::vector<std::pair<std::string, int32_t>> vocabulary;
    try {
        const std::string text_of_file = read_file(vocab_path);
        // Token -> id is one level deep; a value nested deeper is refused before anything walks it
        // (issue 27: a 1,000,000-deep value crashed the error path's dump()).
        if (const size_t depth = json_nesting_depth(text_of_file); depth > 1)
            throw std::runtime_error("nests arrays or objects " + std::to_string(depth) +
                                     " deep; expected one JSON object of token -> id");
        const nlohmann::json json = nlohmann::json::parse(text_of_file);
        if (!json.is_object()) throw std::runtime_error("not a JSON object of token -> id");
        for (const auto& [text, id] : json.items()) {
            if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
                throw std::runtime_error("token " + excerpt(text) + " has a " + std::string(id.type_name()) +
                                         " id, not an integer in [0, 2^31)");
            vocabulary.emplace_back(text, id.get<int32_t>());
        }
    } catch (const nlohmann::json::exception& e) {  // its message may quote the file: bounded
        const std::string what = e.what();
        throw std::runtime_error(vocab_path.string() + ": " + (what.size() > 200 ? what.substr(0, 200) + "…" : what));
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(vocab_path.string() + ": " + e.what());
    }
    std::vector<std::string> lines;
    std::istringstream merges_text(read_file(merges_path));
    std::string line;
    bool first = true;
    while (std::getline(merges_text, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (first && line.rfind("#version", 0) == 0) {
            first = false;
            continue;
        }
        first = false;
        if (!line.empty()) lines.push_back(line);
    }
    return from_vocabulary(vocabulary, lines, merges_path.string());
}

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::from_vocabulary(
    const std::vector<std::pair<std::string, int32_t>>& vocabulary, const std::vector<std::string>& merge_lines,
    const std::string& source) {
    const size_t V = vocabulary.size();
    std::vector<std::string> tokens(V);
    std::vector<bool> seen(V, false);
    std::unordered_map<std::string, int32_t> id_of;
    for (const auto& [text, id] : vocabulary) {
        if (size_t(id) >= V || seen[size_t(id)])
            throw std::runtime_error(source + ": vocabulary token " + excerpt(text) + " has id " + std::to_string(id) +
                                     "; ids must be 0.." + std::to_string(V - 1) + ", each once");
        seen[size_t(id)] = true;
        id_of[text] = id;
    }
    const int32_t M = static_cast<int32_t>(merge_lines.size());
    if (size_t(256 + M) > V)
        throw std::runtime_error(source + ": " + std::to_string(M) + " merges need at least " + std::to_string(256 + M) +
                                 " vocabulary entries, have " + std::to_string(V));
    // GPT-2's files have a known shape: ids 0..255 are the bytes, merge k makes id 256 + k, and what
    // follows the merges are special tokens written <|name|>. A vocabulary entry past the merges that is
    // not one is a token no merge makes: the merges file is truncated or belongs to another vocabulary
    // (keeping 1,000 of 50,000 merges would otherwise turn 49,001 tokens into "special" ones).
    const std::pair<std::string, int32_t>* unmade = nullptr;  // the lowest such id
    for (const auto& entry : vocabulary) {
        const std::string& text = entry.first;
        const bool special = text.size() >= 4 && text.rfind("<|", 0) == 0 && text.ends_with("|>");
        if (entry.second >= 256 + M && !special && (!unmade || entry.second < unmade->second)) unmade = &entry;
    }
    if (unmade)
        throw std::runtime_error(source + ": vocabulary token " + excerpt(unmade->first) + " (id " +
                                 std::to_string(unmade->second) + ") is made by no merge: the file has " + std::to_string(M) +
                                 " merges, so ids from " + std::to_string(256 + M) +
                                 " on must be special tokens (<|...|>); is it truncated?");
    for (const auto& [text, id] : vocabulary) {
        // Special tokens (after the merges) are literal text; all others are in bytes_to_unicode form.
        tokens[size_t(id)] = id >= 256 + M ? text : unicode_to_bytes(text, source + ": token " + excerpt(text));
    }
    std::vector<BpeMerge> merges(static_cast<size_t>(M));
    for (int32_t k = 0; k < M; ++k) {
        const std::string& l = merge_lines[size_t(k)];
        const size_t space = l.find(' ');
        const auto where = [&] { return source + ": merge line " + std::to_string(k + 1) + " " + excerpt(l); };
        if (space == std::string::npos || space == 0 || space + 1 == l.size() || l.find(' ', space + 1) != std::string::npos)
            throw std::runtime_error(where() + " is not two tokens separated by one space");
        const auto left = id_of.find(l.substr(0, space)), right = id_of.find(l.substr(space + 1));
        if (left == id_of.end() || right == id_of.end())
            throw std::runtime_error(where() + " names a token that is not in the vocabulary");
        merges[size_t(k)] = {left->second, right->second};
    }
    return build(tokens, merges, source);
}

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::build(const std::vector<std::string>& tokens,
                                                    const std::vector<BpeMerge>& merges, const std::string& source) {
    const auto fail = [&](const std::string& what) { throw std::invalid_argument(source + ": " + what); };
    const int32_t V = static_cast<int32_t>(tokens.size()), M = static_cast<int32_t>(merges.size());
    if (V < 256 + M) fail("vocabulary of " + std::to_string(V) + " is smaller than 256 bytes + " + std::to_string(M) + " merges");
    std::unique_ptr<Gpt2Tokenizer> t(new Gpt2Tokenizer());
    std::array<int32_t, 256> byte_id;
    byte_id.fill(-1);
    for (int32_t id = 0; id < 256; ++id) {
        if (tokens[size_t(id)].size() != 1) fail("token " + std::to_string(id) + " is not a single byte (ids 0..255 must be the bytes)");
        const uint8_t b = static_cast<uint8_t>(tokens[size_t(id)][0]);
        if (byte_id[b] >= 0) fail("byte " + std::to_string(b) + " is both token " + std::to_string(byte_id[b]) + " and " + std::to_string(id));
        byte_id[b] = id;
    }
    std::vector<BpeMerge> canonical(static_cast<size_t>(M));
    const auto to_canonical = [&](int32_t id) { return id < 256 ? int32_t(static_cast<uint8_t>(tokens[size_t(id)][0])) : id; };
    for (int32_t k = 0; k < M; ++k) {
        const BpeMerge m = merges[size_t(k)];
        if (m.left < 0 || m.left >= 256 + k || m.right < 0 || m.right >= 256 + k)
            fail("merge " + std::to_string(k) + " uses a token that is not made before it");
        if (tokens[size_t(256 + k)] != tokens[size_t(m.left)] + tokens[size_t(m.right)])
            fail("token " + std::to_string(256 + k) + " is not the result of merge " + std::to_string(k) +
                 " (this loader needs merge k to make token 256 + k, as GPT-2's files do)");
        canonical[size_t(k)] = {to_canonical(m.left), to_canonical(m.right)};
    }
    try {
        t->canonical_ = BpeTokenizer::from_merges(canonical, {});
    } catch (const std::invalid_argument& e) {
        fail(e.what());
    }
    for (int b = 0; b < 256; ++b) t->byte_id_[b] = byte_id[size_t(b)];
    t->merge_count_ = M;
    for (int32_t id = 0; id < V; ++id) {
        if (tokens[size_t(id)].empty()) fail("token " + std::to_string(id) + " is empty");
        t->append_token(tokens[size_t(id)]);
    }
    for (int32_t id = 256 + M; id < V; ++id) {
        t->special_ids_.push_back(id);
        t->special_bytes_.push_back(tokens[size_t(id)]);
    }
    return t;
}

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::from_state(const TokenizerState& state) {
    validate_common(state);
    const std::string source = "TokenizerState (gpt2)";
    if (state.type != "gpt2") throw std::invalid_argument(source + ": type is '" + state.type + "'");
    const int32_t V = state.vocab_size(), M = static_cast<int32_t>(state.merges.size() / 2);
    const int32_t S = static_cast<int32_t>(state.special_ids.size());
    if (V != 256 + M + S)
        throw std::invalid_argument(source + ": vocab size " + std::to_string(V) + " != 256 bytes + " + std::to_string(M) +
                                    " merges + " + std::to_string(S) + " special tokens");
    for (int32_t s = 0; s < S; ++s)
        if (state.special_ids[size_t(s)] != 256 + M + s)
            throw std::invalid_argument(source + ": special ids must follow the merges in order");
    std::vector<std::string> tokens(static_cast<size_t>(V));
    for (int32_t id = 0; id < V; ++id) {
        const int64_t begin = state.token_offsets[size_t(id)], end = state.token_offsets[size_t(id) + 1];
        tokens[size_t(id)].assign(reinterpret_cast<const char*>(state.token_bytes.data()) + begin, size_t(end - begin));
    }
    std::vector<BpeMerge> merges(static_cast<size_t>(M));
    for (int32_t k = 0; k < M; ++k) merges[size_t(k)] = {state.merges[2 * size_t(k)], state.merges[2 * size_t(k) + 1]};
    return build(tokens, merges, source);
}

TokenizerState Gpt2Tokenizer::state() const {
    TokenizerState state = table_state("gpt2");
    state.merges.reserve(size_t(merge_count_) * 2);
    const auto& canonical = canonical_->merges();
    const auto to_gpt2 = [&](int32_t id) { return id < 256 ? byte_id_[id] : id; };
    for (const BpeMerge& m : canonical) {
        state.merges.push_back(to_gpt2(m.left));
        state.merges.push_back(to_gpt2(m.right));
    }
    return state;
}

void Gpt2Tokenizer::write_files(const fs::path& dir, const std::string& naming) const {
    if (naming != "openai" && naming != "hf")
        throw std::invalid_argument("Gpt2Tokenizer::write_files: naming must be \"openai\" or \"hf\", got \"" + naming + "\"");
    fs::create_directories(dir);
    nlohmann::ordered_json vocabulary = nlohmann::ordered_json::object();
    for (int32_t id = 0; id < vocab_size(); ++id) {
        const bool special = id >= 256 + merge_count_;
        vocabulary[special ? std::string(token_view(id)) : file_text(id)] = id;
    }
    const fs::path vocab_path = dir / (naming == "hf" ? "vocab.json" : "encoder.json");
    const fs::path merges_path = dir / (naming == "hf" ? "merges.txt" : "vocab.bpe");
    std::ofstream vocab_out(vocab_path, std::ios::binary);
    vocab_out << vocabulary.dump();
    vocab_out.close();
    if (!vocab_out) throw std::runtime_error(vocab_path.string() + ": write failed");
    std::ofstream merges_out(merges_path, std::ios::binary);
    merges_out << "#version: 0.2\n";
    const auto to_gpt2 = [&](int32_t id) { return id < 256 ? byte_id_[id] : id; };
    for (const BpeMerge& m : canonical_->merges()) merges_out << file_text(to_gpt2(m.left)) << ' ' << file_text(to_gpt2(m.right)) << '\n';
    merges_out.close();
    if (!merges_out) throw std::runtime_error(merges_path.string() + ": write failed");
}

void Gpt2Tokenizer::encode_ordinary(std::string_view text, const EncodeOptions&, std::vector<int32_t>& out) const {
    const std::vector<int32_t> ids = canonical_->encode(text);
    out.reserve(out.size() + ids.size());
    for (int32_t id : ids) out.push_back(id < 256 ? byte_id_[id] : id);
}

}  // namespace gpt
