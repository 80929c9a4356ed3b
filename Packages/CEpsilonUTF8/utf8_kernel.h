// The lookup kernel, once, for any vector width: utf8.c includes this file once per
// instruction set after defining the parameters below; each inclusion defines
// <PREFIX>_plain and <PREFIX>_masked, compiled with that set's target attribute.
//
//   KERNEL_PREFIX              name prefix (ssse3, avx2, avx512)
//   KERNEL_TARGET              the target attribute's string ("avx2")
//   KERNEL_WIDTH               bytes per vector (16, 32, 64); a 64-byte block is 64 / width vectors
//   KERNEL_PRELOAD             1: load (and unmask) every vector of a block and all their
//                              predecessors before computing; 0: one vector at a time. The same
//                              work in another order: with 16 vector registers, four 16-byte
//                              vectors and their 12 predecessors do not fit at once (SSSE3 uses
//                              0); fewer, wider vectors do (AVX2 and AVX-512 use 1). Each choice
//                              gives the instructions the three hand-written kernels had.
//   V                          the vector type
//   V_LOAD(p) V_STORE(p, v)    unaligned load and store
//   V_ZERO V_SET8(x) V_SET32(x)
//   V_AND V_OR V_XOR V_SUBS_U8 V_SRLI16_4(v)   lane-wise operations (shift: 16-bit lanes by 4)
//   V_SHUFFLE(table, index)    byte shuffle within 16-byte lanes
//   V_TABLE(t)                 a 16-entry table repeated in every 16-byte lane
//   V_ANY_HIGH(v)              true when any byte has its high bit set
//   V_NONZERO(v)               true when any byte is non-zero
//
// Everything it uses from utf8.c: the three tables, incomplete_64 and rotated().

#define KERNEL_CAT_(a, b) a##_##b
#define KERNEL_CAT(a, b) KERNEL_CAT_(a, b)
#define KERNEL_NAME(name) KERNEL_CAT(KERNEL_PREFIX, name)
#define KERNEL_INLINE __attribute__((target(KERNEL_TARGET), always_inline)) static inline
#define KERNEL_VECTORS (64 / KERNEL_WIDTH)

// Where each 2-byte rule is broken, and where a continuation owed 2 or 3 bytes after a lead
// is missing or one is not owed (the result is non-zero where the bytes break a rule).
KERNEL_INLINE V KERNEL_NAME(errors)(V v, V p1, V p2, V p3) {
    const V nibble = V_SET8(0x0F);
    V b1h = V_SHUFFLE(V_TABLE(byte_1_high), V_AND(V_SRLI16_4(p1), nibble));
    V b1l = V_SHUFFLE(V_TABLE(byte_1_low), V_AND(p1, nibble));
    V b2h = V_SHUFFLE(V_TABLE(byte_2_high), V_AND(V_SRLI16_4(v), nibble));
    V special = V_AND(V_AND(b1h, b1l), b2h);
    V must23 = V_OR(V_SUBS_U8(p2, V_SET8((char)(0xE0 - 0x80))), V_SUBS_U8(p3, V_SET8((char)(0xF0 - 0x80))));
    return V_XOR(V_AND(must23, V_SET8((char)0x80)), special);
}

