/// XOR masking of payload bytes (RFC 6455 §5.3), 16 bytes per step.
///
/// WebSocketMasking and unmasking are the same operation. `phase` is the index into the 4-byte key of
/// the first byte (the payload offset modulo 4), so a payload can be processed in pieces.
public enum WebSocketMasking {
    /// Masks or unmasks `buffer` in place with `key` starting at key index `phase`.
    ///
    /// - Returns: the phase for the byte that follows `buffer`.
    @inlinable
    @discardableResult
    public static func apply(key: UInt32, phase: Int = 0, to buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress else { return phase & 3 }
        xor(source: UnsafeRawPointer(base), destination: base, count: buffer.count, key: key, phase: phase)
        return (phase &+ buffer.count) & 3
    }

    /// Copies `source` into `destination` (at least as long) while masking or unmasking it.
    ///
    /// - Returns: the phase for the byte that follows `source`.
    @inlinable
    @discardableResult
    public static func apply(key: UInt32, phase: Int = 0, from source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer) -> Int {
        precondition(destination.count >= source.count, "destination shorter than source")
        guard let src = source.baseAddress, let dst = destination.baseAddress else { return phase & 3 }
        xor(source: src, destination: dst, count: source.count, key: key, phase: phase)
        return (phase &+ source.count) & 3
    }

    /// The key byte at `index` (0...3) of a big-endian packed key.
    @inlinable
    static func keyByte(_ key: UInt32, _ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: key >> (24 - 8 * UInt32(index & 3)))
    }

    // The unsafe core: unaligned 16- and 8-byte loads and stores over `count` bytes. Safe because
    // both callers derive `source` and `destination` from buffers at least `count` bytes long;
    // source and destination are either identical or the caller's distinct buffers.
    @inlinable
    static func xor(source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, count: Int, key: UInt32, phase: Int) {
        var pattern8: UInt64 = 0
        withUnsafeMutableBytes(of: &pattern8) { bytes in
            for j in 0..<8 { bytes[j] = keyByte(key, phase &+ j) }
        }
        var i = 0
        if count >= 16 {
            // Same size, plain bits: the two 8-byte patterns laid side by side.
            let pattern16 = unsafeBitCast(SIMD2<UInt64>(pattern8, pattern8), to: SIMD16<UInt8>.self)
            // Four vectors per step: fewer loop instructions per byte, more loads in flight.
            while i &+ 64 <= count {
                let v0 = source.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let v1 = source.loadUnaligned(fromByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
                let v2 = source.loadUnaligned(fromByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
                let v3 = source.loadUnaligned(fromByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
                destination.storeBytes(of: v0 ^ pattern16, toByteOffset: i, as: SIMD16<UInt8>.self)
                destination.storeBytes(of: v1 ^ pattern16, toByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
                destination.storeBytes(of: v2 ^ pattern16, toByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
                destination.storeBytes(of: v3 ^ pattern16, toByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
                i &+= 64
            }
            while i &+ 16 <= count {
                let v = source.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                destination.storeBytes(of: v ^ pattern16, toByteOffset: i, as: SIMD16<UInt8>.self)
                i &+= 16
            }
        }
        if i &+ 8 <= count {
            let v = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            destination.storeBytes(of: v ^ pattern8, toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        // i is a multiple of 4 here, so the tail starts at key index `phase`.
        while i < count {
            let b = source.load(fromByteOffset: i, as: UInt8.self)
            destination.storeBytes(of: b ^ keyByte(key, phase &+ i), toByteOffset: i, as: UInt8.self)
            i &+= 1
        }
    }
}
