#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>

#include "data/bpe_trainer.h"
#include "data/pretokenize.h"

using namespace gpt;

static const std::string kText =
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n"
    "First Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n\n"
    "All:\nWe know't, we know't.\n\nFirst Citizen:\nLet us kill him, and we'll have corn at our own price.\n"
    "Is't a verdict?\n\nAll:\nNo more talking on't; let it be done: away, away!\n 1234 5678 12 \t tabs  ";

static std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    return s;
}

static BpeTrainOptions quiet(int32_t vocab_size) {
    BpeTrainOptions options;
    options.vocab_size = vocab_size;
    return options;
}

// The textbook algorithm, one full rescan per merge, with the same tie rule (highest count, then
// smallest pair): the incremental trainer must find exactly these merges.
static std::vector<BpeMerge> naive_train(std::string_view text, int32_t merges_wanted, int64_t min_count) {
    std::map<std::string, int64_t> word_counts;
    pretokenize(text, [&](std::string_view w) { ++word_counts[std::string(w)]; });
    std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
    for (const auto& [w, c] : word_counts) words.push_back({std::vector<int32_t>(w.begin(), w.end()), c});
    for (auto& [s, c] : words) for (auto& id : s) id = static_cast<uint8_t>(id);
    std::vector<BpeMerge> merges;
    while (int32_t(merges.size()) < merges_wanted) {
        std::map<std::pair<int32_t, int32_t>, int64_t> counts;
        for (const auto& [s, c] : words)
            for (size_t i = 0; i + 1 < s.size(); ++i) counts[{s[i], s[i + 1]}] += c;
        std::pair<int32_t, int32_t> best{-1, -1};
        int64_t best_count = 0;
        for (const auto& [pair, c] : counts) if (c > best_count) best = pair, best_count = c;  // map order = smallest pair first
        if (best_count < min_count) break;
        const int32_t merged = 256 + int32_t(merges.size());
        merges.push_back({best.first, best.second});
        for (auto& [s, c] : words) {
            std::vector<int32_t> out;
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == best.first && s[i + 1] == best.second) out.push_back(merged), ++i;
                else out.push_back(s[i]);
            }
            s = out;
        }
    }
    return merges;
}

// GPT-2's encoder.py bpe(): repeatedly take the lowest-rank pair, merge all its occurrences.
static std::vector<int32_t> naive_encode(const BpeTokenizer& tokenizer, std::string_view text) {
    std::map<std::pair<int32_t, int32_t>, int32_t> rank;
    for (size_t k = 0; k < tokenizer.merges().size(); ++k)
        rank[{tokenizer.merges()[k].left, tokenizer.merges()[k].right}] = int32_t(k);
    std::vector<int32_t> ids;
    pretokenize(text, [&](std::string_view w) {
        std::vector<int32_t> s;
        for (char c : w) s.push_back(static_cast<uint8_t>(c));
        for (;;) {
            int32_t best = -1;
            for (size_t i = 0; i + 1 < s.size(); ++i) {
                const auto found = rank.find({s[i], s[i + 1]});
                if (found != rank.end() && (best < 0 || found->second < best)) best = found->second;
            }
            if (best < 0) break;
            const BpeMerge m = tokenizer.merges()[size_t(best)];
            std::vector<int32_t> out;
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == m.left && s[i + 1] == m.right) out.push_back(256 + best), ++i;
                else out.push_back(s[i]);
            }
            s = out;
        }
        ids.insert(ids.end(), s.begin(), s.end());
    });
    return ids;
}

TEST_CASE("bpe: first merges on repetitive text are the expected ones") {
    {
        const auto tokenizer = train_bpe("ab ab ab ab", quiet(300));
        // words: "ab" x1, " ab" x3 -> (a,b) seen 4 times, then (' ', "ab") 3 times, then nothing twice.
        REQUIRE(tokenizer->merges().size() == 2);
        CHECK(tokenizer->merges()[0].left == 'a');
        CHECK(tokenizer->merges()[0].right == 'b');
        CHECK(tokenizer->merges()[1].left == ' ');
        CHECK(tokenizer->merges()[1].right == 256);
        CHECK(tokenizer->token_bytes(257) == " ab");
        CHECK(tokenizer->vocab_size() == 256 + 2 + 1);  // stopped early; <|endoftext|> follows the merges
        CHECK(tokenizer->end_of_text_id() == 258);
    }
    {
        const auto tokenizer = train_bpe("aaaaaaaa", quiet(300));
        REQUIRE(tokenizer->merges().size() == 2);  // "aa" (7 pairs), "aaaa" (3 pairs), then 1 < 2
        CHECK(tokenizer->token_bytes(256) == "aa");
        CHECK(tokenizer->token_bytes(257) == "aaaa");
        CHECK(tokenizer->encode("aaaaaaaaa") == std::vector<int32_t>{257, 257, 'a'});
    }
}