KERNEL_INLINE size_t KERNEL_NAME(check)(const uint8_t *src, uint8_t *dst, size_t i, size_t count,
                                        uint32_t pattern, int masked) {
    const V m0 = V_SET32((int)pattern), m1 = V_SET32((int)rotated(pattern, 1));
    const V m2 = V_SET32((int)rotated(pattern, 2)), m3 = V_SET32((int)rotated(pattern, 3));
    const V incomplete = V_LOAD(incomplete_64 + 64 - KERNEL_WIDTH);
    // Non-zero when the bytes before the block leave a sequence open.
    V open = V_ZERO;
    for (; i + 64 <= count; i += 64) {
        V v[KERNEL_VECTORS];
        if (KERNEL_PRELOAD) {
            for (int k = 0; k < KERNEL_VECTORS; k++) v[k] = V_LOAD(src + i + KERNEL_WIDTH * k);
            if (masked) {
                for (int k = 0; k < KERNEL_VECTORS; k++) v[k] = V_XOR(v[k], m0);
                for (int k = 0; k < KERNEL_VECTORS; k++) V_STORE(dst + i + KERNEL_WIDTH * k, v[k]);
            }
        } else {
            for (int k = 0; k < KERNEL_VECTORS; k++) {
                v[k] = V_LOAD(src + i + KERNEL_WIDTH * k);
                if (masked) {
                    v[k] = V_XOR(v[k], m0);
                    V_STORE(dst + i + KERNEL_WIDTH * k, v[k]);
                }
            }
        }
        // The block's bytes OR-ed pairwise: any high bit means not all ASCII.
        V any[KERNEL_VECTORS];
        for (int k = 0; k < KERNEL_VECTORS; k++) any[k] = v[k];
        for (int step = 1; step < KERNEL_VECTORS; step *= 2)
            for (int k = 0; k + step < KERNEL_VECTORS; k += 2 * step) any[k] = V_OR(any[k], any[k + step]);
        V error;
        if (!V_ANY_HIGH(any[0])) {
            // All ASCII: only a sequence left open before the block can be wrong.
            error = open;
        } else {
            // The 1, 2 and 3 bytes before each vector (loaded again, unmasked again), checked
            // as each is loaded, or (preloading) once all are loaded and unmasked.
            V p1[KERNEL_VECTORS], p2[KERNEL_VECTORS], p3[KERNEL_VECTORS];
            error = V_ZERO;
            for (int k = 0; k < KERNEL_VECTORS; k++) {
                const uint8_t *at = src + i + KERNEL_WIDTH * k;
                p1[k] = V_LOAD(at - 1);
                p2[k] = V_LOAD(at - 2);
                p3[k] = V_LOAD(at - 3);
                if (!KERNEL_PRELOAD) {
                    if (masked) {
                        p1[k] = V_XOR(p1[k], m1);
                        p2[k] = V_XOR(p2[k], m2);
                        p3[k] = V_XOR(p3[k], m3);
                    }
                    error = V_OR(error, KERNEL_NAME(errors)(v[k], p1[k], p2[k], p3[k]));
                }
            }
            if (KERNEL_PRELOAD) {
                if (masked) {
                    for (int k = 0; k < KERNEL_VECTORS; k++) p1[k] = V_XOR(p1[k], m1);
                    for (int k = 0; k < KERNEL_VECTORS; k++) p2[k] = V_XOR(p2[k], m2);
                    for (int k = 0; k < KERNEL_VECTORS; k++) p3[k] = V_XOR(p3[k], m3);
                }
                for (int k = 0; k < KERNEL_VECTORS; k++) error = V_OR(error, KERNEL_NAME(errors)(v[k], p1[k], p2[k], p3[k]));
            }
        }
        open = V_SUBS_U8(v[KERNEL_VECTORS - 1], incomplete);
        if (V_NONZERO(error)) break;
    }
    return i;
}

__attribute__((target(KERNEL_TARGET))) static size_t KERNEL_NAME(plain)(const uint8_t *src, size_t i, size_t count) {
    return KERNEL_NAME(check)(src, 0, i, count, 0, 0);
}

__attribute__((target(KERNEL_TARGET))) static size_t KERNEL_NAME(masked)(const uint8_t *src, uint8_t *dst, size_t i,
                                                                        size_t count, uint32_t pattern) {
    return KERNEL_NAME(check)(src, dst, i, count, pattern, 1);
}

#undef KERNEL_CAT_
#undef KERNEL_CAT
#undef KERNEL_NAME
#undef KERNEL_INLINE
#undef KERNEL_VECTORS
#undef KERNEL_PREFIX
#undef KERNEL_TARGET
#undef KERNEL_WIDTH
#undef KERNEL_PRELOAD
#undef V
#undef V_LOAD
#undef V_STORE
#undef V_ZERO
#undef V_SET8
#undef V_SET32
#undef V_AND
#undef V_OR
#undef V_XOR
#undef V_SUBS_U8
#undef V_SRLI16_4
#undef V_SHUFFLE
#undef V_TABLE
#undef V_ANY_HIGH
#undef V_NONZERO
