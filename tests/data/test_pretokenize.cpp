#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "data/pretokenize.h"
#include "temp_dir.h"

using namespace gpt;

static std::vector<std::string> pieces(std::string_view text) {
    std::vector<std::string> out;
    pretokenize(text, [&](std::string_view p) { out.emplace_back(p); });
    return out;
}

TEST_CASE("pretokenize: GPT-2 pieces on examples") {
    using V = std::vector<std::string>;
    CHECK(pieces("Hello world") == V{"Hello", " world"});
    CHECK(pieces("don't  stop\n\nnow") == V{"don", "'t", " ", " stop", "\n", "\n", "now"});
    CHECK(pieces("x   y") == V{"x", "  ", " y"});
    CHECK(pieces("end   ") == V{"end", "   "});
    CHECK(pieces("a\n\n") == V{"a", "\n\n"});
    CHECK(pieces("a1234b") == V{"a", "1234", "b"});
    CHECK(pieces("Hi!!! ?") == V{"Hi", "!!!", " ?"});
    CHECK(pieces("''s") == V{"''", "s"});
    CHECK(pieces(" 's") == V{" '", "s"});
    CHECK(pieces("\t\ta") == V{"\t", "\t", "a"});
    CHECK(pieces("caf\xC3\xA9 ok") == V{"caf\xC3\xA9", " ok"});
    // Unicode classes: U+00A0 is whitespace, U+2014 (em dash) punctuation, U+0663 a number, U+0301
    // (combining acute) neither letter nor number.
    CHECK(pieces("a\xC2\xA0" "b") == V{"a", "\xC2\xA0", "b"});
    CHECK(pieces("x \xE2\x80\x94y") == V{"x", " \xE2\x80\x94", "y"});
    CHECK(pieces("\xD9\xA3\xD9\xA4x") == V{"\xD9\xA3\xD9\xA4", "x"});
    CHECK(pieces("e\xCC\x81t") == V{"e", "\xCC\x81", "t"});
    CHECK(pieces("\xEC\x95\x88\xEB\x85\x95 \xED\x95\x98") == V{"\xEC\x95\x88\xEB\x85\x95", " \xED\x95\x98"});
    // Invalid UTF-8: each maximal invalid run is a piece of its own; the valid text around splits as usual.
    CHECK(pieces("ab\xFF\xFE" "cd ef") == V{"ab", "\xFF\xFE", "cd", " ef"});
    CHECK(pieces("\x80") == V{"\x80"});
    CHECK(pieces("x\xC3") == V{"x", "\xC3"});
    CHECK(pieces("").empty());
}

// The pre-split must equal Python's re.findall of GPT-2's pattern, with \p{L}, \p{N} and \s spelled
// out from unicodedata for the characters of the test alphabet (Debian's python3 has no `regex`).
TEST_CASE("pretokenize: equals Python on random Unicode strings") {
    test::TempDir dir;
    std::mt19937 rng(7);
    const std::vector<std::string> alphabet = {
        "a", "b", "Z", "9", "'", "s", "r", "e", "v", "m", "l", "d", " ", " ", "\n", "\t", "\r", "\x0b", "\x0c", "!", ".",
        ",", "-", "\x01", "\xC3\xA9", "\xC2\xA0", "\xE2\x80\x94", "\xD9\xA3", "\xC2\xBD", "\xCC\x81", "\xEC\x95\x88",
        "\xF0\x9F\x98\x80", "\xE3\x80\x80", "\xC2\x85", "\xE2\x80\x8B", "\xE2\x85\xA7"};
    std::vector<std::string> samples;
    for (int s = 0; s < 300; ++s) {
        std::string text;
        const int n = 1 + int(rng() % 40);
        for (int i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
        samples.push_back(text);
    }
    std::ofstream input(dir.path() / "input.bin", std::ios::binary);
    for (const auto& s : samples) input << s.size() << '\n' << s;
    input.close();
    const std::string script =
        "import re,sys,unicodedata as u\n"
        "d=open(sys.argv[1],'rb').read();o=open(sys.argv[2],'w');i=0;texts=[]\n"
        "while i<len(d):\n"
        "  j=d.index(b'\\n',i);n=int(d[i:j]);texts.append(d[j+1:j+1+n].decode());i=j+1+n\n"
        "cs=sorted(set(''.join(texts)))\n"
        "cls=lambda f:''.join(re.escape(c) for c in cs if f(c))\n"
        "L=cls(lambda c:u.category(c)[0]=='L');N=cls(lambda c:u.category(c)[0]=='N')\n"
        "S=cls(lambda c:c in '\\t\\n\\x0b\\x0c\\r\\x85' or u.category(c)[0]=='Z')\n"
        "p=re.compile(\"'s|'t|'re|'ve|'m|'ll|'d| ?[%s]+| ?[%s]+| ?[^%s%s%s]+|[%s]+(?![^%s])|[%s]+\"%(L,N,S,L,N,S,S,S))\n"
        "for t in texts: o.write(' '.join(str(len(m.encode())) for m in p.findall(t))+'\\n')\n";
    std::ofstream(dir.path() / "ref.py") << script;
    const std::string command = std::string(GPT_PYTHON) + " " + (dir.path() / "ref.py").string() + " " +
                                (dir.path() / "input.bin").string() + " " + (dir.path() / "lengths.txt").string();
    REQUIRE(std::system(command.c_str()) == 0);
    std::ifstream reference(dir.path() / "lengths.txt");
    std::string line;
    for (const auto& s : samples) {
        REQUIRE(std::getline(reference, line));
        std::ostringstream mine;
        bool first = true;
        pretokenize(s, [&](std::string_view p) {
            mine << (first ? "" : " ") << p.size();
            first = false;
        });
        CHECK_MESSAGE(mine.str() == line, "text: ", s);
    }
}
