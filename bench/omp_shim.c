// omp_shim: an LD_PRELOAD library that counts and times libgomp's parallel regions and barriers inside
// gpt_bench's measured steps, for bench/amdahl.py. Benchmark-only; nothing in the library uses it.
//
//   GPT_OMP_SHIM=count    (default) regions run as libgomp runs them; the shim counts top-level regions
//                         (active: a team of more than one thread; inactive: `if` false or one thread),
//                         the barriers of active regions (thread 0's GOMP_barrier calls), and the wall
//                         time inside and outside regions.
//   GPT_OMP_SHIM=emulate  one real thread plays a team of n virtual threads: omp_get_max_threads answers
//                         n, so the program cuts its work exactly as it would on n cores, and each active
//                         region runs its n threads one after another as fibers (ucontext), switching at
//                         GOMP_barrier. Each thread's time between barriers is measured, so a region's
//                         time on n cores is predicted as Σ over its barrier phases of the slowest
//                         thread's time (load imbalance and work repeated per thread included; memory-
//                         bandwidth contention and the fork/join cost are not). Times are the thread's
//                         CPU time: on a loaded machine the time the OS gives to other processes is not
//                         taken for a slow virtual thread (the max over threads would catch every
//                         preemption). n is what the program asks for (omp_set_num_threads: gpt_bench
//                         --threads n), or, with GPT_OMP_SHIM_TEAMS=1,4,8,16, each listed count in turn,
//                         one measured step each, round after round: the counts are compared in
//                         interleaved steps of one process, not in runs minutes apart. (The project is
//                         bit-deterministic for any thread count, so changing it between steps changes no
//                         value.)
//
// gpt_bench calls gpt_omp_shim_step(1) / (0) around each measured step (a weak symbol there, absent
// without the shim); only time between those calls counts. At exit, per team size: per-step medians
// (step, serial, work, time on n cores) and means, and a table of region sites (the outlined function's
// offset in its object, for addr2line: calls, time inside, serial time just before each), as one JSON
// object to the file named by GPT_OMP_SHIM_OUT (or stderr).
//
// Build: cc -O2 -shared -fPIC -o omp_shim.so bench/omp_shim.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

typedef void (*region_fn)(void*);

static void (*real_parallel)(region_fn, void*, unsigned, unsigned);
static void (*real_barrier)(void);
static int (*real_thread_num)(void);
static int (*real_num_threads)(void);
static int (*real_max_threads)(void);
static void (*real_set_num_threads)(int);
static int (*real_in_parallel)(void);
static int (*real_level)(void);

enum { kSlots = 16, kMaxSteps = 4096, kSites = 4096, kMaxTeam = 256, kMaxLevels = 8 };

static int emulate;           // GPT_OMP_SHIM=emulate
static int virtual_team = 1;  // emulate: the thread count the program sees now
static int teams[kSlots];     // GPT_OMP_SHIM_TEAMS, taken in turn
static int team_slots;        // how many; 0 = the program's own count
static int in_step;           // between gpt_omp_shim_step(1) and (0)
static int slot;              // the measured step's team size's index

// count: wall time. emulate: the one real thread's CPU time.
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(emulate ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

// The measured steps' start and end on CLOCK_MONOTONIC, to match a profile recorded with
// `perf record -k CLOCK_MONOTONIC` (bench/amdahl.py --perf).
static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void* lookup(const char* name) {
    return dlsym(RTLD_NEXT, name);
}

// A process without libgomp (a profiler or shell that the preload reaches too) leaves the shim idle.
__attribute__((constructor)) static void shim_init(void) {
    real_parallel = (void (*)(region_fn, void*, unsigned, unsigned))lookup("GOMP_parallel");
    real_barrier = (void (*)(void))lookup("GOMP_barrier");
    real_thread_num = (int (*)(void))lookup("omp_get_thread_num");
    real_num_threads = (int (*)(void))lookup("omp_get_num_threads");
    real_max_threads = (int (*)(void))lookup("omp_get_max_threads");
    real_set_num_threads = (void (*)(int))lookup("omp_set_num_threads");
    real_in_parallel = (int (*)(void))lookup("omp_in_parallel");
    real_level = (int (*)(void))lookup("omp_get_level");
    if (!real_parallel || !real_barrier || !real_thread_num || !real_num_threads || !real_max_threads ||
        !real_set_num_threads || !real_in_parallel || !real_level)
        return;
    const char* mode = getenv("GPT_OMP_SHIM");
    emulate = mode && strcmp(mode, "emulate") == 0;
    if (!emulate) return;
    virtual_team = real_max_threads();  // OMP_NUM_THREADS until the program sets it
    real_set_num_threads(1);
    const char* list = getenv("GPT_OMP_SHIM_TEAMS");
    for (const char* p = list; p && *p && team_slots < kSlots;) {
        char* end;
        const long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > kMaxTeam) {
            fprintf(stderr, "omp_shim: GPT_OMP_SHIM_TEAMS must list thread counts 1..%d, got \"%s\"\n", kMaxTeam, list);
            exit(2);
        }
        teams[team_slots++] = (int)n;
        p = *end == ',' ? end + 1 : end;
    }
}

