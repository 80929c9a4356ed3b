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
// The kernel (utf8_kernel.h) once per instruction set: the same algorithm on 16-, 32- and
// 64-byte vectors (four, two or one per 64-byte block).

// SSSE3: 16-byte vectors.
#define KERNEL_PREFIX ssse3
#define KERNEL_TARGET "ssse3"
#define KERNEL_WIDTH 16
#define KERNEL_PRELOAD 0
#define V __m128i
#define V_LOAD(p) _mm_loadu_si128((const __m128i *)(p))
#define V_STORE(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define V_ZERO _mm_setzero_si128()
#define V_SET8(x) _mm_set1_epi8(x)
#define V_SET32(x) _mm_set1_epi32(x)
#define V_AND _mm_and_si128
#define V_OR _mm_or_si128
#define V_XOR _mm_xor_si128
#define V_SUBS_U8 _mm_subs_epu8
#define V_SRLI16_4(v) _mm_srli_epi16((v), 4)
#define V_SHUFFLE _mm_shuffle_epi8
#define V_TABLE(t) _mm_loadu_si128((const __m128i *)(t))
#define V_ANY_HIGH(v) (_mm_movemask_epi8(v) != 0)
#define V_NONZERO(v) (_mm_movemask_epi8(_mm_cmpeq_epi8((v), _mm_setzero_si128())) != 0xFFFF)
#include "utf8_kernel.h"

// AVX2: 32-byte vectors (byte shuffles stay within 16-byte lanes, so each table is repeated).
#define KERNEL_PREFIX avx2
#define KERNEL_TARGET "avx2"
#define KERNEL_WIDTH 32
#define KERNEL_PRELOAD 1
#define V __m256i
#define V_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define V_STORE(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define V_ZERO _mm256_setzero_si256()
#define V_SET8(x) _mm256_set1_epi8(x)
#define V_SET32(x) _mm256_set1_epi32(x)
#define V_AND _mm256_and_si256
#define V_OR _mm256_or_si256
#define V_XOR _mm256_xor_si256
#define V_SUBS_U8 _mm256_subs_epu8
#define V_SRLI16_4(v) _mm256_srli_epi16((v), 4)
#define V_SHUFFLE _mm256_shuffle_epi8
#define V_TABLE(t) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t)))
#define V_ANY_HIGH(v) (_mm256_movemask_epi8(v) != 0)
#define V_NONZERO(v) (!_mm256_testz_si256((v), (v)))
#include "utf8_kernel.h"

// AVX-512 (F and BW): one 64-byte vector per block.
#define KERNEL_PREFIX avx512
#define KERNEL_TARGET "avx512f,avx512bw"
#define KERNEL_WIDTH 64
#define KERNEL_PRELOAD 1
#define V __m512i
#define V_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define V_STORE(p, v) _mm512_storeu_si512((void *)(p), (v))
#define V_ZERO _mm512_setzero_si512()
#define V_SET8(x) _mm512_set1_epi8(x)
#define V_SET32(x) _mm512_set1_epi32(x)
#define V_AND _mm512_and_si512
#define V_OR _mm512_or_si512
#define V_XOR _mm512_xor_si512
#define V_SUBS_U8 _mm512_subs_epu8
#define V_SRLI16_4(v) _mm512_srli_epi16((v), 4)
#define V_SHUFFLE _mm512_shuffle_epi8
#define V_TABLE(t) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(t)))
#define V_ANY_HIGH(v) (_mm512_movepi8_mask(v) != 0)
#define V_NONZERO(v) (_mm512_test_epi8_mask((v), (v)) != 0)
#include "utf8_kernel.h"

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
