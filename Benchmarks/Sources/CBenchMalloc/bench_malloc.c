// The benchmark copy of Tests/Support/EpsilonMallocCounter (a package cannot use another
// package's non-product target), with bench_ names. Keep the two in step.
// Counts heap allocations by interposing the C allocator's entry points.
//
// The test executable that links this target defines malloc & co.; the dynamic linker then
// binds every library's calls (libswiftCore, Foundation, libc itself) to these definitions,
// which count and forward to glibc's internal __libc_* functions. Counting is per thread
// (a _Thread_local in the executable uses the local-exec TLS model, which never allocates),
// so tests running in parallel on other threads do not disturb a measurement.
// glibc only: on other C libraries the counter reports itself inactive.
#define _GNU_SOURCE
#include "bench_malloc.h"
#include <stddef.h>
#include <errno.h>

#if defined(__GLIBC__)
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void __libc_free(void *pointer);

static _Thread_local int counting;
static _Thread_local int64_t allocations;

static inline void count_one(void) {
    if (counting) allocations += 1;
}

void *malloc(size_t size) {
    count_one();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_one();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    count_one();
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
    count_one();
    return __libc_valloc(size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    count_one();
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

void bench_malloc_counter_start(void) {
    allocations = 0;
    counting = 1;
}

int64_t bench_malloc_counter_stop(void) {
    counting = 0;
    return allocations;
}

int bench_malloc_counter_is_active(void) {
    bench_malloc_counter_start();
    void *volatile probe = malloc(16);
    free(probe);
    return bench_malloc_counter_stop() == 1;
}
#else
void bench_malloc_counter_start(void) {}
int64_t bench_malloc_counter_stop(void) { return -1; }
int bench_malloc_counter_is_active(void) { return 0; }
#endif
