// Reading a training corpus: one text file, or a folder of them.
//
// A folder's documents are its regular files (symlinks and subfolders are skipped, as are hidden
// files) whose names end in .txt or have no extension, sorted by name. So Debian's
// /usr/share/games/fortunes reads as a corpus: its fortune files have no extension, its .dat index
// files and .u8 symlinks are skipped. Every problem is one std::runtime_error line naming the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gpt {

struct CorpusDocument {
    std::filesystem::path path;
    std::string text;
};

struct CorpusOptions {
    // Collapse a folder's documents into one, with "<|endoftext|>" between them (encode it with
    // EncodeOptions::allow_special to get the special token). Off: documents stay separate, and
    // prepare_corpus puts the special token id between them without going through text.
    bool join_with_end_of_text = false;
};

struct Corpus {
    std::filesystem::path path;  // what was asked for
    std::vector<CorpusDocument> documents;
    // A folder's entries that were not read, (name, why) sorted by name; why is "symbolic link",
    // "folder", "not .txt" or "empty". Said by prepare in one line, never silently dropped.
    std::vector<std::pair<std::string, std::string>> skipped;
    int64_t bytes() const;
    // "" when nothing was skipped; else one line, by reason: "DIR: skipped 86 entries: not .txt: art.dat,
    // ascii-art.dat, computers.dat and 40 more; symbolic link: art.u8, ... and 40 more".
    std::string skipped_summary() const;
};

// Errors: missing path; an empty file (a file path that is empty, or a folder whose text files are
// all empty); a folder with no text files; a binary file (one containing a NUL byte).
Corpus read_corpus(const std::filesystem::path& path, const CorpusOptions& options = {});

// Whether a folder entry named `name` counts as a text document (.txt or no extension, not hidden).
bool is_corpus_file_name(const std::filesystem::path& name);

}  // namespace gpt
