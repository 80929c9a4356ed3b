@testable import EpsilonHTTP1
import Testing

/// The word-at-a-time scanners agree with a plain byte loop at every start, end and byte value.
@Suite struct ByteScanningTests {
    static let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    static func reference(_ bytes: [UInt8], _ start: Int, _ end: Int, _ stops: (UInt8) -> Bool) -> Int {
        var i = start
        while i < end, !stops(bytes[i]) { i += 1 }
        return i
    }

    @Test(arguments: [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x3A, 0x7E, 0x7F, 0x80, 0xFF] as [UInt8])
    func scannersMatchAByteLoop(_ planted: UInt8) {
        var generator = SystemRandomNumberGenerator()
        // Filler bytes that stop no scanner, then one planted byte, then random bytes after it:
        // a match after the first must never hide or move the first.
        for length in 0...40 {
            for position in 0...length {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0x61...0x7A, using: &generator) }
                if position < length { bytes[position] = planted }
                for k in (position + 1)..<max(position + 1, length) { bytes[k] = UInt8.random(in: 0...255, using: &generator) }
                bytes.withUnsafeBytes { b in
                    for start in 0...min(length, 3) {
                        #expect(b.firstControlByte(from: start, to: length)
                                == Self.reference(bytes, start, length) { $0 < 0x20 || $0 == 0x7F })
                        #expect(b.firstNonVisibleASCII(from: start, to: length)
                                == Self.reference(bytes, start, length) { $0 <= 0x20 || $0 >= 0x7F })
                        #expect((b.firstLineBreak(from: start, to: length) ?? length)
                                == Self.reference(bytes, start, length) { $0 == 0x0D || $0 == 0x0A })
                        #expect(b.firstNonToken(from: start, to: length)
                                == Self.reference(bytes, start, length) { !Self.tchar.contains($0) })
                    }
                }
            }
        }
    }

    /// The token scan, unrolled by four: every byte value at every position of the first 17
    /// bytes, among fillers from the whole tchar set, stops it where a byte loop stops.
    @Test func wordTokenScanMatchesAByteLoopForEveryByte() {
        var generator = SystemRandomNumberGenerator()
        let fillers = Array(Self.tchar)
        for byte in 0...255 {
            for position in 0..<17 {
                var bytes = (0..<24).map { _ in fillers.randomElement(using: &generator)! }
                bytes[position] = UInt8(byte)
                bytes.withUnsafeBytes { b in
                    for start in 0...2 {
                        for end in [position, position + 1, 16, 24] where end >= start {
                            #expect(b.firstNonToken(from: start, to: end)
                                    == Self.reference(bytes, start, end) { !Self.tchar.contains($0) },
                                    "byte \(byte) at \(position), from \(start) to \(end)")
                        }
                    }
                }
            }
        }
    }

    @Test func tokenScanStopsExactlyAtNonTchars() {
        // The table now comes from EpsilonBytes; this checks the parser sees RFC 9110's set.
        for byte in 0...255 {
            let b = UInt8(byte)
            let stops = [b].withUnsafeBytes { $0.firstNonToken(from: 0, to: 1) == 0 }
            #expect(stops == !Self.tchar.contains(b), "byte \(byte)")
        }
    }
}
