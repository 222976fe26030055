// omp_overhead: the cost of one empty OpenMP parallel region (fork + join) and of one barrier, in µs,
// at a given thread count, with the libgomp the project links (bench/amdahl.py's c(n) and b(n)).
// Prints one JSON line: the median and the best of 201 batches of REPS each (the best is what an idle
// machine gives; on a loaded one a descheduled thread stretches a batch).
//
// Build: gcc -O2 -fopenmp -o omp_overhead bench/omp_overhead.c
// Usage: omp_overhead THREADS [REPS (default 1000)]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

enum { kBatches = 201 };

static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static volatile int sink;

int main(int argc, char** argv) {
    if (argc < 2 || atoi(argv[1]) < 1) {
        fprintf(stderr, "usage: omp_overhead THREADS [REPS]\n");
        return 2;
    }
    const int threads = atoi(argv[1]);
    const int reps = argc > 2 ? atoi(argv[2]) : 1000;
    if (reps < 1) {
        fprintf(stderr, "omp_overhead: REPS must be positive\n");
        return 2;
    }
    double fork_us[kBatches], barrier_us[kBatches];
    for (int b = 0; b < kBatches; ++b) {
        double t = omp_get_wtime();
        for (int r = 0; r < reps; ++r) {
#pragma omp parallel num_threads(threads)
            sink = omp_get_thread_num();
        }
        fork_us[b] = (omp_get_wtime() - t) / reps * 1e6;
        t = omp_get_wtime();
#pragma omp parallel num_threads(threads)
        for (int r = 0; r < reps; ++r) {
#pragma omp barrier
        }
        barrier_us[b] = (omp_get_wtime() - t) / reps * 1e6;  // one region's fork/join spread over reps
    }
    qsort(fork_us, kBatches, sizeof(double), by_value);
    qsort(barrier_us, kBatches, sizeof(double), by_value);
    printf(
        "{\"threads\": %d, \"reps\": %d, \"fork_join_us\": %.4f, \"fork_join_us_best\": %.4f, \"barrier_us\": %.4f, "
        "\"barrier_us_best\": %.4f}\n",
        threads, reps, fork_us[kBatches / 2], fork_us[0], barrier_us[kBatches / 2], barrier_us[0]);
    return 0;
}