// ---- totals over the measured steps, per team size ----

typedef struct {
    region_fn fn;
    int slot;
    long long calls, active_calls, barriers;
    double wall_ms;           // real time inside (emulate: the fibers' run on one thread)
    double inactive_ms;       // inside its calls with a team of one (serial at this thread count)
    double work_ms;           // emulate: Σ of every virtual thread's time (the region's 1-core work)
    double predicted_ms;      // emulate: Σ over barrier phases of the slowest virtual thread
    double serial_before_ms;  // time outside regions since the previous region (or the step's start)
} Site;

typedef struct {
    int threads;
    long long steps, regions, active_regions, barriers;
    double region_ms, active_ms, work_ms, predicted_ms, tail_serial_ms;
    // per step, for medians: the step; outside every region; outside the active ones; work; on n cores
    double step[kMaxSteps], outside[kMaxSteps], serial[kMaxSteps], work[kMaxSteps], predicted[kMaxSteps];
} Totals;

static Site sites[kSites];
static Totals totals[kSlots];
static long long steps_begun;
static double windows[kMaxSteps][2];
static double step_start, last_region_end, step_region_ms, step_active_ms, step_work_ms, step_predicted_ms;

static Site* site_of(region_fn fn) {
    size_t h = (((uintptr_t)fn >> 4) + (size_t)slot * 7919) % kSites;
    for (size_t i = 0; i < kSites; ++i) {
        Site* s = &sites[(h + i) % kSites];
        if (s->fn == fn && s->slot == slot) return s;
        if (!s->fn) {
            s->fn = fn;
            s->slot = slot;
            return s;
        }
    }
    fprintf(stderr, "omp_shim: more than %d region sites\n", kSites);
    exit(3);
}

// Called by gpt_bench around each measured step.
void gpt_omp_shim_step(int begin) {
    if (begin) {
        if (steps_begun < kMaxSteps) windows[steps_begun][0] = monotonic_s();
        slot = team_slots ? (int)(steps_begun % team_slots) : 0;
        if (team_slots) virtual_team = teams[slot];
        totals[slot].threads = emulate ? virtual_team : real_max_threads();
        ++steps_begun;
        in_step = 1;
        step_region_ms = step_active_ms = step_work_ms = step_predicted_ms = 0.0;
        step_start = last_region_end = now_ms();
        return;
    }
    const double t = now_ms();
    in_step = 0;
    if (steps_begun <= kMaxSteps) windows[steps_begun - 1][1] = monotonic_s();
    Totals* s = &totals[slot];
    if (s->steps < kMaxSteps) {
        s->step[s->steps] = t - step_start;
        s->outside[s->steps] = t - step_start - step_region_ms;
        s->serial[s->steps] = t - step_start - step_active_ms;
        s->work[s->steps] = step_work_ms;
        s->predicted[s->steps] = step_predicted_ms;
    }
    ++s->steps;
    s->tail_serial_ms += t - last_region_end;
}

static void record(region_fn fn, int active, double t0, double t1, double work, double predicted, long long bars) {
    Site* s = site_of(fn);
    Totals* tot = &totals[slot];
    s->calls += 1;
    s->serial_before_ms += t0 - last_region_end;
    s->wall_ms += t1 - t0;
    ++tot->regions;
    tot->region_ms += t1 - t0;
    step_region_ms += t1 - t0;
    if (active) {
        s->active_calls += 1;
        s->barriers += bars;
        s->work_ms += work;
        s->predicted_ms += predicted;
        ++tot->active_regions;
        tot->barriers += bars;
        tot->active_ms += t1 - t0;
        tot->work_ms += work;
        tot->predicted_ms += predicted;
        step_active_ms += t1 - t0;
        step_work_ms += work;
        step_predicted_ms += predicted;
    } else {
        s->inactive_ms += t1 - t0;
    }
    last_region_end = t1;
}

// ---- count mode: libgomp runs the regions ----

static long long count_barriers;  // thread 0's barriers in the current top-level active region

