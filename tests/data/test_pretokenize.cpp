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
    CHECK(pieces("caf\xC3\xA9 ok") == V{"caf\xC3\xA9", " ok"});  // bytes >= 0x80 count as letters
    CHECK(pieces("").empty());
}

// The scanner must equal Python's re.findall of GPT-2's pattern with the documented ASCII classes.
TEST_CASE("pretokenize: equals Python re on random byte strings") {
    test::TempDir dir;
    std::mt19937 rng(7);
    const std::string alphabet = "ab Z9'srevmld \n\t\r\x0b\x0c!.,-\x80\xC3\xA9\x01";
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
        "import re,sys\n"
        "p=re.compile(rb\"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z\\x80-\\xff]+| ?[0-9]+| ?[^\\sA-Za-z0-9\\x80-\\xff]+|\\s+(?!\\S)|\\s+\")\n"
        "d=open(sys.argv[1],'rb').read();o=open(sys.argv[2],'w');i=0\n"
        "while i<len(d):\n"
        "  j=d.index(b'\\n',i);n=int(d[i:j]);s=d[j+1:j+1+n];i=j+1+n\n"
        "  o.write(' '.join(str(len(m)) for m in p.findall(s))+'\\n')\n";
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
