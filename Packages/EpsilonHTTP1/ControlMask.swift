#if arch(x86_64)
private import _Builtin_intrinsics.intel
#endif

// The control bytes of 64 bytes at once, as a bit mask: the field scan finds each line's end
// with a shift and a count of trailing zeros, so a line's end no longer waits on loads and
// compares that start at the previous line's end (the dependency chain of a per-line scan).

extension UnsafeRawBufferPointer {
    /// Bit k set where byte `start + k` (k in 0..<64) is a control byte (below 0x20, HTAB, CR
    /// and LF included) or DEL; the same stops as ``firstControlByte(from:to:)``.
    /// Needs `start + 64 <= count`. SSE2 on x86-64, words elsewhere.
    @inline(__always)
    func controlMask64(from start: Int) -> UInt64 {
        let p = baseAddress.unsafelyUnwrapped + start
        #if arch(x86_64)
        let limit = _mm_set1_epi8(0x1F), del = _mm_set1_epi8(0x7F)
        @inline(__always) func part(_ k: Int) -> UInt64 {
            let v = _mm_loadu_si128((p + k).assumingMemoryBound(to: __m128i.self))
            // v <= 0x1F (unsigned) exactly when min(v, 0x1F) == v.
            let stop = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, limit), v), _mm_cmpeq_epi8(v, del))
            return UInt64(UInt16(truncatingIfNeeded: _mm_movemask_epi8(stop)))
        }
        return part(0) | part(16) &<< 16 | part(32) &<< 32 | part(48) &<< 48
        #else
        var mask: UInt64 = 0
        for k in stride(from: 0, to: 64, by: 8) {
            let x = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            // Bit 7 of each stopping byte, gathered into the top byte by one multiply.
            let bits = (Word.controlOrDEL(x) &>> 7) &* 0x0102_0408_1020_4080 &>> 56
            mask |= bits &<< UInt64(k)
        }
        return mask
        #endif
    }

    /// Bit k set where byte `start + k` (k in 0..<64) is not visible ASCII (0x21...0x7E); the
    /// same stops as ``firstNonVisibleASCII(from:to:)``. Needs `start + 64 <= count`.
    @inline(__always)
    func notVisibleMask64(from start: Int) -> UInt64 {
        let p = baseAddress.unsafelyUnwrapped + start
        #if arch(x86_64)
        let space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F)
        @inline(__always) func part(_ k: Int) -> UInt64 {
            let v = _mm_loadu_si128((p + k).assumingMemoryBound(to: __m128i.self))
            // Signed: above 0x20 is 0x21...0x7F (bytes from 0x80 are negative); DEL is not visible.
            let visible = _mm_andnot_si128(_mm_cmpeq_epi8(v, del), _mm_cmpgt_epi8(v, space))
            return UInt64(~UInt16(truncatingIfNeeded: _mm_movemask_epi8(visible)))
        }
        return part(0) | part(16) &<< 16 | part(32) &<< 32 | part(48) &<< 48
        #else
        var mask: UInt64 = 0
        for k in stride(from: 0, to: 64, by: 8) {
            let x = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            let bits = (Word.notVisible(x) &>> 7) &* 0x0102_0408_1020_4080 &>> 56
            mask |= bits &<< UInt64(k)
        }
        return mask
        #endif
    }
}
