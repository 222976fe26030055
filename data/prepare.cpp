#include "data/prepare.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "common/text.h"
#include "data/bpe_trainer.h"
#include "data/char_tokenizer.h"
#include "data/gpt2_tokenizer.h"
#include "data/corpus.h"
#include "data/token_file.h"
#include "data/utf8.h"

namespace gpt {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Bytes >= 0x80 may start a Unicode space (U+00A0, U+3000, ...), so only ASCII counts as a sure non-space.
bool maybe_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || static_cast<unsigned char>(c) >= 0x80; }

// Chunk ends near multiples of `target` bytes, each just after a '\n' that an ASCII non-space byte follows:
// there the pre-split always ends a piece (the newline's whitespace run stops before the non-space,
// which cannot join it), no special token spans it, and no UTF-8 character is cut.
std::vector<size_t> chunk_ends(std::string_view text, size_t target) {
    std::vector<size_t> ends;
    size_t pos = target;
    while (pos < text.size()) {
        const size_t newline = text.find('\n', pos);
        if (newline == std::string_view::npos) break;
        const size_t cut = newline + 1;
        if (cut < text.size() && !maybe_space(text[cut])) {
            ends.push_back(cut);
            pos = cut + target;
        } else {
            pos = cut;
        }
    }
    ends.push_back(text.size());
    return ends;
}

}  // namespace

std::vector<int32_t> encode_parallel(const Tokenizer& tokenizer, std::string_view text, const EncodeOptions& options) {
    constexpr size_t kChunkBytes = 1 << 20;
    if (text.size() < 2 * kChunkBytes) return tokenizer.encode(text, options);
    const std::vector<size_t> ends = chunk_ends(text, kChunkBytes);
    const int64_t chunks = static_cast<int64_t>(ends.size());
    std::vector<std::vector<int32_t>> pieces(ends.size());
    std::string first_error;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c = 0; c < chunks; ++c) {
        const size_t begin = c == 0 ? 0 : ends[size_t(c - 1)];
        try {
            pieces[size_t(c)] = tokenizer.encode(text.substr(begin, ends[size_t(c)] - begin), options);
        } catch (const std::exception& e) {
#pragma omp critical
            if (first_error.empty()) first_error = "at byte " + std::to_string(begin) + " + " + e.what();
        }
    }
    if (!first_error.empty()) throw std::invalid_argument("encode_parallel: chunk " + first_error);
    size_t total = 0;
    for (const auto& p : pieces) total += p.size();
    std::vector<int32_t> ids;
    ids.reserve(total);
    for (const auto& p : pieces) ids.insert(ids.end(), p.begin(), p.end());
    return ids;
}

std::shared_ptr<const Tokenizer> make_tokenizer(const PrepareOptions& options, const Corpus& corpus) {
    std::vector<std::string_view> texts;
    for (const CorpusDocument& d : corpus.documents) texts.emplace_back(d.text);
    const bool separate = options.end_of_text_between_documents && texts.size() > 1;
    if (options.tokenizer_type == "bpe") {
        BpeTrainOptions train;
        train.vocab_size = options.vocab_size;
        if (options.progress)
            train.progress = [](const BpeTrainProgress& p) {
                std::fprintf(stderr, "prepare: bpe merge %d/%d (last pair seen %lld times, %lld words) %.1fs\n",
                             p.merges_done, p.merges_target, static_cast<long long>(p.last_count),
                             static_cast<long long>(p.words), p.seconds);
            };
        return train_bpe(texts, train);
    } else if (options.tokenizer_type == "char") {
        CharTrainOptions train;
        train.replace_invalid_utf8 = options.replace_invalid_utf8;
        if (!options.replace_invalid_utf8)
            for (const CorpusDocument& d : corpus.documents)
                if (const size_t bad = utf8::find_invalid(d.text); bad != std::string_view::npos)
                    throw std::invalid_argument("prepare: " + d.path.string() + ": " + utf8::invalid_message(d.text, bad) +
                                                " (the char tokenizer needs UTF-8; replace_invalid_utf8 maps it to U+FFFD)");
        if (separate || options.allow_special_in_text) train.special_tokens.emplace_back(kEndOfText);
        std::string all;
        for (std::string_view t : texts) all += t;
        return CharTokenizer::train(all, train);
    } else if (options.tokenizer_type == "gpt2") {
        if (options.tokenizer_files.empty())
            throw std::invalid_argument("prepare: the gpt2 tokenizer needs tokenizer_files (a folder with encoder.json + vocab.bpe)");
        return Gpt2Tokenizer::from_files(options.tokenizer_files);
    } else {
        throw std::invalid_argument("prepare: tokenizer_type '" + options.tokenizer_type + "' is not \"char\", \"bpe\" or \"gpt2\"");
    }
}

