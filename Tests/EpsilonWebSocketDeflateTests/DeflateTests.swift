import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Testing

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// Inflates one whole compressed payload.
func inflate(_ payload: [UInt8], with decompressor: MessageDecompressor) throws(WebSocketError) -> [UInt8] {
    var out: [UInt8] = []
    let result: Result<Void, WebSocketError> = payload.withUnsafeBytes { raw in
        Result { () throws(WebSocketError) in try decompressor.decompress(raw) { out += $0 } }
    }
    try result.get()
    try decompressor.finish { out += $0 }
    return out
}

/// Receives a stream through a connection with permessage-deflate.
func receiveCompressed(_ bytes: [UInt8], as role: Role, parameters: DeflateParameters = DeflateParameters(), maxMessageSize: Int = 16 << 20, chunk: Int = Int.max) -> (items: [MessageCollector.Item], error: WebSocketError?, decompressor: MessageDecompressor) {
    var configuration = Connection.Configuration()
    configuration.allowsCompressedMessages = true
    configuration.maxMessageSize = UInt64(maxMessageSize)
    var connection = Connection(role: role, configuration: configuration)
    let decompressor = MessageDecompressor(parameters: parameters, role: role, maxMessageSize: maxMessageSize)
    var handler = DeflateHandler(MessageCollector(), decompressor: decompressor)
    var copy = bytes
    var failure: WebSocketError?
    copy.withUnsafeMutableBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                try connection.receive(UnsafeMutableRawBufferPointer(rebasing: all[start..<end]), handler: &handler)
            } catch {
                failure = error
                return
            }
            start = end
        }
    }
    return (handler.inner.items, failure, decompressor)
}

