import EpsilonWebSocket
import Testing

/// RFC 6455 §5.2 framing rules, checked for both receiving roles.
@Suite struct RFC6455_5_2_Framing {
    static let roles: [WebSocketRole] = [.client, .server]

    @Test(arguments: roles)
    func decodesRFCExampleFramesByteByByte(_ role: WebSocketRole) {
        // RFC 6455 §5.7: a server receives the masked "Hello", a client the unmasked one.
        let bytes = role == .server ? hex("818537fa213d7f9f4d5158") : hex("810548656c6c6f")
        for chunk in [1, 2, 3, 100] {
            let result = decodeFrames(bytes, as: role, chunk: chunk)
            #expect(result.error == nil)
            #expect(result.frames.count == 1)
            #expect(result.frames.first?.1 == Array("Hello".utf8))
            #expect(result.frames.first?.0.opcode == .text)
            #expect(result.frames.first?.0.fin == true)
        }
    }

    @Test(arguments: roles, [WebSocketReservedBits.rsv1, .rsv2, .rsv3])
    func rejectsReservedBitsWithoutAnExtension(_ role: WebSocketRole, _ bits: WebSocketReservedBits) {
        let bytes = frame(.text, Array("x".utf8), reserved: bits, mask: key(for: peer(of: role)))
        #expect(decodeFrames(bytes, as: role).error == WebSocketError(.reservedBitsSet, offset: 0))
        #expect(receive(bytes, as: role).error?.rule == .reservedBitsSet)
    }

    @Test(arguments: roles)
    func acceptsRSV1OnlyWhenAllowed(_ role: WebSocketRole) {
        var configuration = WebSocketFrameDecoder.Configuration()
        configuration.allowedReservedBits = .rsv1
        let ok = frame(.text, [1], reserved: .rsv1, mask: key(for: peer(of: role)))
        #expect(decodeFrames(ok, as: role, configuration: configuration).error == nil)
        let bad = frame(.text, [1], reserved: .rsv2, mask: key(for: peer(of: role)))
        #expect(decodeFrames(bad, as: role, configuration: configuration).error?.rule == .reservedBitsSet)
    }