static void count_parallel(region_fn fn, void* data, unsigned requested, unsigned flags) {
    if (!in_step || real_level() > 0) return real_parallel(fn, data, requested, flags);
    const int max = real_max_threads();
    const int team = requested == 0 ? max : ((int)requested < max ? (int)requested : max);
    count_barriers = 0;
    const double t0 = now_ms();
    real_parallel(fn, data, requested, flags);
    const double t1 = now_ms();
    record(fn, team > 1, t0, t1, (t1 - t0) * team, t1 - t0, count_barriers);
}

// ---- emulate mode: one thread plays the team ----

static const size_t kStack = (size_t)16 << 20;  // per fiber, like a worker thread's stack (mapped lazily)

typedef struct {
    int team, tid, active;
} Level;
static Level levels[kMaxLevels];
static int depth, active_depth;

static ucontext_t scheduler, fibers[kMaxTeam];
static void* stacks[kMaxTeam];
static int finished[kMaxTeam];
static double segment_start, segment_ms[kMaxTeam];
static region_fn fiber_fn;
static void* fiber_data;
static int current;

// A virtual thread's body; returning goes back to `scheduler` through uc_link.
static void fiber_main(void) {
    segment_start = now_ms();
    fiber_fn(fiber_data);
    segment_ms[current] = now_ms() - segment_start;
    finished[current] = 1;
}

