// The bulk of UTF-8 validation, 16-byte vectors at the SSE2 baseline (no byte shuffles), after
// the range ("lookback") formulation of Unicode Table 3-7: byte i is checked against the
// three bytes before it, loaded unaligned from i-1, i-2 and i-3, so no state crosses lanes.
// The DFA in WebSocketUTF8Validator.swift stays the reference: it runs at the edges of a piece
// (up to the first sequence boundary, and from the last one on) and over any block the vectors
// reject, so the index it reports is exactly the old one.

extension WebSocketUTF8Validator {
    /// Validates `count` (> 0) bytes at `base` from DFA state `state` (a shift amount, see
    /// ``transitions``); returns the index of the first invalid byte, or nil and the state
    /// after the last byte.
    @usableFromInline
    static func validate(_ base: UnsafeRawPointer, count: Int, state: inout UInt64) -> Int? {
        validate(base, count: count, state: &state, using: InstructionSet.best)
    }

    /// ``validate(_:count:state:)`` with the bulk checked on the path `isa` (which this CPU must
    /// support: see ``InstructionSet/supported``).
    static func validate(_ base: UnsafeRawPointer, count: Int, state: inout UInt64, using isa: InstructionSet) -> Int? {
        transitions.withUnsafeBufferPointer { table -> Int? in
            let table = table.baseAddress.unsafelyUnwrapped
            var s = state
            var i = 0
            // The DFA up to a sequence boundary at least 3 bytes in, so that every byte the
            // vectors check has its 3 predecessors in the piece, and none of them owes a
            // continuation byte from before the piece.
            while i < count && (s != 0 || i < 3) {
                s = (table[Int(base.load(fromByteOffset: i, as: UInt8.self))] &>> s) & 63
                if s == rejected { return i }
                i &+= 1
            }
            if i == count {
                state = s
                return nil
            }
            // Whether the bytes before `i` end on a sequence boundary (owe no continuation).
            var boundary = true
            if isa != .portable && count &- i >= 128 {
                // Whole 64-byte blocks by the shuffle kernel; the rest (< 64 bytes) below.
                let reached = checkBlocks(isa, base, from: i, count: count)
                let atBoundary = reached == i || endsOnBoundary(base, before: reached)
                if reached &+ 64 <= count {
                    return locate(base, count: count, from: reached, boundary: atBoundary, table: table, state: &state)
                }
                // The kernel flags a byte that is never valid (C0, C1, F5...FF) at the byte
                // after it, so the last one it checked may still be one: go on from the start of
                // the sequence open at `reached` (a boundary), as the loops below check each byte.
                i = atBoundary ? reached : lastLead(base, before: reached)
            }
            while i &+ 64 <= count {
                let v0 = base.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let v1 = base.loadUnaligned(fromByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
                let v2 = base.loadUnaligned(fromByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
                let v3 = base.loadUnaligned(fromByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
                let ascii = !anyHighBit((v0 | v1) | (v2 | v3))
                if !(ascii && boundary) {
                    let errors = (errorLanes(base, at: i, v0) | errorLanes(base, at: i &+ 16, v1))
                        | (errorLanes(base, at: i &+ 32, v2) | errorLanes(base, at: i &+ 48, v3))
                    if anyHighBit(errors) { return locate(base, count: count, from: i, boundary: boundary, table: table, state: &state) }
                }
                i &+= 64
                boundary = ascii || endsOnBoundary(base, before: i)
            }
            while i &+ 16 <= count {
                let v = base.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let ascii = !anyHighBit(v)
                if !(ascii && boundary) && anyHighBit(errorLanes(base, at: i, v)) {
                    return locate(base, count: count, from: i, boundary: boundary, table: table, state: &state)
                }
                i &+= 16
                boundary = ascii || endsOnBoundary(base, before: i)
            }
            // The rest by the DFA, from the start of the sequence still open at `i`; at a
            // boundary, a tail that the last 16 bytes (checked before `i`) show to be ASCII
            // needs no DFA (short messages end in one).
            if !boundary {
                i = lastLead(base, before: i)
            } else if i < count && i >= 16 && !anyHighBit(base.loadUnaligned(fromByteOffset: count &- 16, as: SIMD16<UInt8>.self)) {
                state = 0
                return nil
            }
            s = 0
            while i < count {
                s = (table[Int(base.load(fromByteOffset: i, as: UInt8.self))] &>> s) & 63
                if s == rejected { return i }
                i &+= 1
            }
            state = s
            return nil
        }
    }

    /// The 16 bytes `v` at `i` (i ≥ 3) with bit 7 set in each lane that breaks Table 3-7 given
    /// the 3 bytes before it: a continuation byte where none is owed or none where one is, a
    /// byte that never occurs (C0, C1, F5...FF), or a second byte out of range after E0, ED, F0
    /// or F4. Only wrapping adds and bitwise operations: Swift 6.3 compiles SIMD comparisons
    /// lane by lane, these to single SSE2 instructions.
    @inline(__always)
    static func errorLanes(_ base: UnsafeRawPointer, at i: Int, _ v: SIMD16<UInt8>) -> SIMD16<UInt8> {
        let p1 = base.loadUnaligned(fromByteOffset: i &- 1, as: SIMD16<UInt8>.self)
        let p2 = base.loadUnaligned(fromByteOffset: i &- 2, as: SIMD16<UInt8>.self)
        let p3 = base.loadUnaligned(fromByteOffset: i &- 3, as: SIMD16<UInt8>.self)
        // Bit 7 of `x & ~(x &- k)` is x ≥ k for k ≥ 0x80; `x &+ x` is x shifted left by one.
        let continuation = v & ~(v &+ v)                            // 10xxxxxx
        let owed = (p1 & (p1 &+ p1)) | (p2 & ~(p2 &- 0xE0)) | (p3 & ~(p3 &- 0xF0))
        let never = (v & ~(v &- 0xF5)) | lanesEqual(v & 0xFE, 0xC0)
        // Bit 7 of `v &- k` is v < k for a continuation byte v (80...BF) and k in 81...C0.
        let belowA0 = v &- 0xA0, below90 = v &- 0x90
        let range = (lanesEqual(p1, 0xE0) & belowA0) | (lanesEqual(p1, 0xF0) & below90)
            | (lanesEqual(p1, 0xED) & ~belowA0) | (lanesEqual(p1, 0xF4) & ~below90)
        return (continuation ^ owed) | never | range
    }

    /// Bit 7 set in the lanes of `x` equal to `k`.
    @inline(__always)
    static func lanesEqual(_ x: SIMD16<UInt8>, _ k: UInt8) -> SIMD16<UInt8> {
        let z = x ^ SIMD16(repeating: k)
        return (z &- 1) & ~z
    }

    /// Whether bit 7 is set in any lane of `v`.
    @inline(__always)
    static func anyHighBit(_ v: SIMD16<UInt8>) -> Bool {
        let halves = unsafeBitCast(v, to: SIMD2<UInt64>.self)
        return (halves[0] | halves[1]) & 0x8080_8080_8080_8080 != 0
    }

    /// Whether the bytes before `i` (i ≥ 3, all checked) owe no continuation byte at `i`.
    @inline(__always)
    static func endsOnBoundary(_ base: UnsafeRawPointer, before i: Int) -> Bool {
        base.load(fromByteOffset: i &- 1, as: UInt8.self) < 0xC0
            && base.load(fromByteOffset: i &- 2, as: UInt8.self) < 0xE0
            && base.load(fromByteOffset: i &- 3, as: UInt8.self) < 0xF0
    }

    /// The last lead byte (C2...F4) among the 3 before `i`, where the sequence that is still
    /// open at `i` starts (the bytes before `i` are checked and do not end on a boundary).
    @inline(__always)
    static func lastLead(_ base: UnsafeRawPointer, before i: Int) -> Int {
        var k = i &- 1
        while k > i &- 3 && base.load(fromByteOffset: k, as: UInt8.self) < 0xC0 { k &-= 1 }
        return k
    }

    /// The DFA from the start of the sequence open at block `i` (which the vectors rejected)
    /// to the first invalid byte; the blocks before `i` passed.
    @inline(never)
    static func locate(_ base: UnsafeRawPointer, count: Int, from i: Int, boundary: Bool,
                       table: UnsafePointer<UInt64>, state: inout UInt64) -> Int? {
        var j = boundary ? i : lastLead(base, before: i)
        var s: UInt64 = 0
        while j < count {
            s = (table[Int(base.load(fromByteOffset: j, as: UInt8.self))] &>> s) & 63
            if s == rejected { return j }
            j &+= 1
        }
        // Not reached: the vectors reject only what the DFA rejects. Be exact anyway.
        state = s
        return nil
    }
}
