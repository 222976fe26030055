// The PyTorch-reference tests (parity, fused ops, AdamW) and a Python that cannot import torch or h5py.
// scripts/test.sh exports GPT_REQUIRE_TORCH=1 after the set-up script has installed them (always, in CI):
// there a missing import is a test failure, so the most important comparisons cannot report success
// without having run. Elsewhere the test is skipped, saying why.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

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

}  // namespace gpt::test
