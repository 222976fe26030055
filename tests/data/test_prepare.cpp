#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "data/bpe_trainer.h"
#include "data/char_tokenizer.h"
#include "data/prepare.h"
#include "data/token_file.h"
#include "temp_dir.h"

using namespace gpt;

static std::string sample_text(int lines) {
    std::string text;
    for (int i = 0; i < lines; ++i)
        text += "Line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog, again.\n";
    return text;
}

TEST_CASE("prepare: char tokenizer, split 90/10, token files decode back to the corpus") {
    test::TempDir dir;
    const std::string text = sample_text(40);
    PrepareOptions options;
    options.input = dir.write("corpus.txt", text);
    options.output_dir = dir.path() / "out";
    options.tokenizer_type = "char";
    options.block_size = 16;
    options.progress = false;
    const PreparedData data = prepare_corpus(options);
    CHECK(data.tokenizer->type() == "char");
    CHECK(data.train_tokens + data.val_tokens == int64_t(text.size()));  // ASCII: one token per byte
    CHECK(data.val_tokens == int64_t(double(text.size()) * 0.1));
    const TokenFile train(data.train_path), val(data.val_path);
    CHECK(train.vocab_size() == data.tokenizer->vocab_size());
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < train.size(); ++i) ids.push_back(train[i]);
    for (int64_t i = 0; i < val.size(); ++i) ids.push_back(val[i]);
    CHECK(data.tokenizer->decode(ids) == text);
}

TEST_CASE("prepare: bpe over a folder puts <|endoftext|> between documents, never from the text") {
    test::TempDir dir;
    const auto folder = dir.path() / "docs";
    std::filesystem::create_directory(folder);
    std::ofstream(folder / "a.txt") << sample_text(30) << "literal <|endoftext|> in text\n";
    std::ofstream(folder / "b.txt") << sample_text(30);
    PrepareOptions options;
    options.input = folder;
    options.output_dir = dir.path() / "out";
    options.vocab_size = 300;
    options.block_size = 8;
    options.progress = false;
    const PreparedData data = prepare_corpus(options);
    CHECK(data.documents == 2);
    const int32_t eot = *data.tokenizer->end_of_text_id();
    const TokenFile train(data.train_path), val(data.val_path);
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < train.size(); ++i) ids.push_back(train[i]);
    for (int64_t i = 0; i < val.size(); ++i) ids.push_back(val[i]);
    CHECK(std::count(ids.begin(), ids.end(), eot) == 1);
    CHECK(data.tokenizer->decode(ids) == sample_text(30) + "literal <|endoftext|> in text\n<|endoftext|>" + sample_text(30));

    // A given tokenizer is used as is.
    PrepareOptions reuse = options;
    reuse.tokenizer = data.tokenizer;
    reuse.output_dir = dir.path() / "out2";
    const PreparedData again = prepare_corpus(reuse);
    CHECK(again.tokenizer.get() == data.tokenizer.get());
    CHECK(again.train_tokens == data.train_tokens);
}

TEST_CASE("prepare: a corpus too small for one block names the path") {
    test::TempDir dir;
    PrepareOptions options;
    options.input = dir.write("tiny.txt", "just a few words here\n");
    options.output_dir = dir.path() / "out";
    options.tokenizer_type = "char";
    options.block_size = 64;
    options.progress = false;
    CHECK_THROWS_WITH_AS(prepare_corpus(options),
                         doctest::Contains(("corpus " + options.input.string() + " is too small").c_str()), std::runtime_error);
    options.tokenizer_type = "sentencepiece";
    CHECK_THROWS_WITH(prepare_corpus(options), doctest::Contains("'sentencepiece'"));
    options.input = dir.path() / "missing.txt";
    CHECK_THROWS_WITH(prepare_corpus(options), doctest::Contains("missing.txt: does not exist"));
}

TEST_CASE("prepare: encode_parallel equals encode on a text long enough to be chunked") {
    std::string text;
    while (text.size() < (5u << 20)) text += sample_text(200) + "  indented\n\n\tx\n";
    BpeTrainOptions train;
    train.vocab_size = 400;
    const auto tokenizer = train_bpe(sample_text(200), train);
    CHECK(encode_parallel(*tokenizer, text) == tokenizer->encode(text));
}

TEST_CASE("prepare: invalid UTF-8 with the char tokenizer names the file and offset, or becomes U+FFFD") {
    test::TempDir dir;
    PrepareOptions options;
    options.input = dir.write("latin1.txt", sample_text(10) + "caf\xE9\n" + sample_text(10));
    options.output_dir = dir.path() / "out";
    options.tokenizer_type = "char";
    options.block_size = 8;
    options.progress = false;
    const std::string offset = std::to_string(sample_text(10).size() + 3);
    CHECK_THROWS_WITH_AS(prepare_corpus(options),
                         doctest::Contains(("latin1.txt: invalid UTF-8 at byte offset " + offset + " (byte 0xe9)").c_str()),
                         std::invalid_argument);
    options.replace_invalid_utf8 = true;
    const PreparedData data = prepare_corpus(options);
    CHECK(data.train_tokens + data.val_tokens == int64_t(2 * sample_text(10).size() + 5));
    options.tokenizer_type = "bpe";  // byte-level: any bytes encode, and decode gives them back
    options.vocab_size = 300;
    const PreparedData bpe = prepare_corpus(options);
    CHECK(bpe.tokenizer->type() == "bpe");
}