PreparedData prepare_corpus(const PrepareOptions& options) {
    const auto log = [&](const std::string& line) {
        if (options.progress) std::fprintf(stderr, "prepare: %s\n", line.c_str());
    };
    if (!(options.val_fraction >= 0.0 && options.val_fraction < 1.0))
        throw std::invalid_argument("prepare: val_fraction " + std::to_string(options.val_fraction) + " is outside [0, 1)");
    if (options.block_size < 1)
        throw std::invalid_argument("prepare: block_size must be >= 1, got " + std::to_string(options.block_size));
    if (options.output_dir.empty()) throw std::invalid_argument("prepare: output_dir is empty");

    const Corpus corpus = read_corpus(options.input);
    PreparedData result;
    result.corpus_bytes = corpus.bytes();
    result.documents = static_cast<int64_t>(corpus.documents.size());
    log("read " + std::to_string(result.corpus_bytes) + " bytes in " + std::to_string(result.documents) +
        " document(s) from " + options.input.string());
    if (const std::string skipped = corpus.skipped_summary(); !skipped.empty()) log(skipped);

    std::vector<std::string_view> texts;
    for (const CorpusDocument& d : corpus.documents) texts.emplace_back(d.text);
    const bool separate = options.end_of_text_between_documents && texts.size() > 1;

    auto start = std::chrono::steady_clock::now();
    result.tokenizer = options.tokenizer ? options.tokenizer : make_tokenizer(options, corpus);
    if (!options.added_special_tokens.empty())
        result.tokenizer = with_special_tokens(*result.tokenizer, options.added_special_tokens);
    result.train_seconds = options.tokenizer ? 0.0 : seconds_since(start);
    log(result.tokenizer->type() + " tokenizer, vocab " + std::to_string(result.tokenizer->vocab_size()) +
        (options.tokenizer                   ? " (given)"
         : options.tokenizer_type == "gpt2" ? " read from " + options.tokenizer_files.string() + " in " +
                                                  format_fixed(result.train_seconds, 2) + " s"
                                            : " trained in " + format_fixed(result.train_seconds, 2) + " s"));

    start = std::chrono::steady_clock::now();
    const std::optional<int32_t> end_of_text = result.tokenizer->end_of_text_id();
    EncodeOptions encode_options;
    encode_options.allow_special = options.allow_special_in_text;
    encode_options.replace_invalid_utf8 = options.replace_invalid_utf8;
    std::vector<int32_t> ids;
    for (size_t d = 0; d < texts.size(); ++d) {
        if (separate && d > 0 && end_of_text) ids.push_back(*end_of_text);
        try {
            const std::vector<int32_t> doc = encode_parallel(*result.tokenizer, texts[d], encode_options);
            ids.insert(ids.end(), doc.begin(), doc.end());
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("prepare: " + corpus.documents[d].path.string() + ": " + e.what());
        }
    }
    result.encode_seconds = seconds_since(start);
    const int64_t N = static_cast<int64_t>(ids.size());
    log("encoded " + std::to_string(N) + " tokens (" + format_fixed(double(result.corpus_bytes) / double(std::max<int64_t>(N, 1)), 2) +
        " bytes/token) in " + format_fixed(result.encode_seconds, 2) + " s");

    const int64_t val = static_cast<int64_t>(double(N) * options.val_fraction);
    const int64_t train = N - val;
    const int64_t need = options.block_size + 1;
    if (train < need || (options.val_fraction > 0.0 && val < need))
        throw std::runtime_error("prepare: corpus " + options.input.string() + " is too small: " + std::to_string(N) +
                                 " tokens split into " + std::to_string(train) + " train / " + std::to_string(val) +
                                 " val, and each split needs block_size + 1 = " + std::to_string(need) +
                                 " (use more text, a smaller block_size or a smaller val_fraction)");

    std::filesystem::create_directories(options.output_dir);
    result.train_path = options.output_dir / "train.bin";
    result.val_path = options.output_dir / "val.bin";
    const std::span<const int32_t> all(ids);
    write_token_file(result.train_path, all.first(size_t(train)), result.tokenizer->vocab_size());
    write_token_file(result.val_path, all.subspan(size_t(train)), result.tokenizer->vocab_size());
    result.train_tokens = train;
    result.val_tokens = val;
    log("wrote " + result.train_path.string() + " (" + std::to_string(train) + " tokens) and " +
        result.val_path.string() + " (" + std::to_string(val) + " tokens)");
    return result;
}

}  // namespace gpt
