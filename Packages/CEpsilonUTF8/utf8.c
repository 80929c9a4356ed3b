// The lookup algorithm (Keiser and Lemire 2021, as in simdutf): three 16-entry tables indexed by
// the high nibble of the byte before, its low nibble and the high nibble of the byte itself;
// their AND is non-zero where a 2-byte rule is broken (too short, too long, overlong, surrogate,
// above U+10FFFF, two continuations). Whether a continuation is owed 2 or 3 bytes after a lead
// comes from two saturating subtractions. The bytes before each vector are loaded unaligned
// (from the source, unmasked again with the rotated pattern), so no state crosses blocks except
// whether the previous block left a sequence open, and a block that is ASCII at a boundary
// costs one test.
#include "CEpsilonUTF8.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

#define TOO_SHORT (1 << 0)
#define TOO_LONG (1 << 1)
#define OVERLONG_3 (1 << 2)
#define TOO_LARGE (1 << 3)
#define SURROGATE (1 << 4)
#define OVERLONG_2 (1 << 5)
#define TOO_LARGE_1000 (1 << 6)
#define OVERLONG_4 (1 << 6)
#define TWO_CONTS (1 << 7)
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

// The tables, 16 entries each, indexed by a nibble.
static const uint8_t byte_1_high[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,  // 0___ ASCII
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,                                      // 10__ continuation
    TOO_SHORT | OVERLONG_2,                                                          // 1100 2-byte lead
    TOO_SHORT,                                                                       // 1101 2-byte lead
    TOO_SHORT | OVERLONG_3 | SURROGATE,                                              // 1110 3-byte lead
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,                             // 1111 4-byte lead
};
static const uint8_t byte_1_low[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,  // ____0000
    CARRY | OVERLONG_2,                            // ____0001
    CARRY, CARRY,                                  // ____001_
    CARRY | TOO_LARGE,                             // ____0100
    CARRY | TOO_LARGE | TOO_LARGE_1000,            // ____0101
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,  // ____1101
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
};
static const uint8_t byte_2_high[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,  // 0___
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,            // 1000
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,                               // 1001
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                                // 101_
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,                                               // 11__
};
// Saturating-subtract thresholds for the last vector of a block: non-zero where the last byte
// is >= C0, the one before >= E0, the one before that >= F0 (the block leaves a sequence open).
// Each width loads the last 16, 32 or 64 entries.
static const uint8_t incomplete_64[64] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1,
};

// The key pattern rotated so that it applies to the bytes k before the block.
static inline uint32_t rotated(uint32_t pattern, int k) {
    return k == 0 ? pattern : (pattern << (8 * k)) | (pattern >> (32 - 8 * k));
}

// ---------------------------------------------------------------------------------------------
// SSSE3: 16-byte vectors, four per 64-byte block.

#define SSSE3 __attribute__((target("ssse3"), always_inline)) static inline

SSSE3 __m128i ssse3_errors(__m128i v, __m128i p1, __m128i p2, __m128i p3) {
    const __m128i nibble = _mm_set1_epi8(0x0F);
    const __m128i t1h = _mm_loadu_si128((const __m128i *)byte_1_high);
    const __m128i t1l = _mm_loadu_si128((const __m128i *)byte_1_low);
    const __m128i t2h = _mm_loadu_si128((const __m128i *)byte_2_high);
    __m128i b1h = _mm_shuffle_epi8(t1h, _mm_and_si128(_mm_srli_epi16(p1, 4), nibble));
    __m128i b1l = _mm_shuffle_epi8(t1l, _mm_and_si128(p1, nibble));
    __m128i b2h = _mm_shuffle_epi8(t2h, _mm_and_si128(_mm_srli_epi16(v, 4), nibble));
    __m128i special = _mm_and_si128(_mm_and_si128(b1h, b1l), b2h);
    __m128i must23 = _mm_or_si128(_mm_subs_epu8(p2, _mm_set1_epi8((char)(0xE0 - 0x80))),
                                  _mm_subs_epu8(p3, _mm_set1_epi8((char)(0xF0 - 0x80))));
    return _mm_xor_si128(_mm_and_si128(must23, _mm_set1_epi8((char)0x80)), special);
}

SSSE3 int ssse3_nonzero(__m128i v) {
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xFFFF;
}