    @Test(arguments: roles, [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func rejectsReservedOpcodes(_ role: WebSocketRole, _ opcode: UInt8) {
        let bytes = frame(WebSocketOpcode(rawValue: opcode), [], mask: key(for: peer(of: role)))
        #expect(decodeFrames(bytes, as: role).error?.rule == .reservedOpcode)
    }

    @Test(arguments: roles, [WebSocketOpcode.ping, .pong, .close])
    func rejectsControlFramesOver125Bytes(_ role: WebSocketRole, _ opcode: WebSocketOpcode) {
        let ok = frame(opcode, opcode == .close ? [0x03, 0xE8] + [UInt8](repeating: 0x61, count: 123) : [UInt8](repeating: 0x61, count: 125), mask: key(for: peer(of: role)))
        #expect(decodeFrames(ok, as: role).error == nil)
        let bad = frame(opcode, [UInt8](repeating: 0x61, count: 126), mask: key(for: peer(of: role)))
        #expect(decodeFrames(bad, as: role).error == WebSocketError(.controlFrameTooLong, offset: 1))
    }

    @Test(arguments: roles, [WebSocketOpcode.ping, .pong, .close])
    func rejectsFragmentedControlFrames(_ role: WebSocketRole, _ opcode: WebSocketOpcode) {
        let bytes = frame(opcode, [], fin: false, mask: key(for: peer(of: role)))
        #expect(decodeFrames(bytes, as: role).error?.rule == .fragmentedControlFrame)
    }

    @Test func serverRejectsUnmaskedFrames() {
        #expect(decodeFrames(hex("810548656c6c6f"), as: .server).error == WebSocketError(.unmaskedClientFrame, offset: 1))
    }

    @Test func clientRejectsMaskedFrames() {
        #expect(decodeFrames(hex("818537fa213d7f9f4d5158"), as: .client).error == WebSocketError(.maskedServerFrame, offset: 1))
    }

    @Test(arguments: roles, [0, 1, 125, 126, 127, 65535, 65536, 70000])
    func roundTripsEveryLengthEncoding(_ role: WebSocketRole, _ length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = frame(.binary, payload, mask: key(for: peer(of: role)))
        let expectedHeader = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10
        #expect(bytes.count == expectedHeader + (role == .server ? 4 : 0) + length)
        let result = decodeFrames(bytes, as: role, chunk: 7)
        #expect(result.error == nil)
        #expect(result.frames.first?.0.payloadLength == UInt64(length))
        #expect(result.frames.first?.1 == payload)
    }

    @Test func encodesRFCHeadersExactly() {
        var out: [UInt8] = []
        WebSocketFrameEncoder.writeHeader(WebSocketFrameHeader(opcode: .binary, payloadLength: 256), into: &out)
        #expect(out == hex("827e0100"))
        out = []
        WebSocketFrameEncoder.writeHeader(WebSocketFrameHeader(opcode: .binary, payloadLength: 65536), into: &out)
        #expect(out == hex("827f0000000000010000"))
        #expect(frame(.text, Array("Hello".utf8), mask: 0x37FA_213D) == hex("818537fa213d7f9f4d5158"))
        #expect(frame(.pong, Array("Hello".utf8), mask: 0x37FA_213D) == hex("8a8537fa213d7f9f4d5158"))
    }

    @Test(arguments: roles)
    func rejects64BitLengthWithHighBitSet(_ role: WebSocketRole) {
        var bytes: [UInt8] = [0x82, 0x7F | (role == .server ? 0x80 : 0), 0x80, 0, 0, 0, 0, 0, 0, 0]
        if role == .server { bytes += [1, 2, 3, 4] }
        #expect(decodeFrames(bytes, as: role).error == WebSocketError(.payloadLengthHighBitSet, offset: 2))
    }

    @Test(arguments: roles)
    func rejectsNonMinimalLengthsUnlessLenient(_ role: WebSocketRole) {
        let maskBit: UInt8 = role == .server ? 0x80 : 0
        let mask: [UInt8] = role == .server ? [0, 0, 0, 0] : []
        let sixteen = [0x82, 0x7E | maskBit, 0x00, 0x05] + mask + [1, 2, 3, 4, 5]
        let sixtyFour = [0x82, 0x7F | maskBit, 0, 0, 0, 0, 0, 0, 0x00, 0x05] + mask + [1, 2, 3, 4, 5]
        for bytes in [sixteen, sixtyFour] {
            #expect(decodeFrames(bytes, as: role).error?.rule == .payloadLengthNotMinimal)
            var lenient = WebSocketFrameDecoder.Configuration()
            lenient.acceptsNonMinimalLengths = true
            let result = decodeFrames(bytes, as: role, configuration: lenient)
            #expect(result.error == nil)
            #expect(result.frames.first?.1 == [1, 2, 3, 4, 5])
        }
    }

    @Test(arguments: roles)
    func rejectsFramesOverTheLimitAtTheHeader(_ role: WebSocketRole) {
        var configuration = WebSocketFrameDecoder.Configuration()
        configuration.maxFramePayload = 1000
        let bytes = frame(.binary, [UInt8](repeating: 0, count: 1001), mask: key(for: peer(of: role)))
        // Only the header is needed to refuse it.
        #expect(decodeFrames(Array(bytes.prefix(4)), as: role, configuration: configuration).error?.rule == .frameTooLarge)
    }

    @Test(arguments: roles)
    func everySplitGivesTheSameFrames(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        let stream = frame(.text, Array("Hel".utf8), fin: false, mask: mask) + frame(.ping, [], mask: mask)
            + frame(.continuation, Array("lo".utf8), mask: mask) + frame(.binary, [UInt8](repeating: 7, count: 300), mask: mask)
            + frame(.close, [0x03, 0xE8], mask: mask)
        let whole = decodeFrames(stream, as: role)
        #expect(whole.error == nil)
        #expect(whole.frames.count == 5)
        for cut in 0...stream.count {
            var decoder = WebSocketFrameDecoder(role: role)
            var payloads: [[UInt8]] = []
            stream.withUnsafeBytes { all in
                for range in [0..<cut, cut..<all.count] {
                    try? decoder.decode(UnsafeRawBufferPointer(rebasing: all[range])) { event in
                        switch event {
                        case .header: payloads.append([])
                        case .payload(let p): payloads[payloads.count - 1] += p
                        case .end: break
                        }
                    }
                }
            }
            #expect(payloads == whole.frames.map(\.1))
            #expect(decoder.isAtFrameBoundary)
        }
    }

    @Test func failureIsSticky() {
        var decoder = WebSocketFrameDecoder(role: .server)
        let bad = hex("810548656c6c6f")
        let first = bad.withUnsafeBytes { buffer in Result { () throws(WebSocketError) in try decoder.decode(buffer) { _ in } } }
        let good = hex("818537fa213d7f9f4d5158")
        let second = good.withUnsafeBytes { buffer in Result { () throws(WebSocketError) in try decoder.decode(buffer) { _ in } } }
        #expect(throws: WebSocketError(.unmaskedClientFrame, offset: 1)) { try first.get() }
        #expect(throws: WebSocketError(.unmaskedClientFrame, offset: 1)) { try second.get() }
    }
}
