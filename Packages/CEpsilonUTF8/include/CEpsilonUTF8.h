// UTF-8 validation kernels with byte shuffles (the "lookup" algorithm of Keiser and Lemire,
// "Validating UTF-8 In Less Than One Instruction Per Byte", 2021), for EpsilonWebSocket.
// Each instruction-set path is compiled with its own target attribute and chosen at run time
// by EpsilonWebSocket (epsilon_utf8_level); the rest of the package stays at the x86-64 (SSE2)
// baseline. No libc, no allocation, no state beyond the arguments.
#ifndef C_EPSILON_UTF8_H
#define C_EPSILON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/// The best path this CPU and OS support: 0 none (use the portable code), 1 SSSE3,
/// 2 AVX2, 3 AVX-512 (F and BW).
int epsilon_utf8_level(void);

/// Checks the bytes of `source` from `start` in blocks of 64 against Unicode Table 3-7, each byte
/// against the 3 before it (so `start` >= 3, and the bytes before `start` must end on a
/// sequence boundary). When `destination` is not NULL, each block is first unmasked with the
/// 4-byte `pattern` (the key bytes in memory order for the byte at `start`; `start` and the
/// blocks then step by multiples of 4) and stored there, and the unmasked bytes are checked;
/// the bytes before `start` in `source` are unmasked the same way to check the first block.
///
/// Returns the offset `i` reached: the bytes in [start, i) break no rule given their
/// predecessors (a sequence may still be open at `i`); if `i + 64 <= count`, the block at `i`
/// breaks one (and was stored, when unmasking). `level` is 1, 2 or 3 (see epsilon_utf8_level);
/// any other value, or a path this build lacks, returns `start`.
size_t epsilon_utf8_check(int level, const uint8_t *source, uint8_t *destination,
                          size_t start, size_t count, uint32_t pattern);

#endif