SSSE3 size_t ssse3_check(const uint8_t *src, uint8_t *dst, size_t i, size_t count, uint32_t pattern, int masked) {
    const __m128i m0 = _mm_set1_epi32((int)pattern), m1 = _mm_set1_epi32((int)rotated(pattern, 1));
    const __m128i m2 = _mm_set1_epi32((int)rotated(pattern, 2)), m3 = _mm_set1_epi32((int)rotated(pattern, 3));
    const __m128i incomplete = _mm_loadu_si128((const __m128i *)(incomplete_64 + 48));
    // Non-zero when the bytes before the block leave a sequence open.
    __m128i open = _mm_setzero_si128();
    for (; i + 64 <= count; i += 64) {
        __m128i v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = _mm_loadu_si128((const __m128i *)(src + i + 16 * k));
            if (masked) {
                v[k] = _mm_xor_si128(v[k], m0);
                _mm_storeu_si128((__m128i *)(dst + i + 16 * k), v[k]);
            }
        }
        __m128i any = _mm_or_si128(_mm_or_si128(v[0], v[1]), _mm_or_si128(v[2], v[3]));
        __m128i error;
        if (_mm_movemask_epi8(any) == 0) {
            error = open;
        } else {
            error = _mm_setzero_si128();
            for (int k = 0; k < 4; k++) {
                const uint8_t *at = src + i + 16 * k;
                __m128i p1 = _mm_loadu_si128((const __m128i *)(at - 1));
                __m128i p2 = _mm_loadu_si128((const __m128i *)(at - 2));
                __m128i p3 = _mm_loadu_si128((const __m128i *)(at - 3));
                if (masked) {
                    p1 = _mm_xor_si128(p1, m1);
                    p2 = _mm_xor_si128(p2, m2);
                    p3 = _mm_xor_si128(p3, m3);
                }
                error = _mm_or_si128(error, ssse3_errors(v[k], p1, p2, p3));
            }
        }
        open = _mm_subs_epu8(v[3], incomplete);
        if (ssse3_nonzero(error)) break;
    }
    return i;
}

__attribute__((target("ssse3"))) static size_t ssse3_plain(const uint8_t *src, size_t i, size_t count) {
    return ssse3_check(src, 0, i, count, 0, 0);
}

__attribute__((target("ssse3"))) static size_t ssse3_masked(const uint8_t *src, uint8_t *dst, size_t i, size_t count, uint32_t pattern) {
    return ssse3_check(src, dst, i, count, pattern, 1);
}

// ---------------------------------------------------------------------------------------------
// AVX2: 32-byte vectors, two per 64-byte block (byte shuffles stay within 16-byte lanes, so
// each table is repeated in both).

#define AVX2 __attribute__((target("avx2"), always_inline)) static inline

AVX2 __m256i avx2_errors(__m256i v, __m256i p1, __m256i p2, __m256i p3) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i t1h = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)byte_1_high));
    const __m256i t1l = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)byte_1_low));
    const __m256i t2h = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)byte_2_high));
    __m256i b1h = _mm256_shuffle_epi8(t1h, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nibble));
    __m256i b1l = _mm256_shuffle_epi8(t1l, _mm256_and_si256(p1, nibble));
    __m256i b2h = _mm256_shuffle_epi8(t2h, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    __m256i special = _mm256_and_si256(_mm256_and_si256(b1h, b1l), b2h);
    __m256i must23 = _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8((char)(0xE0 - 0x80))),
                                     _mm256_subs_epu8(p3, _mm256_set1_epi8((char)(0xF0 - 0x80))));
    return _mm256_xor_si256(_mm256_and_si256(must23, _mm256_set1_epi8((char)0x80)), special);
}

AVX2 size_t avx2_check(const uint8_t *src, uint8_t *dst, size_t i, size_t count, uint32_t pattern, int masked) {
    const __m256i m0 = _mm256_set1_epi32((int)pattern), m1 = _mm256_set1_epi32((int)rotated(pattern, 1));
    const __m256i m2 = _mm256_set1_epi32((int)rotated(pattern, 2)), m3 = _mm256_set1_epi32((int)rotated(pattern, 3));
    const __m256i incomplete = _mm256_loadu_si256((const __m256i *)(incomplete_64 + 32));
    __m256i open = _mm256_setzero_si256();
    for (; i + 64 <= count; i += 64) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        if (masked) {
            v0 = _mm256_xor_si256(v0, m0);
            v1 = _mm256_xor_si256(v1, m0);
            _mm256_storeu_si256((__m256i *)(dst + i), v0);
            _mm256_storeu_si256((__m256i *)(dst + i + 32), v1);
        }
        __m256i error;
        if (_mm256_movemask_epi8(_mm256_or_si256(v0, v1)) == 0) {
            error = open;
        } else {
            const uint8_t *at = src + i;
            __m256i a1 = _mm256_loadu_si256((const __m256i *)(at - 1));
            __m256i a2 = _mm256_loadu_si256((const __m256i *)(at - 2));
            __m256i a3 = _mm256_loadu_si256((const __m256i *)(at - 3));
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(at + 31));
            __m256i b2 = _mm256_loadu_si256((const __m256i *)(at + 30));
            __m256i b3 = _mm256_loadu_si256((const __m256i *)(at + 29));
            if (masked) {
                a1 = _mm256_xor_si256(a1, m1); b1 = _mm256_xor_si256(b1, m1);
                a2 = _mm256_xor_si256(a2, m2); b2 = _mm256_xor_si256(b2, m2);
                a3 = _mm256_xor_si256(a3, m3); b3 = _mm256_xor_si256(b3, m3);
            }
            error = _mm256_or_si256(avx2_errors(v0, a1, a2, a3), avx2_errors(v1, b1, b2, b3));
        }
        open = _mm256_subs_epu8(v1, incomplete);
        if (!_mm256_testz_si256(error, error)) break;
    }
    return i;
}

__attribute__((target("avx2"))) static size_t avx2_plain(const uint8_t *src, size_t i, size_t count) {
    return avx2_check(src, 0, i, count, 0, 0);
}