TEST_CASE("bpe: incremental trainer equals the rescan-per-merge reference; training is deterministic") {
    const auto tokenizer = train_bpe(kText, quiet(256 + 120 + 1));
    const std::vector<BpeMerge> reference = naive_train(kText, 120, 2);
    REQUIRE(tokenizer->merges().size() == reference.size());
    for (size_t k = 0; k < reference.size(); ++k) {
        CHECK(tokenizer->merges()[k].left == reference[k].left);
        CHECK(tokenizer->merges()[k].right == reference[k].right);
    }
    const auto again = train_bpe(kText, quiet(256 + 120 + 1));
    CHECK(again->state().merges == tokenizer->state().merges);
    CHECK(again->state().token_bytes == tokenizer->state().token_bytes);
}

TEST_CASE("bpe: encoding equals GPT-2's pass-per-rank bpe() and round trips text") {
    const auto tokenizer = train_bpe(kText, quiet(400));
    const std::vector<int32_t> ids = tokenizer->encode(kText);
    CHECK(ids == naive_encode(*tokenizer, kText));
    CHECK(double(ids.size()) < 0.6 * double(kText.size()));  // it compresses its own training text
    CHECK(tokenizer->decode(ids) == kText);
    const std::string other = "Unseen words: zebra quixotic, résumé, 東京, 🙂 and\ttabs\n";
    CHECK(tokenizer->encode(other) == naive_encode(*tokenizer, other));
    CHECK(tokenizer->decode(tokenizer->encode(other)) == other);
}

TEST_CASE("bpe: round trip on random byte strings, including byte 0, invalid UTF-8 and empty input") {
    std::mt19937 rng(1234);
    const auto tokenizer = train_bpe(random_bytes(rng, 20000) + kText, quiet(512));
    CHECK(tokenizer->encode("").empty());
    CHECK(tokenizer->decode(std::vector<int32_t>{}).empty());
    const std::string zeros(5, '\0');
    CHECK(tokenizer->decode(tokenizer->encode(zeros)) == zeros);
    for (int trial = 0; trial < 200; ++trial) {
        const std::string s = random_bytes(rng, rng() % 300);
        const std::vector<int32_t> ids = tokenizer->encode(s);
        REQUIRE(tokenizer->decode(ids) == s);
        for (int32_t id : ids) REQUIRE(id < *tokenizer->end_of_text_id());
    }
}

TEST_CASE("bpe: special tokens never come from ordinary text") {
    const auto tokenizer = train_bpe(kText + "<|endoftext|>" + kText, quiet(400));
    const int32_t eot = *tokenizer->end_of_text_id();
    CHECK(eot == tokenizer->vocab_size() - 1);
    const std::string text = "hello<|endoftext|>world";
    const std::vector<int32_t> plain = tokenizer->encode(text);
    CHECK(std::find(plain.begin(), plain.end(), eot) == plain.end());
    CHECK(tokenizer->decode(plain) == text);
    EncodeOptions allow;
    allow.allow_special = true;
    const std::vector<int32_t> special = tokenizer->encode(text, allow);
    CHECK(std::count(special.begin(), special.end(), eot) == 1);
    CHECK(tokenizer->decode(special) == text);
    // No merge learned from the training text contains the special token's bytes.
    for (int32_t id = 256; id < eot; ++id) CHECK(tokenizer->token_bytes(id).find("<|") == std::string::npos);
}

TEST_CASE("bpe: state round trip gives identical encodings; corrupted states are rejected") {
    const auto tokenizer = train_bpe(kText, quiet(380));
    const TokenizerState state = tokenizer->state();
    CHECK(state.type == "bpe");
    CHECK(state.merges.size() == 2 * tokenizer->merges().size());
    CHECK(state.special_ids == std::vector<int32_t>{tokenizer->vocab_size() - 1});
    const auto rebuilt = Tokenizer::from_state(state);
    CHECK(rebuilt->type() == "bpe");
    CHECK(rebuilt->encode(kText) == tokenizer->encode(kText));
    CHECK(rebuilt->state().token_bytes == state.token_bytes);

    TokenizerState wrong_bytes = state;
    wrong_bytes.token_bytes[size_t(state.token_offsets[300])] ^= 1;
    CHECK_THROWS_WITH(Tokenizer::from_state(wrong_bytes), doctest::Contains("token 300's bytes differ"));
    TokenizerState future_id = state;
    future_id.merges[0] = 300;
    CHECK_THROWS_WITH(Tokenizer::from_state(future_id), doctest::Contains("uses an id not below 256"));
    TokenizerState short_vocab = state;
    short_vocab.merges.resize(short_vocab.merges.size() - 2);
    CHECK_THROWS_WITH(Tokenizer::from_state(short_vocab), doctest::Contains("!= 256 bytes +"));
    CHECK_THROWS_WITH(train_bpe(kText, quiet(200)), doctest::Contains("vocab_size 200"));
}

TEST_CASE("bpe: progress callback reports merges") {
    BpeTrainOptions options = quiet(256 + 64 + 1);
    options.progress_every = 16;
    std::vector<int32_t> reported;
    options.progress = [&](const BpeTrainProgress& p) { reported.push_back(p.merges_done); };
    const auto tokenizer = train_bpe(kText, options);
    REQUIRE(reported.size() >= 2);
    CHECK(reported.front() == 16);
    CHECK(reported.back() == int32_t(tokenizer->merges().size()));
}
