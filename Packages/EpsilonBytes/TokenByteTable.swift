// RFC 9110 §5.6.2 tchar, for hot loops in other modules.
//
// `ASCII.isTokenByte` reads `asciiTokenTable`, a global `let`: inside EpsilonBytes it is a
// constant, but another module reaches a global through its lazy-initialization addressor,
// one call per byte (measured in EpsilonHTTP1: +50 % on a 703-byte request). Here the table
// is a literal inside an always-inlined getter, so a caller in any module folds it to the
// address of a constant string: one load per byte, as a module-local table.

/// RFC 9110 §5.6.2 tchar as a 256-entry table, for per-byte scanning loops across modules.
package enum TokenByteTable {
    /// The table: `1` for a token byte, `0` otherwise, one entry per byte value.
    @inlinable @inline(__always)
    package static var bytes: StaticString {
        """
        0000000000000000000000000000000001011111001101101111111111000000\
        0111111111111111111111111110001111111111111111111111111111101010\
        0000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000
        """
    }

    /// Whether `byte` is an RFC 9110 §5.6.2 tchar (the same answer as `ASCII.isTokenByte`).
    @inlinable @inline(__always)
    package static func contains(_ byte: UInt8) -> Bool { bytes.utf8Start[Int(byte)] == 0x31 }
}