__attribute__((target("avx2"))) static size_t avx2_masked(const uint8_t *src, uint8_t *dst, size_t i, size_t count, uint32_t pattern) {
    return avx2_check(src, dst, i, count, pattern, 1);
}

// ---------------------------------------------------------------------------------------------
// AVX-512 (F and BW): one 64-byte vector per block.

#define AVX512 __attribute__((target("avx512f,avx512bw"), always_inline)) static inline

AVX512 __m512i avx512_errors(__m512i v, __m512i p1, __m512i p2, __m512i p3) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i t1h = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)byte_1_high));
    const __m512i t1l = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)byte_1_low));
    const __m512i t2h = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)byte_2_high));
    __m512i b1h = _mm512_shuffle_epi8(t1h, _mm512_and_si512(_mm512_srli_epi16(p1, 4), nibble));
    __m512i b1l = _mm512_shuffle_epi8(t1l, _mm512_and_si512(p1, nibble));
    __m512i b2h = _mm512_shuffle_epi8(t2h, _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble));
    __m512i special = _mm512_and_si512(_mm512_and_si512(b1h, b1l), b2h);
    __m512i must23 = _mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8((char)(0xE0 - 0x80))),
                                     _mm512_subs_epu8(p3, _mm512_set1_epi8((char)(0xF0 - 0x80))));
    return _mm512_xor_si512(_mm512_and_si512(must23, _mm512_set1_epi8((char)0x80)), special);
}

AVX512 size_t avx512_check(const uint8_t *src, uint8_t *dst, size_t i, size_t count, uint32_t pattern, int masked) {
    const __m512i m0 = _mm512_set1_epi32((int)pattern), m1 = _mm512_set1_epi32((int)rotated(pattern, 1));
    const __m512i m2 = _mm512_set1_epi32((int)rotated(pattern, 2)), m3 = _mm512_set1_epi32((int)rotated(pattern, 3));
    const __m512i incomplete = _mm512_loadu_si512((const void *)incomplete_64);
    __m512i open = _mm512_setzero_si512();
    for (; i + 64 <= count; i += 64) {
        __m512i v = _mm512_loadu_si512((const void *)(src + i));
        if (masked) {
            v = _mm512_xor_si512(v, m0);
            _mm512_storeu_si512((void *)(dst + i), v);
        }
        __m512i error;
        if (_mm512_movepi8_mask(v) == 0) {
            error = open;
        } else {
            __m512i p1 = _mm512_loadu_si512((const void *)(src + i - 1));
            __m512i p2 = _mm512_loadu_si512((const void *)(src + i - 2));
            __m512i p3 = _mm512_loadu_si512((const void *)(src + i - 3));
            if (masked) {
                p1 = _mm512_xor_si512(p1, m1);
                p2 = _mm512_xor_si512(p2, m2);
                p3 = _mm512_xor_si512(p3, m3);
            }
            error = avx512_errors(v, p1, p2, p3);
        }
        open = _mm512_subs_epu8(v, incomplete);
        if (_mm512_test_epi8_mask(error, error) != 0) break;
    }
    return i;
}

__attribute__((target("avx512f,avx512bw"))) static size_t avx512_plain(const uint8_t *src, size_t i, size_t count) {
    return avx512_check(src, 0, i, count, 0, 0);
}

__attribute__((target("avx512f,avx512bw"))) static size_t avx512_masked(const uint8_t *src, uint8_t *dst, size_t i, size_t count, uint32_t pattern) {
    return avx512_check(src, dst, i, count, pattern, 1);
}

// ---------------------------------------------------------------------------------------------

int epsilon_utf8_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int level = (c & bit_SSSE3) ? 1 : 0;
    // AVX state must be enabled by the OS (OSXSAVE, then XCR0's SSE and AVX bits).
    if (!(c & bit_OSXSAVE) || level == 0) return level;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return level;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return level;
    if (b & bit_AVX2) level = 2;
    // AVX-512 also needs the opmask and upper ZMM state (XCR0 bits 5 to 7).
    if (level == 2 && (b & bit_AVX512F) && (b & bit_AVX512BW) && (lo & 0xE0) == 0xE0) level = 3;
    return level;
}

size_t epsilon_utf8_check(int level, const uint8_t *source, uint8_t *destination,
                          size_t start, size_t count, uint32_t pattern) {
    if (start < 3) return start;
    switch (level) {
    case 1: return destination ? ssse3_masked(source, destination, start, count, pattern) : ssse3_plain(source, start, count);
    case 2: return destination ? avx2_masked(source, destination, start, count, pattern) : avx2_plain(source, start, count);
    case 3: return destination ? avx512_masked(source, destination, start, count, pattern) : avx512_plain(source, start, count);
    default: return start;
    }
}

#else

int epsilon_utf8_level(void) { return 0; }

size_t epsilon_utf8_check(int level, const uint8_t *source, uint8_t *destination,
                          size_t start, size_t count, uint32_t pattern) {
    (void)level; (void)source; (void)destination; (void)count; (void)pattern;
    return start;
}

#endif
