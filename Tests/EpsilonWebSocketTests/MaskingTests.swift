import EpsilonWebSocket
import Testing

@Suite struct MaskingTests {
    static func naive(_ bytes: [UInt8], key: UInt32, phase: Int) -> [UInt8] {
        let k = [UInt8(key >> 24), UInt8(key >> 16 & 0xFF), UInt8(key >> 8 & 0xFF), UInt8(key & 0xFF)]
        return bytes.enumerated().map { $0.element ^ k[($0.offset + phase) & 3] }
    }

    @Test func unmasksRFCExample() {
        var bytes = hex("7f9f4d5158")
        bytes.withUnsafeMutableBytes { _ = WebSocketMasking.apply(key: 0x37FA_213D, to: $0) }
        #expect(bytes == Array("Hello".utf8))
    }

    @Test func inPlaceMatchesBytewiseForEveryAlignmentLengthAndPhase() {
        let key: UInt32 = 0xA1B2_C3D4
        let source = (0..<(300 + 16)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for alignment in 0..<16 {
            for length in 0...300 {
                for phase in 0..<4 {
                    var buffer = source
                    let slice = Array(source[alignment..<alignment + length])
                    let next = buffer.withUnsafeMutableBytes {
                        WebSocketMasking.apply(key: key, phase: phase, to: UnsafeMutableRawBufferPointer(rebasing: $0[alignment..<alignment + length]))
                    }
                    #expect(Array(buffer[alignment..<alignment + length]) == Self.naive(slice, key: key, phase: phase))
                    // Bytes around the range are untouched.
                    #expect(Array(buffer[..<alignment]) == Array(source[..<alignment]))
                    #expect(Array(buffer[(alignment + length)...]) == Array(source[(alignment + length)...]))
                    #expect(next == (phase + length) & 3)
                }
            }
        }
    }

    @Test func copyingMatchesBytewiseForEveryAlignmentAndLength() {
        let key: UInt32 = 0x0102_0380
        let source = (0..<(300 + 16)).map { UInt8(truncatingIfNeeded: $0 &* 91 &+ 7) }
        for sourceAlignment in 0..<8 {
            for destinationAlignment in [0, 1, 3, 7, 8, 13] {
                for length in 0...300 {
                    let phase = length % 4
                    var destination = [UInt8](repeating: 0xEE, count: 300 + 16)
                    source.withUnsafeBytes { src in
                        destination.withUnsafeMutableBytes { dst in
                            _ = WebSocketMasking.apply(
                                key: key, phase: phase,
                                from: UnsafeRawBufferPointer(rebasing: src[sourceAlignment..<sourceAlignment + length]),
                                to: UnsafeMutableRawBufferPointer(rebasing: dst[destinationAlignment...]))
                        }
                    }
                    let expected = Self.naive(Array(source[sourceAlignment..<sourceAlignment + length]), key: key, phase: phase)
                    #expect(Array(destination[destinationAlignment..<destinationAlignment + length]) == expected)
                    #expect(destination[destinationAlignment + length] == 0xEE)
                }
            }
        }
    }

    @Test func piecewiseUnmaskingEqualsWhole() {
        let key: UInt32 = 0xDEAD_BEEF
        let data = (0..<200).map { UInt8(truncatingIfNeeded: $0 * 5) }
        for cut in 0...200 {
            var buffer = data
            buffer.withUnsafeMutableBytes { all in
                let phase = WebSocketMasking.apply(key: key, phase: 0, to: UnsafeMutableRawBufferPointer(rebasing: all[..<cut]))
                _ = WebSocketMasking.apply(key: key, phase: phase, to: UnsafeMutableRawBufferPointer(rebasing: all[cut...]))
            }
            #expect(buffer == Self.naive(data, key: key, phase: 0))
        }
    }
}
