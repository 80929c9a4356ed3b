// Allocation counter for the WebSocket tests (glibc only).
//
// Defining malloc & co. in the test executable interposes them for every library in the
// process, the Swift runtime included. Counting is per thread so that tests running in
// parallel on other threads do not disturb a measurement.
#include "EpsilonWebSocketMallocProbe.h"
#include <stddef.h>
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread int64_t count;

static inline void note(void) {
    if (counting) count++;
}

void epsilon_websocket_malloc_probe_start(void) { count = 0; counting = 1; }
int64_t epsilon_websocket_malloc_probe_stop(void) { counting = 0; return count; }

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { note(); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    note();
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