/// RFC 7692 §7.2: compressing and inflating messages.
@Suite struct RFC7692_7_2_Compression {
    @Test func stripsTheSyncFlushTrailerAndCompressesEmptyMessagesToOneByte() {
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: false)
        let hello = compressor.compress(Array("Hello".utf8))
        #expect(hello == hex("f248cdc9c90700"))  // RFC 7692 §7.2.3.1
        #expect(compressor.compress([]) == [0x00])  // §7.2.3.6
    }

    @Test func contextTakeoverSharesTheWindowAcrossMessages() throws {
        let text = Array(String(repeating: "WebSocket compression test ", count: 20).utf8)
        let keeping = MessageCompressor(windowBits: 15, noContextTakeover: false)
        let first = keeping.compress(text)
        let second = keeping.compress(text)
        #expect(second.count < first.count / 2)
        let receiver = MessageDecompressor(noContextTakeover: false)
        #expect(try inflate(first, with: receiver) == text)
        #expect(try inflate(second, with: receiver) == text)
        // A receiver that resets cannot read the second message: it refers to the first.
        let resetting = MessageDecompressor(noContextTakeover: true)
        _ = try inflate(first, with: resetting)
        #expect(throws: WebSocketError.self) { _ = try inflate(second, with: resetting) }
    }

    @Test func noContextTakeoverMakesEveryMessageStandAlone() throws {
        let text = Array(String(repeating: "again and again ", count: 30).utf8)
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: true)
        let first = compressor.compress(text)
        let second = compressor.compress(text)
        #expect(first == second)
        let receiver = MessageDecompressor(noContextTakeover: true)
        #expect(try inflate(second, with: receiver) == text)
    }

    @Test(arguments: [9, 10, 12, 15])
    func smallWindowsRoundTrip(_ bits: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let words = ["alpha", "beta", "gamma", "delta", "€", "😀"]
        let text = Array((0..<3000).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ").utf8)
        let compressor = MessageCompressor(windowBits: bits, noContextTakeover: false)
        let receiver = MessageDecompressor(noContextTakeover: false)
        for _ in 0..<3 { #expect(try inflate(compressor.compress(text), with: receiver) == text) }
    }

    @Test func eightBitWindowSendsUncompressed() throws {
        // zlib refuses raw deflate with 8 window bits: such a compressor sends plain messages.
        let compressor = MessageCompressor(windowBits: 8, noContextTakeover: false)
        #expect(!compressor.isCompressing)
        var configuration = Connection.Configuration()
        configuration.allowsCompressedMessages = true
        var connection = Connection(role: .server, configuration: configuration)
        var out: [UInt8] = []
        var scratch: [UInt8] = []
        try Array("plain".utf8).withUnsafeBytes { try connection.sendCompressed(.text, payload: $0, compressor: compressor, scratch: &scratch, into: &out) }
        #expect(out == hex("8105") + Array("plain".utf8))
    }

    @Test func rsv1OnlyOnTheFirstFrameAndControlFramesBetweenFragments() throws {
        var configuration = Connection.Configuration()
        configuration.allowsCompressedMessages = true
        configuration.maskingKeys = .fixed(0xA0B0_C0D0)
        var client = Connection(role: .client, configuration: configuration)
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: false)
        let text = Array(String(repeating: "fragmented compressed text ", count: 40).utf8)
        var out: [UInt8] = []
        var scratch: [UInt8] = []
        try text.withUnsafeBytes { try client.sendCompressed(.text, payload: $0, compressor: compressor, maxFragment: 10, scratch: &scratch, into: &out) }
        // Split the frames and put a Ping between the first two fragments.
        var decoder = FrameDecoder(role: .server, configuration: { var c = FrameDecoder.Configuration(); c.allowedReservedBits = .rsv1; return c }())
        var headers: [FrameHeader] = []
        var copy = out
        let decoded: Result<Void, WebSocketError> = copy.withUnsafeMutableBytes { buffer in
            Result { () throws(WebSocketError) in
                try decoder.decode(buffer) { event in if case .header(let h, _) = event { headers.append(h) } }
            }
        }
        try decoded.get()
        #expect(headers.count > 3)
        #expect(headers.first?.reserved == .rsv1)
        #expect(headers.dropFirst().allSatisfy { $0.reserved.isEmpty && $0.opcode == .continuation })
        let firstFrameSize = 2 + 4 + 10
        var ping: [UInt8] = []
        try [UInt8]([7]).withUnsafeBytes { try client.sendPing($0, into: &ping) }
        let stream = Array(out[..<firstFrameSize]) + ping + Array(out[firstFrameSize...])
        for chunk in [1, 3, 1000] {
            let result = receiveCompressed(stream, as: .server, chunk: chunk)
            #expect(result.error == nil)
            #expect(result.items == [.ping([7]), .message(.text, text)])
        }
    }

    @Test func keepsTheWindowAfterAFinalBlock() throws {
        // RFC 7692 §7.2.3.4 (BFINAL set) then §7.2.3.2's second message, which refers back to "Hello".
        let stream = hex("c108f348cdc9c9070000") + hex("c105f200110000")
        let result = receiveCompressed(stream, as: .client)
        #expect(result.error == nil)
        #expect(result.items == [.message(.text, Array("Hello".utf8)), .message(.text, Array("Hello".utf8))])
    }

    @Test func rejectsCorruptData() {
        let result = receiveCompressed(hex("c103ffffff"), as: .client)
        #expect(result.error?.rule == .invalidCompressedData)
    }

    @Test func rejectsInvalidUTF8AfterInflating() {
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: false)
        let payload = compressor.compress([0x61, 0x62, 0xED, 0xA0, 0x80])
        let result = receiveCompressed(hex("c1") + [UInt8(payload.count)] + payload, as: .client)
        #expect(result.error == WebSocketError(.invalidUTF8, offset: 3))
        // Binary messages are not checked.
        let binary = receiveCompressed(hex("c2") + [UInt8(payload.count)] + payload, as: .client)
        #expect(binary.error == nil)
    }
}

