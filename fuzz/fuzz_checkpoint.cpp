// libFuzzer target: the checkpoint loader (checkpoint/model_file.h load_checkpoint) on mutated files. Seed it
// with a small valid checkpoint (fuzz/run.sh writes one with `gpt train`); every input is written to a
// temporary file and loaded. Refusal (std::runtime_error / std::invalid_argument) is the expected outcome
// for damaged bytes; a crash, a hang or a sanitizer report is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "checkpoint/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/tmp/fuzz_checkpoint_" + std::to_string(getpid()) + ".h5";
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) return 0;
    std::fwrite(data, 1, size, file);
    std::fclose(file);
    try {
        const gpt::LoadedCheckpoint loaded = gpt::load_checkpoint(path);
        (void)loaded.model->parameter_count();
    } catch (const std::runtime_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
