// Which communicator a process gets: MPI when this build has it and mpirun (or another MPI launcher)
// started the process, else the single process.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dist/communicator.h"

namespace gpt {

#ifdef GPT_HAVE_MPI
std::unique_ptr<Communicator> make_mpi_communicator();  // dist/mpi_communicator.cpp
bool built_with_mpi() { return true; }
#else
bool built_with_mpi() { return false; }
#endif

namespace {

// The world size an MPI launcher announces in the environment (OpenMPI, then PMI as MPICH and Slurm
// set it); 0 when no launcher started us.
long launcher_world_size() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
        if (const char* value = std::getenv(name)) return std::strtol(value, nullptr, 10);
    return std::getenv("PMIX_RANK") ? 2 : 0;  // PMIx alone says no size; MPI_Init will tell
}

}  // namespace

std::unique_ptr<Communicator> connect_processes() {
    const long size = launcher_world_size();
    if (size <= 1) return single_process();  // not launched by mpirun, or mpirun -np 1: no MPI call
#ifdef GPT_HAVE_MPI
    return make_mpi_communicator();
#else
    throw std::runtime_error("started by an MPI launcher with " + std::to_string(size) +
                             " processes, but this build of gpt has no MPI (install libopenmpi-dev and "
                             "reconfigure with CMake; see README, \"Several processes\")");
#endif
}

}  // namespace gpt
