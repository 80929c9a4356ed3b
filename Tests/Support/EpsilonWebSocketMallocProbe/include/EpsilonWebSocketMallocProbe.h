#ifndef EPSILON_WEBSOCKET_MALLOC_PROBE_H
#define EPSILON_WEBSOCKET_MALLOC_PROBE_H
#include <stdint.h>

// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
// made by the calling thread between start and stop. Works by interposing the allocator
// symbols in the test executable and forwarding to glibc's __libc_* entry points.
void epsilon_websocket_malloc_probe_start(void);
int64_t epsilon_websocket_malloc_probe_stop(void);
#endif
