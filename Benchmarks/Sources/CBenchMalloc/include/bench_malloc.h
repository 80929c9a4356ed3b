#ifndef BENCH_MALLOC_H
#define BENCH_MALLOC_H

#include <stdint.h>

/// Starts counting allocations made by the calling thread (resets the count to 0).
void bench_malloc_counter_start(void);

/// Stops counting on the calling thread and returns the number of allocation calls
/// (malloc, calloc, realloc, memalign, posix_memalign, aligned_alloc, valloc) made by it
/// since `bench_malloc_counter_start`.
int64_t bench_malloc_counter_stop(void);

/// Whether the interposer is linked in and live: makes one malloc while counting and checks
/// it was seen. Tests assert this first so a count of 0 can not come from a dead counter.
int bench_malloc_counter_is_active(void);

#endif
