#include "EpsilonHTTP2TestSupport.h"

#if defined(__linux__)
#include <malloc.h>
#endif

#if defined(__GLIBC__)
long long epsilon_heap_bytes_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return (long long)info.uordblks;
}
#else
long long epsilon_heap_bytes_in_use(void) { return -1; }
#endif