// Fresh contexts for virtual threads 0..team-1, each to run fn(data) on its own stack. (Apart from
// emulate_parallel: getcontext returns twice, and GCC would fear for that function's variables.)
__attribute__((noinline)) static void make_fibers(int team, region_fn fn, void* data) {
    fiber_fn = fn;
    fiber_data = data;
    for (int t = 0; t < team; ++t) {
        if (!stacks[t]) {
            stacks[t] = mmap(NULL, kStack, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
            if (stacks[t] == MAP_FAILED) {
                fprintf(stderr, "omp_shim: cannot map a fiber stack\n");
                exit(3);
            }
        }
        getcontext(&fibers[t]);
        fibers[t].uc_stack.ss_sp = stacks[t];
        fibers[t].uc_stack.ss_size = kStack;
        fibers[t].uc_link = &scheduler;
        makecontext(&fibers[t], fiber_main, 0);
        finished[t] = 0;
    }
}

// The team libgomp would give: the request (0 = the default), at most the thread count; nested regions
// get one thread (libgomp's default max-active-levels).
static int team_for(unsigned requested) {
    if (active_depth > 0) return 1;
    const int most = virtual_team < kMaxTeam ? virtual_team : kMaxTeam;
    return requested == 0 ? most : ((int)requested < most ? (int)requested : most);
}

static void emulate_parallel(region_fn fn, void* data, unsigned requested) {
    const int team = team_for(requested);
    if (depth >= kMaxLevels) {
        fprintf(stderr, "omp_shim: regions nested deeper than %d\n", kMaxLevels);
        exit(3);
    }
    const int top = depth == 0 && in_step;
    const double t0 = now_ms();
    if (team == 1) {
        levels[depth++] = (Level){1, 0, 0};
        fn(data);
        --depth;
        if (top) record(fn, 0, t0, now_ms(), 0.0, 0.0, 0);
        return;
    }
    levels[depth++] = (Level){team, 0, 1};
    ++active_depth;
    make_fibers(team, fn, data);
    // Phase by phase: every thread runs to its next barrier (or its end); the phase takes as long as
    // its slowest thread.
    double work = 0.0, predicted = 0.0;
    long long bars = 0;
    for (;;) {
        double slowest = 0.0;
        int done = 0;
        for (int t = 0; t < team; ++t) {
            if (finished[t]) continue;
            current = t;
            levels[depth - 1].tid = t;
            swapcontext(&scheduler, &fibers[t]);
            work += segment_ms[t];
            if (segment_ms[t] > slowest) slowest = segment_ms[t];
            done += finished[t];
        }
        predicted += slowest;
        if (done == team) break;
        if (done != 0) {
            fprintf(stderr, "omp_shim: threads of one region disagree on barriers\n");
            exit(3);
        }
        ++bars;
    }
    --active_depth;
    --depth;
    if (top) record(fn, 1, t0, now_ms(), work, predicted, bars);
}

static void emulate_barrier(void) {
    if (depth == 0 || !levels[depth - 1].active) return;  // a team of one: nothing to wait for
    const int t = current;
    segment_ms[t] = now_ms() - segment_start;
    swapcontext(&fibers[t], &scheduler);
    segment_start = now_ms();
}

// ---- libgomp's entry points ----

void GOMP_parallel(region_fn fn, void* data, unsigned num_threads, unsigned flags) {
    if (emulate)
        emulate_parallel(fn, data, num_threads);
    else
        count_parallel(fn, data, num_threads, flags);
}

void GOMP_barrier(void) {
    if (emulate) return emulate_barrier();
    if (in_step && real_level() == 1 && real_thread_num() == 0) ++count_barriers;
    real_barrier();
}

int omp_get_thread_num(void) {
    return emulate ? (depth ? levels[depth - 1].tid : 0) : real_thread_num();
}
int omp_get_num_threads(void) {
    return emulate ? (depth ? levels[depth - 1].team : 1) : real_num_threads();
}
int omp_get_max_threads(void) {
    return emulate ? virtual_team : real_max_threads();
}
int omp_in_parallel(void) {
    return emulate ? active_depth > 0 : real_in_parallel();
}
int omp_get_level(void) {
    return emulate ? depth : real_level();
}
void omp_set_num_threads(int n) {
    if (emulate)
        virtual_team = n > 0 ? n : 1;
    else
        real_set_num_threads(n);
}

// ---- report ----

static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double median(double* v, long long n) {
    if (n > kMaxSteps) n = kMaxSteps;
    if (n == 0) return 0.0;
    qsort(v, (size_t)n, sizeof(double), by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void report_team(FILE* out, int k) {
    Totals* t = &totals[k];
    const double n = (double)t->steps;
    fprintf(out,
            "%s\n {\"threads\": %d, \"steps\": %lld, \"median\": {\"step_ms\": %.4f, \"outside_ms\": %.4f, "
            "\"serial_ms\": %.4f, "
            "\"work_ms\": %.4f, \"predicted_ms\": %.4f}, \"regions\": %.2f, \"active_regions\": %.2f, \"barriers\": "
            "%.2f, \"region_ms\": %.4f, "
            "\"active_ms\": %.4f, \"work_ms\": %.4f, \"predicted_ms\": %.4f, \"tail_serial_ms\": %.4f, \"sites\": [",
            k ? "," : "", t->threads, t->steps, median(t->step, t->steps), median(t->outside, t->steps),
            median(t->serial, t->steps), median(t->work, t->steps), median(t->predicted, t->steps),
            (double)t->regions / n, (double)t->active_regions / n, (double)t->barriers / n, t->region_ms / n,
            t->active_ms / n, t->work_ms / n, t->predicted_ms / n, t->tail_serial_ms / n);
    int first = 1;
    for (int i = 0; i < kSites; ++i) {
        const Site* s = &sites[i];
        if (!s->fn || s->slot != k) continue;
        Dl_info info;
        const int known = dladdr((void*)s->fn, &info);
        const unsigned long offset =
            known ? (unsigned long)((uintptr_t)s->fn - (uintptr_t)info.dli_fbase) : (unsigned long)(uintptr_t)s->fn;
        fprintf(
            out,
            "%s\n  {\"object\": \"%s\", \"offset\": \"0x%lx\", \"calls\": %.2f, \"active_calls\": %.2f, "
            "\"barriers\": %.2f, \"wall_ms\": %.4f, \"inactive_ms\": %.4f, \"work_ms\": %.4f, \"predicted_ms\": %.4f, "
            "\"serial_before_ms\": %.4f}",
            first ? "" : ",", known && info.dli_fname ? info.dli_fname : "?", offset, (double)s->calls / n,
            (double)s->active_calls / n, (double)s->barriers / n, s->wall_ms / n, s->inactive_ms / n, s->work_ms / n,
            s->predicted_ms / n, s->serial_before_ms / n);
        first = 0;
    }
    fprintf(out, "]}");
}

__attribute__((destructor)) static void shim_report(void) {
    if (steps_begun == 0) return;
    const char* path = getenv("GPT_OMP_SHIM_OUT");
    FILE* out = path ? fopen(path, "w") : stderr;
    if (!out) {
        fprintf(stderr, "omp_shim: cannot write %s\n", path);
        return;
    }
    fprintf(out, "{\"mode\": \"%s\", \"teams\": [", emulate ? "emulate" : "count");
    const int slots = team_slots ? team_slots : 1;
    for (int k = 0; k < slots; ++k) report_team(out, k);
    fprintf(out, "\n], \"windows\": [");
    for (long long i = 0; i < steps_begun && i < kMaxSteps; ++i)
        fprintf(out, "%s[%.6f, %.6f]", i ? ", " : "", windows[i][0], windows[i][1]);
    fprintf(out, "]}\n");
    if (out != stderr) fclose(out);
}
