// Periodic checkpoint copies are ordered by the step in their name: past step 10^8 the zero-padded
// names (ckpt_%08d) no longer sort by text.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "train/run_folder.h"

using namespace gpt;
namespace fs = std::filesystem;

TEST_CASE("periodic copies are pruned by step, not by name") {
    const fs::path dir = fs::temp_directory_path() / ("gpt_test_run_folder_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* name : {"ckpt_00000010.h5", "ckpt_99999999.h5", "ckpt_100000000.h5", "ckpt_123456789.h5",
                             "ckpt_best.h5", "ckpt.h5", "ckpt_x1.h5"})
        std::ofstream(dir / name) << "x";
    const auto copies = periodic_checkpoints(dir);
    REQUIRE(copies.size() == 4);
    CHECK(copies.front().first == 10);
    CHECK(copies.back().first == 123456789);
    prune_periodic_checkpoints(dir, 2);
    CHECK(fs::exists(dir / "ckpt_100000000.h5"));
    CHECK(fs::exists(dir / "ckpt_123456789.h5"));
    CHECK_FALSE(fs::exists(dir / "ckpt_99999999.h5"));
    CHECK_FALSE(fs::exists(dir / "ckpt_00000010.h5"));
    CHECK(fs::exists(dir / "ckpt_best.h5"));  // not a periodic copy
    CHECK(fs::exists(dir / "ckpt_x1.h5"));    // not a step number: left alone
    fs::remove_all(dir);
}

TEST_CASE("a run folder's lock is held by one owner at a time and released with it") {
    const fs::path dir = fs::temp_directory_path() / ("gpt_test_lock_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    {
        RunFolderLock first(dir);
        // flock locks belong to the open file description: a second open in this process conflicts too.
        CHECK_THROWS_WITH(RunFolderLock{dir}, doctest::Contains("is in use by another gpt train"));
    }
    CHECK_NOTHROW(RunFolderLock{dir});
    fs::remove_all(dir);
}
