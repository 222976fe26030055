#include "data/corpus.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "data/tokenizer.h"

namespace gpt {

namespace fs = std::filesystem;

[[noreturn]] static void fail(const fs::path& path, const std::string& what) {
    throw std::runtime_error("corpus " + path.string() + ": " + what);
}

int64_t Corpus::bytes() const {
    int64_t total = 0;
    for (const CorpusDocument& d : documents) total += static_cast<int64_t>(d.text.size());
    return total;
}

bool is_corpus_file_name(const fs::path& name) {
    const std::string file_name = name.filename().string();
    if (file_name.empty() || file_name[0] == '.') return false;
    const std::string extension = name.extension().string();
    return extension.empty() || extension == ".txt";
}

static std::string read_text_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
    std::string text;
    std::error_code error;
    const auto size = fs::file_size(path, error);
    if (!error) text.reserve(size);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) fail(path, "read error");
    const size_t nul = text.find('\0');
    if (nul != std::string::npos)
        fail(path, "looks binary (NUL byte at offset " + std::to_string(nul) + "); a corpus must be text");
    return text;
}

std::string Corpus::skipped_summary() const {
    if (skipped.empty()) return "";
    constexpr size_t kNamed = 3;  // names shown per reason
    std::vector<std::string> reasons;
    for (const auto& [name, why] : skipped)
        if (std::find(reasons.begin(), reasons.end(), why) == reasons.end()) reasons.push_back(why);
    std::string line = path.string() + ": skipped " + std::to_string(skipped.size()) + " entr" +
                       (skipped.size() == 1 ? "y" : "ies") + ": ";
    for (size_t r = 0; r < reasons.size(); ++r) {
        if (r) line += "; ";
        line += reasons[r];
        line += ": ";
        size_t count = 0;
        for (const auto& [name, why] : skipped) {
            if (why != reasons[r] || count++ >= kNamed) continue;
            if (count > 1) line += ", ";
            line += name;
        }
        if (count > kNamed) line += " and " + std::to_string(count - kNamed) + " more";
    }
    return line;
}

Corpus read_corpus(const fs::path& path, const CorpusOptions& options) {
    Corpus corpus;
    corpus.path = path;
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) fail(path, "does not exist");

    if (fs::is_regular_file(status)) {
        std::string text = read_text_file(path);
        if (text.empty()) fail(path, "is empty");
        corpus.documents.push_back({path, std::move(text)});
        return corpus;
    }
    if (!fs::is_directory(status)) fail(path, "is neither a regular file nor a directory");

    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(path, error)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_symlink() || entry.is_directory() || !is_corpus_file_name(entry.path())) {
            corpus.skipped.emplace_back(name, entry.is_symlink()     ? "symbolic link"
                                              : entry.is_directory() ? "folder"
                                                                     : "not .txt");
            continue;
        }
        if (!entry.is_regular_file())  // a FIFO would block the read, a device never end: name it
            fail(entry.path(), "is not a regular file (a FIFO, socket or device); move it out of the corpus folder");
        files.push_back(entry.path());
    }
    if (error) fail(path, "cannot list: " + error.message());
    if (files.empty()) fail(path, "directory has no text files (regular files named *.txt or without an extension)");
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        std::string text = read_text_file(file);
        if (text.empty()) corpus.skipped.emplace_back(file.filename().string(), "empty");
        else corpus.documents.push_back({file, std::move(text)});
    }
    std::sort(corpus.skipped.begin(), corpus.skipped.end());
    if (corpus.documents.empty())
        fail(path, "all " + std::to_string(files.size()) + " text files in the directory are empty");

    if (options.join_with_end_of_text && corpus.documents.size() > 1) {
        CorpusDocument joined{path, {}};
        joined.text.reserve(size_t(corpus.bytes()) + corpus.documents.size() * kEndOfText.size());
        for (size_t i = 0; i < corpus.documents.size(); ++i) {
            if (i > 0) joined.text += kEndOfText;
            joined.text += corpus.documents[i].text;
        }
        corpus.documents.clear();
        corpus.documents.push_back(std::move(joined));
    }
    return corpus;
}

}  // namespace gpt
