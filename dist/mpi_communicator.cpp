// The communicator over MPI (OpenMPI in this project's set-up; any MPI-3 library works). Compiled
// only when CMake finds MPI (GPT_HAVE_MPI); dist/connect.cpp picks it when mpirun started us.
//
// sum_in_rank_order is a reduce-scatter then an all-gather, written by hand so that the summation
// order is fixed (MPI_Allreduce may sum in any order, and differently per message size):
//   for each bucket of at most kBucketFloats floats (a few large messages, not one per tensor):
//     1. MPI_Alltoallv: rank j receives slice j of every rank's bucket, stored in rank order;
//     2. rank j sums its N pieces in rank order: s = ((p_0 + p_1) + p_2) + … (float, one pass each);
//     3. MPI_Allgatherv: every rank receives every summed slice.
// Each rank sends and receives 2·(N−1)/N of the data, as a ring all-reduce does. MPI moves the bytes
// and never adds, so the result is the same for any transport (shared memory, TCP) and any timing.
#ifdef GPT_HAVE_MPI

#include <mpi.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "dist/communicator.h"

namespace gpt {

std::unique_ptr<Communicator> make_mpi_communicator();

namespace {

constexpr int64_t kBucketFloats = int64_t(1) << 23;  // 32 MiB per bucket

void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string(what) + " failed: " + std::string(text, static_cast<size_t>(length)));
}

class MpiCommunicator final : public Communicator {
public:
    MpiCommunicator() {
        int provided = 0;
        // FUNNELED: only the main thread calls MPI; OpenMP's workers never do.
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        MPI_Comm node;
        check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
              "MPI_Comm_split_type");
        MPI_Comm_size(node, &ranks_on_node_);
        MPI_Comm_free(&node);
    }
    // Every rank leaves together: rank 0 may still be writing the last checkpoint when the others
    // are done, and OpenMPI ends the whole job when one process exits before the rest have finished.
    ~MpiCommunicator() override {
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Finalize();
    }
    MpiCommunicator(const MpiCommunicator&) = delete;
    MpiCommunicator& operator=(const MpiCommunicator&) = delete;

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    int ranks_on_node() const override { return ranks_on_node_; }

    void sum_in_rank_order(std::span<float> data) override {
        check_same_length(data.size(), "a gradient sum (floats)");
        for (size_t offset = 0; offset < data.size(); offset += kBucketFloats)
            sum_bucket(data.subspan(offset, std::min<size_t>(kBucketFloats, data.size() - offset)));
    }

    std::vector<std::byte> all_gather(std::span<const std::byte> mine) override {
        check_same_length(mine.size(), "an all-gather (bytes)");
        std::vector<std::byte> all(mine.size() * static_cast<size_t>(size_));
        check(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                            static_cast<int>(mine.size()), MPI_BYTE, MPI_COMM_WORLD),
              "MPI_Allgather");
        return all;
    }

    void broadcast(std::vector<std::byte>& data, int root) override {
        unsigned long long length = data.size();
        check(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
        if (rank_ != root) data.resize(static_cast<size_t>(length));
        for (size_t offset = 0; offset < data.size(); offset += kBucketFloats) {  // int counts
            const size_t count = std::min<size_t>(kBucketFloats, data.size() - offset);
            check(MPI_Bcast(data.data() + offset, static_cast<int>(count), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
        }
    }

    void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

    [[noreturn]] void abort(int exit_code) override {
        MPI_Abort(MPI_COMM_WORLD, exit_code);
        std::_Exit(exit_code);  // not reached
    }

private:
    // Every collective whose ranks must pass the same length checks it first (one tiny all-gather), so
    // ranks that disagree (started with different options) get one clear error on every rank instead
    // of MPI_ERR_TRUNCATE or a buffer overrun.
    void check_same_length(size_t n, const char* what) {
        const unsigned long long mine = n;
        std::vector<unsigned long long> all(static_cast<size_t>(size_));
        check(MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all.data(), 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD),
              "MPI_Allgather");
        for (int r = 1; r < size_; ++r)
            if (all[static_cast<size_t>(r)] != all[0])
                throw RanksDisagree("ranks disagree on the size of " + std::string(what) + ": rank 0 has " +
                                         std::to_string(all[0]) + ", rank " + std::to_string(r) + " has " +
                                         std::to_string(all[static_cast<size_t>(r)]) +
                                         " (start every rank with the same options)");
    }

    // Slice r of a bucket of n floats: [r·n/N, (r+1)·n/N).
    int slice_begin(size_t n, int r) const { return static_cast<int>(n * static_cast<size_t>(r) / static_cast<size_t>(size_)); }

    void sum_bucket(std::span<float> bucket) {
        const size_t n = bucket.size();
        std::vector<int> counts(size_), offsets(size_);
        for (int r = 0; r < size_; ++r) {
            offsets[r] = slice_begin(n, r);
            counts[r] = slice_begin(n, r + 1) - offsets[r];
        }
        const int mine = counts[rank_];
        // 1. rank j receives every rank's slice j, in rank order: pieces_[r·mine …].
        pieces_.resize(static_cast<size_t>(mine) * static_cast<size_t>(size_));
        std::vector<int> receive_counts(size_, mine), receive_offsets(size_);
        for (int r = 0; r < size_; ++r) receive_offsets[r] = r * mine;
        check(MPI_Alltoallv(bucket.data(), counts.data(), offsets.data(), MPI_FLOAT, pieces_.data(),
                            receive_counts.data(), receive_offsets.data(), MPI_FLOAT, MPI_COMM_WORLD),
              "MPI_Alltoallv");
        // 2. the sum in rank order.
        float* out = bucket.data() + offsets[rank_];
        std::copy(pieces_.begin(), pieces_.begin() + mine, out);
        for (int r = 1; r < size_; ++r) {
            const float* piece = pieces_.data() + static_cast<size_t>(r) * mine;
            for (int i = 0; i < mine; ++i) out[i] += piece[i];
        }
        // 3. every summed slice to every rank.
        check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, bucket.data(), counts.data(), offsets.data(), MPI_FLOAT,
                             MPI_COMM_WORLD),
              "MPI_Allgatherv");
    }

    int rank_ = 0, size_ = 1, ranks_on_node_ = 1;
    std::vector<float> pieces_;  // kept between steps: no allocation per step
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace gpt

#endif  // GPT_HAVE_MPI