/// The inflated-size bound: a decompression bomb fails at the limit.
@Suite struct DecompressionBomb {
    @Test func sixteenMiBOfZerosIsRejectedAtTheLimitWithoutInflatingItWhole() throws {
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: false, level: 9)
        let bomb = compressor.compress(zeros)
        print("16 MiB of zeros compress to \(bomb.count) bytes")
        #expect(bomb.count < 20_000)
        let limit = 1 << 20
        // One 64-bit-length frame, fed in 4 KiB reads as a socket would.
        var stream: [UInt8] = [0xC2, 0x7E, UInt8(bomb.count >> 8), UInt8(bomb.count & 0xFF)]
        if bomb.count > 0xFFFF { stream = [0xC2, 0x7F, 0, 0, 0, 0, 0, UInt8(bomb.count >> 16), UInt8(bomb.count >> 8 & 0xFF), UInt8(bomb.count & 0xFF)] }
        stream += bomb
        let result = receiveCompressed(stream, as: .client, maxMessageSize: limit, chunk: 4096)
        #expect(result.error?.rule == .messageTooLarge)
        #expect(result.items.isEmpty)
        print("rejected after inflating \(result.decompressor.inflatedCount) bytes (limit \(limit))")
        #expect(result.decompressor.inflatedCount > limit)
        #expect(result.decompressor.inflatedCount <= limit + 16 * 1024)
    }

    @Test func theLimitHoldsPerMessageAcrossFragments() {
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: false)
        let payload = compressor.compress([UInt8](repeating: 0x41, count: 3000))
        // Three fragments of the compressed payload; the limit is below the inflated size.
        let a = payload.count / 3, b = 2 * payload.count / 3
        let stream = [0x42, UInt8(a)] + payload[..<a] + [0x00, UInt8(b - a)] + payload[a..<b] + [0x80, UInt8(payload.count - b)] + payload[b...]
        #expect(receiveCompressed(stream, as: .client, maxMessageSize: 2999).error?.rule == .messageTooLarge)
        let ok = receiveCompressed(stream, as: .client, maxMessageSize: 3000)
        #expect(ok.error == nil)
        #expect(ok.items == [.message(.binary, [UInt8](repeating: 0x41, count: 3000))])
    }
}

/// RFC 7692 §7.1: negotiating the four parameters.
@Suite struct RFC7692_7_1_Negotiation {
    @Test func clientOfferSerializes() {
        #expect(DeflateClientOffer().extensionOffer.description == "permessage-deflate; client_max_window_bits")
        let all = DeflateClientOffer(requestServerNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12)
        #expect(all.extensionOffer.description == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12")
    }

    @Test func serverAcceptsTheOfferedParameters() throws {
        let offers = try ExtensionOffer.parse(["permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"])
        let (response, parameters) = try #require(DeflateServerPolicy(clientMaxWindowBits: 11).accept(offers: offers))
        #expect(response.description == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11")
        #expect(parameters == DeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11))
        // The client agrees on the same parameters from the response.
        let client = DeflateClientOffer(requestServerNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 0)
        #expect(try client.accept(response: response) == parameters)
    }

    @Test func serverDeclinesBadOffersAndTakesTheNext() throws {
        let offers = try ExtensionOffer.parse([
            "permessage-deflate; server_max_window_bits=16, permessage-deflate; foo, permessage-deflate; client_no_context_takeover; client_no_context_takeover, "
                + "permessage-deflate; server_max_window_bits=08, permessage-deflate; server_max_window_bits, permessage-deflate; client_max_window_bits=7, permessage-deflate; server_no_context_takeover=1, permessage-deflate; server_max_window_bits=9",
        ])
        let (response, parameters) = try #require(DeflateServerPolicy().accept(offers: offers))
        #expect(response.description == "permessage-deflate; server_max_window_bits=9")
        #expect(parameters.serverMaxWindowBits == 9)
        #expect(DeflateServerPolicy().accept(offers: [ExtensionOffer(name: "x-webkit-deflate-frame")]) == nil)
    }

