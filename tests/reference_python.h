// The PyTorch-reference tests (parity, fused ops, AdamW) and a Python that cannot import torch or h5py.
// scripts/test.sh exports GPT_REQUIRE_TORCH=1 after the set-up script has installed them (always, in CI):
// there a missing import is a test failure, so the most important comparisons cannot report success
// without having run. Elsewhere the test is skipped, saying why.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <sys/wait.h>

namespace gpt::test {

inline bool torch_required() {
    const char* value = std::getenv("GPT_REQUIRE_TORCH");
    return value != nullptr && std::string(value) == "1";
}

// Call when the reference cannot run because of `reason`, then return from the test: fails under
// GPT_REQUIRE_TORCH=1, otherwise prints that (and why) the comparison was skipped.
inline void reference_unavailable(const std::string& reason) {
    if (torch_required()) FAIL("GPT_REQUIRE_TORCH=1 but " << reason << ": the PyTorch reference did not run");
    MESSAGE("SKIPPED: " << reason << "; the PyTorch reference did not run (scripts/setup.sh installs torch and "
                           "h5py; GPT_REQUIRE_TORCH=1 makes this a failure)");
}

// Runs `GPT_PYTHON <arguments>` (a reference script and its files). True when it ran and exited 0; false
// after reference_unavailable() when the script exited 77 (it could not import torch); a failing test
// for any other exit status.
#ifdef GPT_PYTHON
inline bool run_reference(const std::string& arguments) {
    const int status = std::system((std::string(GPT_PYTHON) + " " + arguments).c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        reference_unavailable("torch cannot be imported by " GPT_PYTHON);
        return false;
    }
    REQUIRE_MESSAGE(status == 0, GPT_PYTHON " " << arguments << " failed");
    return true;
}
#endif

}  // namespace gpt::test
