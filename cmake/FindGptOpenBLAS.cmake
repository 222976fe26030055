# Finds OpenBLAS, preferring Debian's OpenMP build (libopenblas-openmp-dev: one thread pool shared with
# the project's own `#pragma omp` loops) over the pthread build, on any architecture (multiarch
# folders are searched through CMAKE_LIBRARY_ARCHITECTURE, not hard-coded). Defines the imported target
# OpenBLAS::OpenBLAS. Installed beside gpt_cppConfig.cmake, so consumers find it the same way.
find_path(GptOpenBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas-openmp openblas)
find_library(GptOpenBLAS_LIBRARY NAMES openblas PATH_SUFFIXES openblas-openmp)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(GptOpenBLAS REQUIRED_VARS GptOpenBLAS_LIBRARY GptOpenBLAS_INCLUDE_DIR)
if(GptOpenBLAS_FOUND AND NOT TARGET OpenBLAS::OpenBLAS)
  add_library(OpenBLAS::OpenBLAS UNKNOWN IMPORTED)
  set_target_properties(OpenBLAS::OpenBLAS PROPERTIES IMPORTED_LOCATION "${GptOpenBLAS_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${GptOpenBLAS_INCLUDE_DIR}")
endif()
