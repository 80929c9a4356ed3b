// ASCII byte classes the machines share (RFC 9110 §5.6.2 tokens, whitespace, case folding).
// Not a product and not API: every declaration is SPI (`@_spi(EpsilonInternal) public`), seen
// only by files that `@_spi(EpsilonInternal) import EpsilonBytes`. Why not `package`: Swift 6.3
// does not inline `@inlinable package` functions into other modules (checked with nm on a
// release build of EpsilonHTTP1: a call per byte to `ASCII.isTokenByte`, pico-703 177 -> 314 ns),
// while SPI-public ones are inlined like any public `@inlinable` function.

/// RFC 9110 §5.6.2 tchar as a 256-entry table, `1` for a token byte: one load per byte.
/// A static string costs no initialisation and no bounds check.
@usableFromInline let asciiTokenTable: StaticString = """
0000000000000000000000000000000001011111001101101111111111000000\
0111111111111111111111111110001111111111111111111111111111101010\
0000000000000000000000000000000000000000000000000000000000000000\
0000000000000000000000000000000000000000000000000000000000000000
"""

/// ASCII byte tests and case folding shared by the protocol machines.
@_spi(EpsilonInternal) public enum ASCII {
    /// Whether `byte` is an RFC 9110 §5.6.2 tchar.
    @inlinable @inline(__always)
    public static func isTokenByte(_ byte: UInt8) -> Bool { asciiTokenTable.utf8Start[Int(byte)] == 0x31 }

    /// Whether every byte of `bytes` is a tchar and there is at least one (RFC 9110 §5.6.2 token).
    @inlinable
    public static func isToken(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isTokenByte)
    }

    /// Whether `byte` is SP or HTAB (RFC 9110 §5.6.3 OWS).
    @inlinable @inline(__always)
    public static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// `byte` with an ASCII capital letter mapped to lower case; other bytes unchanged.
    @inlinable @inline(__always)
    public static func lowercased(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Whether two byte sequences are equal ignoring ASCII case (field names, tokens).
    @inlinable
    public static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// Whether two strings are equal ignoring ASCII case (no Unicode case folding, no allocation).
    @inlinable
    public static func equalsIgnoringCase(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        equalsIgnoringCase(a.utf8, b.utf8)
    }
}
