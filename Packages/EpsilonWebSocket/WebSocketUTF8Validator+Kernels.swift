// The instruction-set paths of the bulk UTF-8 check. The portable path is the Swift in
// WebSocketUTF8Validator+Blocks.swift (SSE2 on x86-64, ~4 instructions per byte on mixed text:
// SSE2 has no byte shuffle). The others run the lookup algorithm (Keiser and Lemire; simdutf)
// in the C target CEpsilonUTF8, whose functions carry their own target attributes: Swift 6.3
// cannot compile one function for a higher ISA than its module, and the package stays at the
// x86-64 baseline. The best path is chosen once, from CPUID, at the first use.
internal import CEpsilonUTF8

extension WebSocketUTF8Validator {
    /// The path that checks whole 64-byte blocks (for tests and benchmarks, which compare them).
    @_spi(EpsilonInternal)
    public enum InstructionSet: Int32, Sendable, CaseIterable, CustomStringConvertible {
        /// Swift vectors at the module's baseline (SSE2 on x86-64).
        case portable = 0
        /// 16-byte shuffles (SSSE3).
        case ssse3 = 1
        /// 32-byte shuffles (AVX2).
        case avx2 = 2
        /// 64-byte shuffles (AVX-512 F and BW).
        case avx512 = 3

        /// The highest path this CPU and OS support.
        public static let available = InstructionSet(rawValue: epsilon_utf8_level()) ?? .portable

        /// The path ``WebSocketUTF8Validator`` uses: the highest one up to AVX2. AVX-512 was
        /// measured no faster on mixed text and slower on ASCII (0.68 against 0.99 of memcpy's
        /// bandwidth, Benchmarks/README.md), so it is there to compare, not the default.
        public static let best: InstructionSet = available == .avx512 ? .avx2 : available

        /// Every path this CPU and OS support, the portable one first.
        public static var supported: [InstructionSet] { allCases.filter { $0.rawValue <= available.rawValue } }

        /// The path's name, as the benchmarks print it.
        public var description: String {
            switch self {
            case .portable: "sse2"
            case .ssse3: "ssse3"
            case .avx2: "avx2"
            case .avx512: "avx512"
            }
        }
    }

    /// Checks the whole 64-byte blocks of `base` from `start` (≥ 3, at a sequence boundary) on
    /// `isa` (not the portable path); returns the offset reached, as `epsilon_utf8_check` does:
    /// the block there, if whole, breaks a rule.
    @inline(__always)
    static func checkBlocks(_ isa: InstructionSet, _ base: UnsafeRawPointer, from start: Int, count: Int) -> Int {
        epsilon_utf8_check(isa.rawValue, base.assumingMemoryBound(to: UInt8.self), nil, start, count, 0)
    }

    /// ``checkBlocks(_:_:from:count:)`` on the unmasked bytes: each block of `source` is unmasked
    /// into `destination` with `pattern` (the 4 key bytes for the byte at `start`, in memory
    /// order) before it is checked.
    @inline(__always)
    static func unmaskAndCheckBlocks(_ isa: InstructionSet, _ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer,
                                     from start: Int, count: Int, pattern: UInt32) -> Int {
        epsilon_utf8_check(isa.rawValue, source.assumingMemoryBound(to: UInt8.self),
                           destination.assumingMemoryBound(to: UInt8.self), start, count, pattern)
    }
}