    @Test func serverLimitsItsOwnWindowWithoutBeingAsked() throws {
        let (response, parameters) = try #require(DeflateServerPolicy(serverNoContextTakeover: true, serverMaxWindowBits: 12).accept(offers: [ExtensionOffer(name: "permessage-deflate")]))
        #expect(response.description == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12")
        #expect(parameters.clientMaxWindowBits == 15)
    }

    @Test func eightBitWindowsNegotiate() throws {
        let offer = DeflateClientOffer(serverMaxWindowBits: 8, clientMaxWindowBits: 8)
        let (response, parameters) = try #require(DeflateServerPolicy().accept(offers: [offer.extensionOffer]))
        #expect(response.description == "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8")
        #expect(try offer.accept(response: response) == parameters)
        #expect(!MessageCompressor(parameters: parameters, role: .server).isCompressing)
        #expect(!MessageCompressor(parameters: parameters, role: .client).isCompressing)
    }

    @Test(arguments: [
        ("permessage-deflate; foo", DeflateNegotiationError.unknownParameter("foo")),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", .duplicateParameter("server_no_context_takeover")),
        ("permessage-deflate; server_max_window_bits=16", .invalidValue("server_max_window_bits")),
        ("permessage-deflate; server_max_window_bits=7", .invalidValue("server_max_window_bits")),
        ("permessage-deflate; server_max_window_bits", .invalidValue("server_max_window_bits")),
        ("permessage-deflate; client_max_window_bits", .invalidValue("client_max_window_bits")),
        ("permessage-deflate; client_no_context_takeover=1", .invalidValue("client_no_context_takeover")),
        ("permessage-deflate; client_max_window_bits=15", .responseBreaksOffer("client_max_window_bits")),
        ("permessage-deflate; server_max_window_bits=12", .responseBreaksOffer("server_max_window_bits")),
        ("permessage-deflate", .responseBreaksOffer("server_no_context_takeover")),
    ])
    func clientRejectsResponsesThatBreakRules(_ value: String, _ error: DeflateNegotiationError) throws {
        let offer = DeflateClientOffer(requestServerNoContextTakeover: value.hasSuffix("deflate"), serverMaxWindowBits: value.contains("=12") ? 10 : nil, clientMaxWindowBits: nil)
        let response = try ExtensionOffer.parse([value])[0]
        #expect(throws: error) { try offer.accept(response: response) }
    }

    @Test func clientAcceptsAServerLimitOnItsWindow() throws {
        let offer = DeflateClientOffer()
        let parameters = try offer.accept(response: try ExtensionOffer.parse(["permessage-deflate; client_max_window_bits=10; client_no_context_takeover"])[0])
        #expect(parameters.clientMaxWindowBits == 10)
        #expect(parameters.clientNoContextTakeover)
        #expect(try offer.accept(extensions: []) == nil)
    }
}

/// Random compressed payloads never trap; they inflate or fail with a typed error.
@Suite struct HostileCompressedInput {
    @Test func randomCompressedPayloadsNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let compressor = MessageCompressor(windowBits: 15, noContextTakeover: false)
        let good = compressor.compress(Array("a compressed text message, a compressed text message".utf8))
        var errors = 0
        for round in 0..<2000 {
            var payload: [UInt8]
            if round % 2 == 0 {
                payload = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                payload = good
                payload[Int.random(in: 0..<payload.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            }
            let opcode: UInt8 = round % 4 == 0 ? 0xC2 : 0xC1
            let stream = [opcode, UInt8(payload.count)] + payload + [0x89, 0x00]
            let result = receiveCompressed(stream, as: .client, maxMessageSize: 4096, chunk: Int.random(in: 1...16, using: &generator))
            if result.error != nil { errors += 1 }
        }
        #expect(errors > 0)
    }
}
