// Unmasking and validating a text payload in one pass: while the text is ASCII at a sequence
// boundary, each 64-byte block is unmasked and checked in registers (four ORs and a test on
// top of the XORs and stores); the first other block and the rest of its 4 KiB piece are
// unmasked, then validated from the first-level cache by the vector validator. Two separate
// passes over 64 KiB of ASCII took twice the time of unmasking alone.

extension WebSocketUTF8Validator {
    /// Unmasks `source` into `destination` (at least as long) with `key` from key index `phase`,
    /// exactly as ``WebSocketMasking/apply(key:phase:from:to:)`` does, and validates the
    /// unmasked bytes as ``validate(_:)`` does, in the same pass.
    ///
    /// - Returns: the phase for the byte after the last one unmasked, and nil if the text so far
    ///   can still be valid UTF-8, otherwise the index of the first byte that cannot be. On
    ///   failure the unmasking stops within 4 KiB after that byte.
    @inlinable
    public mutating func unmaskAndValidate(key: UInt32, phase: Int = 0, from source: UnsafeRawBufferPointer,
                                           to destination: UnsafeMutableRawBufferPointer) -> (phase: Int, invalidAt: Int?) {
        precondition(destination.count >= source.count, "destination shorter than source")
        guard let src = source.baseAddress, let dst = destination.baseAddress, source.count > 0 else { return (phase & 3, nil) }
        var state = UInt64(expect.rawValue) &* 6
        let (unmasked, failure) = Self.unmaskAndValidate(src, dst, count: source.count, key: key, phase: phase & 3, state: &state)
        if failure != nil {
            expect = .start
        } else {
            expect = Expect(rawValue: UInt8(truncatingIfNeeded: state / 6)) ?? .start
        }
        return ((phase &+ unmasked) & 3, failure)
    }

    /// Unmasks and validates as ``unmaskAndValidate(key:phase:from:to:)`` does, with the bulk on
    /// the path `isa` (which this CPU must support: see ``InstructionSet/supported``).
    @_spi(EpsilonInternal)
    public mutating func unmaskAndValidate(key: UInt32, phase: Int = 0, from source: UnsafeRawBufferPointer,
                                           to destination: UnsafeMutableRawBufferPointer, using isa: InstructionSet) -> (phase: Int, invalidAt: Int?) {
        precondition(destination.count >= source.count, "destination shorter than source")
        guard let src = source.baseAddress, let dst = destination.baseAddress, source.count > 0 else { return (phase & 3, nil) }
        var state = UInt64(expect.rawValue) &* 6
        let (unmasked, failure) = Self.unmaskAndValidate(src, dst, count: source.count, key: key, phase: phase & 3, state: &state, using: isa)
        expect = failure != nil ? .start : Expect(rawValue: UInt8(truncatingIfNeeded: state / 6)) ?? .start
        return ((phase &+ unmasked) & 3, failure)
    }

