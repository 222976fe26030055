// libFuzzer target: the two text readers a user's files reach, on arbitrary bytes.
//   config: apply_toml on the text, and lint_config_file on the same bytes written to a file. Refusal is
//     std::invalid_argument (documented); anything else escaping, a crash or a sanitizer report is a
//     finding. A text that is accepted must round-trip: config_to_toml of the result, read again, gives
//     the same config_to_toml (what the run folder's config.toml and resume rely on).
//   metrics: parse_metrics_line on the whole input and on each line, and read_metrics on the file.
//     Refusal is std::runtime_error (documented).
// Leak detection stays on for this target (fuzz/run.sh): neither reader touches HDF5 or OpenMP.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "report/report_data.h"
#include "train/config.h"

namespace {

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "property broken: %s\n", what);
        std::abort();
    }
}

void write_file(const std::string& path, const std::string& text) {
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) std::abort();
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
}

const auto kAll = [](const std::string&) { return true; };

void fuzz_config(const std::string& text, const std::string& path) {
    gpt::TrainConfig config;
    bool accepted = false;
    try {
        gpt::apply_toml(config, text, "fuzz.toml", kAll);
        accepted = true;
    } catch (const std::invalid_argument&) {
    }
    if (accepted) {
        const std::string written = gpt::config_to_toml(config);
        gpt::TrainConfig again;
        try {
            gpt::apply_toml(again, written, "written.toml", kAll);
        } catch (const std::invalid_argument& e) {
            std::fprintf(stderr, "config_to_toml output refused: %s\n%s", e.what(), written.c_str());
            std::abort();
        }
        require(gpt::config_to_toml(again) == written, "config_to_toml(read(config_to_toml(c))) != config_to_toml(c)");
        try {
            config.validate();
        } catch (const std::invalid_argument&) {
        }
    }
    write_file(path, text);
    bool linted = false;
    try {
        gpt::lint_config_file(path);
        linted = true;
    } catch (const std::invalid_argument&) {
    }
    require(linted == accepted, "lint_config_file and apply_toml disagree");
}

void fuzz_metrics(const std::string& text, const std::string& path) {
    try {
        (void)gpt::parse_metrics_line(text);
    } catch (const std::runtime_error&) {
    }
    size_t lines = 0;
    for (size_t start = 0; start <= text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        try {
            (void)gpt::parse_metrics_line(std::string_view(text).substr(start, end - start));
        } catch (const std::runtime_error&) {
        }
        ++lines;
        start = end + 1;
    }
    write_file(path, text);
    try {
        const auto records = gpt::read_metrics(path);
        require(records.size() <= lines, "more records than lines");
    } catch (const std::runtime_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/tmp/fuzz_config_metrics_" + std::to_string(getpid()) + ".txt";
    const std::string text(reinterpret_cast<const char*>(data), size);
    fuzz_config(text, path);
    fuzz_metrics(text, path);
    return 0;
}
