#ifndef EPSILON_CZLIB_SHIM_H
#define EPSILON_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 and inflateInit2 are function-like macros, which Swift does not import.
static inline int epsilon_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, strategy);
}

static inline int epsilon_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
