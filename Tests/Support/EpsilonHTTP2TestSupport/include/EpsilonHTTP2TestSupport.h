#ifndef EPSILON_HTTP2_TEST_SUPPORT_H
#define EPSILON_HTTP2_TEST_SUPPORT_H

#include <stddef.h>

/// Bytes of heap in use in the whole process, as glibc counts them (`mallinfo2().uordblks`:
/// the blocks handed out, malloc's per-block overhead included); -1 where glibc is absent.
/// Swift's Glibc module does not import <malloc.h>, hence this shim.
long long epsilon_heap_bytes_in_use(void);

#endif
