// The parallel corpus (data/parallel_corpus.h): reading source<TAB>target lines, the errors naming
// FILE:LINE, and the padded batches.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "data/char_tokenizer.h"
#include "data/parallel_corpus.h"
#include "tests/data/temp_dir.h"

using namespace gpt;

TEST_CASE("parallel corpus: lines, tokens, batches padded with key padding lengths") {
    test::TempDir dir;
    const auto tokenizer = CharTokenizer::train("abcdef");  // a=0 … f=5
    const std::string path = dir.write("pairs.tsv", "abc\tcba\r\n\nde\tff\n").string();
    const auto examples = read_parallel_corpus(path, *tokenizer);
    REQUIRE(examples.size() == 2);
    CHECK(examples[0].source == std::vector<int32_t>{0, 1, 2});
    CHECK(examples[0].target == std::vector<int32_t>{2, 1, 0});
    CHECK(examples[0].line == 1);
    CHECK(examples[1].source == std::vector<int32_t>{3, 4});
    CHECK(examples[1].target == std::vector<int32_t>{5, 5});
    CHECK(examples[1].line == 3);

    const Seq2SeqVocabulary vocabulary{tokenizer->vocab_size()};
    CHECK(vocabulary.bos() == 6);
    CHECK(vocabulary.eos() == 7);
    CHECK(vocabulary.size() == 8);
    const std::vector<size_t> order{1, 0};
    const Seq2SeqBatch batch = make_seq2seq_batch(examples, order, vocabulary);
    CHECK(batch.B == 2);
    CHECK(batch.S == 3);
    CHECK(batch.T == 4);
    CHECK(batch.source == std::vector<int32_t>{3, 4, 7, 0, 1, 2});
    CHECK(batch.source_lengths == std::vector<int64_t>{2, 3});
    CHECK(batch.target_in == std::vector<int32_t>{6, 5, 5, 7, 6, 2, 1, 0});
    CHECK(batch.target_out == std::vector<int32_t>{5, 5, 7, -100, 2, 1, 0, 7});
    CHECK(batch.target_lengths == std::vector<int64_t>{3, 4});
}

TEST_CASE("parallel corpus: bad input is one line naming FILE:LINE") {
    test::TempDir dir;
    const auto tokenizer = CharTokenizer::train("abcdef");
    auto error_of = [&](const std::string& content, const ParallelCorpusLimits& limits = {}) {
        const std::string path = dir.write("bad.tsv", content).string();
        try {
            read_parallel_corpus(path, *tokenizer, limits);
        } catch (const std::invalid_argument& error) {
            const std::string message = error.what();
            CHECK(message.find('\n') == std::string::npos);
            return message.substr(path.size());
        }
        return std::string("no error");
    };
    CHECK(error_of("ab\tba\nabc ba\n") == ":2: no tab: a parallel corpus line is source<TAB>target");
    CHECK(error_of("\tba\n") == ":1: empty source");
    CHECK(error_of("ab\t\n") == ":1: empty target");
    const std::string unknown = error_of("ab\tbz\n");
    CHECK(unknown.rfind(":1: target: ", 0) == 0);
    CHECK(unknown.find("not in the tokenizer's vocabulary") != std::string::npos);
    CHECK(error_of("ab\tba\nab\tabcdef\n", {0, 6}) ==
          ":2: target of 6 tokens + eos exceeds the decoder's context target_block_size 6");
    CHECK(error_of("abcd\tba\n", {3, 0}) == ":1: source of 4 tokens exceeds the encoder's context source_block_size 3");
    CHECK(error_of("\n\n") == ": no source<TAB>target line");
    CHECK_THROWS_WITH_AS(read_parallel_corpus((dir.path() / "missing.tsv").string(), *tokenizer),
                         doctest::Contains("missing.tsv: cannot open the parallel corpus"), std::invalid_argument);
}

TEST_CASE("parallel corpus: the held-out split is the last ⌈fraction·N⌉ examples, at least one each side") {
    auto examples = [](int n) {
        std::vector<ParallelExample> v(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)].line = i + 1;
        return v;
    };
    ParallelSplit split = split_held_out(examples(10), 0.25, "f.tsv");
    REQUIRE(split.train.size() == 7);
    REQUIRE(split.held_out.size() == 3);
    CHECK(split.train.back().line == 7);
    CHECK(split.held_out.front().line == 8);
    CHECK(split.held_out.back().line == 10);
    CHECK(split_held_out(examples(10), 0.001, "f.tsv").held_out.size() == 1);
    CHECK(split_held_out(examples(2), 0.99, "f.tsv").train.size() == 1);
    CHECK_THROWS_WITH_AS(split_held_out(examples(1), 0.1, "f.tsv"),
                         "f.tsv: 1 example(s); a run needs at least two (one to train on, one held out)",
                         std::invalid_argument);
}

TEST_CASE("parallel corpus: decode_target drops bos and ids past the tokenizer's") {
    const auto tokenizer = CharTokenizer::train("abc");
    const Seq2SeqVocabulary v{tokenizer->vocab_size()};
    const std::vector<int32_t> ids = tokenizer->encode("cab");
    std::vector<int32_t> with_bos = {v.bos(), ids[0], v.bos(), ids[1], ids[2], v.eos()};
    CHECK(decode_target(*tokenizer, with_bos) == "cab");
}
