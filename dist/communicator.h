// The other processes of a data-parallel run (docs/design.md, "Data-parallel training"). Training
// sees them only through this interface; MPI lives in dist/mpi_communicator.cpp alone, compiled when
// CMake finds MPI. A run not started by mpirun (or a build without MPI) gets the single-process
// implementation, which makes no MPI call: rank 0 of 1, every collective the identity.
//
// Every collective is deterministic: the same inputs give the same bits on every rank and in every
// run, whatever the transport (shared memory, TCP) or the timing. Nothing here sums in an order that
// the library chooses (MPI_Allreduce promises none).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace gpt {

class Communicator {
public:
    virtual ~Communicator() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // Ranks of this job on this machine (OpenMP threads per rank default to the node's cores / this).
    virtual int ranks_on_node() const = 0;

    // data[i] ← ((x_0[i] + x_1[i]) + x_2[i]) + … + x_{N-1}[i] on every rank, x_r being rank r's data:
    // the sum in rank order, in float. Every rank passes the same length.
    virtual void sum_in_rank_order(std::span<float> data) = 0;
    // Every rank's `mine` (the same length on every rank), concatenated in rank order, on every rank.
    virtual std::vector<std::byte> all_gather(std::span<const std::byte> mine) = 0;
    // `root`'s bytes on every rank (resized there); the root's vector is unchanged.
    virtual void broadcast(std::vector<std::byte>& data, int root) = 0;
    virtual void barrier() = 0;
    // Ends every process of the job with `exit_code` (a rank that fails alone must not leave the
    // others waiting in a collective).
    [[noreturn]] virtual void abort(int exit_code) = 0;
};

// An error every rank raises alike, from values they all gathered (ranks started with different
// options): rank 0 reports it once and the ranks end together, without MPI_Abort.
struct RanksDisagree : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// MPI's world when this build has MPI and the process was started by mpirun (OMPI_COMM_WORLD_SIZE,
// PMI_SIZE or PMIX_RANK set), else one process. Throws std::runtime_error when started by mpirun but
// built without MPI (each process would train alone and all would write the same run folder).
std::unique_ptr<Communicator> connect_processes();
std::unique_ptr<Communicator> single_process();
bool built_with_mpi();

// Each rank's `value` (trivially copyable), in rank order.
template <class T>
std::vector<T> gather_values(Communicator& comm, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::vector<std::byte> bytes = comm.all_gather(std::as_bytes(std::span<const T>(&value, 1)));
    std::vector<T> values(static_cast<size_t>(comm.size()));
    std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
}

}  // namespace gpt