    /// Validates as ``validate(_:)`` does, with the bulk on the path `isa` (which this CPU must
    /// support: see ``InstructionSet/supported``).
    @_spi(EpsilonInternal)
    public mutating func validate(_ bytes: UnsafeRawBufferPointer, using isa: InstructionSet) -> Int? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        var state = UInt64(expect.rawValue) &* 6
        if let failure = Self.validate(base, count: bytes.count, state: &state, using: isa) {
            expect = .start
            return failure
        }
        expect = Expect(rawValue: UInt8(truncatingIfNeeded: state / 6)) ?? .start
        return nil
    }

    /// The worker: returns how many bytes it unmasked and the index of the first invalid one.
    @usableFromInline
    static func unmaskAndValidate(_ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer, count: Int,
                                  key: UInt32, phase: Int, state: inout UInt64) -> (Int, Int?) {
        unmaskAndValidate(source, destination, count: count, key: key, phase: phase, state: &state, using: InstructionSet.best)
    }

    /// The worker on the path `isa`. A shuffle kernel unmasks and checks whole 64-byte blocks in
    /// one pass from the first sequence boundary at least 3 bytes in (and, on long input, past
    /// the destination's first 64-byte boundary); the bytes before it go through the portable
    /// worker and the DFA, and the rest (a tail under 64 bytes, or from the sequence
    /// boundary before a block the kernel rejected, to find the exact byte) through the
    /// portable worker.
    static func unmaskAndValidate(_ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer, count: Int,
                                  key: UInt32, phase: Int, state: inout UInt64, using isa: InstructionSet) -> (Int, Int?) {
        if isa == .portable { return unmaskAndValidatePortable(source, destination, count: count, key: key, phase: phase, state: &state) }
        // Short pieces (chat messages, JSON) cost least unmasked, then validated from the
        // first-level cache: no kernel set-up or call.
        if count < 256 {
            WebSocketMasking.xor(source: source, destination: destination, count: count, key: key, phase: phase)
            return (count, validate(UnsafeRawPointer(destination), count: count, state: &state, using: .portable))
        }
        var i = 0
        var s = state
        // The kernel's blocks start where the destination is 64-byte aligned (stores that
        // straddle cache lines cost more than the check on ASCII text): the bytes before go
        // through the portable worker.
        let misaligned = (64 &- Int(bitPattern: destination) & 63) & 63
        let lead = misaligned < 3 ? misaligned &+ 64 : misaligned
        if count &- lead >= 64 {
            let (unmasked, failure) = unmaskAndValidatePortable(source, destination, count: lead, key: key, phase: phase, state: &s)
            if failure != nil { return (unmasked, failure) }
            i = lead
        }
        let prologue: Int? = transitions.withUnsafeBufferPointer { table -> Int? in
            let table = table.baseAddress.unsafelyUnwrapped
            while i < count && (s != 0 || i < 3) {
                let byte = source.load(fromByteOffset: i, as: UInt8.self) ^ WebSocketMasking.keyByte(key, phase &+ i)
                destination.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
                s = (table[Int(byte)] &>> s) & 63
                if s == rejected { return i }
                i &+= 1
            }
            return nil
        }
        if let bad = prologue { return (i &+ 1, bad) }
        if i == count {
            state = s
            return (count, nil)
        }
        var pattern: UInt32 = 0
        for k in 0..<4 { pattern |= UInt32(WebSocketMasking.keyByte(key, phase &+ i &+ k)) << UInt32(8 &* k) }
        let reached = unmaskAndCheckBlocks(isa, source, destination, from: i, count: count, pattern: pattern)
        let from = reached == i || endsOnBoundary(UnsafeRawPointer(destination), before: reached)
            ? reached : lastLead(UnsafeRawPointer(destination), before: reached)
        var rest: UInt64 = 0
        let (unmasked, failure) = unmaskAndValidatePortable(source + from, destination + from, count: count &- from,
                                                            key: key, phase: phase &+ from, state: &rest)
        state = rest
        return (from &+ unmasked, failure.map { from &+ $0 })
    }

    /// The portable worker (Swift vectors at the module's baseline).
    static func unmaskAndValidatePortable(_ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer, count: Int,
                                          key: UInt32, phase: Int, state: inout UInt64) -> (Int, Int?) {
        var pattern8: UInt64 = 0
        withUnsafeMutableBytes(of: &pattern8) { bytes in
            for j in 0..<8 { bytes[j] = WebSocketMasking.keyByte(key, phase &+ j) }
        }
        // Blocks start at multiples of 64 (of 4), so every one starts at key index `phase`.
        let pattern = unsafeBitCast(SIMD2<UInt64>(pattern8, pattern8), to: SIMD16<UInt8>.self)
        var i = 0
        while i < count {
            if state == 0 {
                while i &+ 64 <= count {
                    let v0 = source.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self) ^ pattern
                    let v1 = source.loadUnaligned(fromByteOffset: i &+ 16, as: SIMD16<UInt8>.self) ^ pattern
                    let v2 = source.loadUnaligned(fromByteOffset: i &+ 32, as: SIMD16<UInt8>.self) ^ pattern
                    let v3 = source.loadUnaligned(fromByteOffset: i &+ 48, as: SIMD16<UInt8>.self) ^ pattern
                    destination.storeBytes(of: v0, toByteOffset: i, as: SIMD16<UInt8>.self)
                    destination.storeBytes(of: v1, toByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
                    destination.storeBytes(of: v2, toByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
                    destination.storeBytes(of: v3, toByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
                    if anyHighBit((v0 | v1) | (v2 | v3)) { break }
                    i &+= 64
                }
            }
            guard i < count else { break }
            // From here (the block just stored again: same bytes) to the end of the piece.
            let end = Swift.min(i &+ 4096, count)
            WebSocketMasking.xor(source: source + i, destination: destination + i, count: end &- i, key: key, phase: phase &+ i)
            if let bad = validate(UnsafeRawPointer(destination + i), count: end &- i, state: &state, using: .portable) { return (end, i &+ bad) }
            i = end
        }
        return (count, nil)
    }
}
