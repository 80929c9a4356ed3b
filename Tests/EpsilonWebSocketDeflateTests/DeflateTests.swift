import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Testing

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// Inflates one whole compressed payload.
func inflate(_ payload: [UInt8], with decompressor: WebSocketDeflateDecompressor) throws(WebSocketError) -> [UInt8] {
    var out: [UInt8] = []
    let result: Result<Void, WebSocketError> = payload.withUnsafeBytes { raw in
        Result { () throws(WebSocketError) in try decompressor.decompress(raw) { out += $0 } }
    }
    try result.get()
    try decompressor.finish { out += $0 }
    return out
}

/// Receives a stream through a connection with permessage-deflate.
func receiveCompressed(_ bytes: [UInt8], as role: WebSocketRole, parameters: WebSocketDeflateParameters = WebSocketDeflateParameters(), maxMessageSize: Int = 16 << 20, chunk: Int = Int.max) -> (items: [WebSocketMessageCollector.Item], error: WebSocketError?, decompressor: WebSocketDeflateDecompressor) {
    var configuration = WebSocketConnection.Configuration()
    configuration.allowsCompressedMessages = true
    configuration.maxMessageSize = UInt64(maxMessageSize)
    var connection = WebSocketConnection(role: role, configuration: configuration)
    let decompressor = WebSocketDeflateDecompressor(parameters: parameters, role: role, maxMessageSize: maxMessageSize)
    var handler = WebSocketDeflateHandler(WebSocketMessageCollector(), decompressor: decompressor)
    var failure: WebSocketError?
    bytes.withUnsafeBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                try connection.receive(UnsafeRawBufferPointer(rebasing: all[start..<end]), now: 0, handler: &handler)
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
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
        let hello = compressor.compress(Array("Hello".utf8))
        #expect(hello == hex("f248cdc9c90700"))  // RFC 7692 §7.2.3.1
        #expect(compressor.compress([]) == [0x00])  // §7.2.3.6
    }

    @Test func contextTakeoverSharesTheWindowAcrossMessages() throws {
        let text = Array(String(repeating: "WebSocket compression test ", count: 20).utf8)
        let keeping = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
        let first = keeping.compress(text)
        let second = keeping.compress(text)
        #expect(second.count < first.count / 2)
        let receiver = WebSocketDeflateDecompressor(noContextTakeover: false)
        #expect(try inflate(first, with: receiver) == text)
        #expect(try inflate(second, with: receiver) == text)
        // A receiver that resets cannot read the second message: it refers to the first.
        let resetting = WebSocketDeflateDecompressor(noContextTakeover: true)
        _ = try inflate(first, with: resetting)
        #expect(throws: WebSocketError.self) { _ = try inflate(second, with: resetting) }
    }

    @Test func noContextTakeoverMakesEveryMessageStandAlone() throws {
        let text = Array(String(repeating: "again and again ", count: 30).utf8)
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: true)
        let first = compressor.compress(text)
        let second = compressor.compress(text)
        #expect(first == second)
        let receiver = WebSocketDeflateDecompressor(noContextTakeover: true)
        #expect(try inflate(second, with: receiver) == text)
    }

    @Test(arguments: [9, 10, 12, 15])
    func smallWindowsRoundTrip(_ bits: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let words = ["alpha", "beta", "gamma", "delta", "€", "😀"]
        let text = Array((0..<3000).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ").utf8)
        let compressor = WebSocketDeflateCompressor(windowBits: bits, noContextTakeover: false)
        let receiver = WebSocketDeflateDecompressor(noContextTakeover: false)
        for _ in 0..<3 { #expect(try inflate(compressor.compress(text), with: receiver) == text) }
    }

    @Test func eightBitWindowSendsUncompressed() throws {
        // zlib refuses raw deflate with 8 window bits: such a compressor sends plain messages.
        let compressor = WebSocketDeflateCompressor(windowBits: 8, noContextTakeover: false)
        #expect(!compressor.isCompressing)
        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = true
        var connection = WebSocketConnection(role: .server, configuration: configuration)
        var out: [UInt8] = []
        try Array("plain".utf8).withUnsafeBytes { try connection.sendCompressed(.text, payload: $0, compressor: compressor) }
        connection.writeOutput(into: &out)
        #expect(out == hex("8105") + Array("plain".utf8))
    }

    @Test func rsv1OnlyOnTheFirstFrameAndControlFramesBetweenFragments() throws {
        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = true
        configuration.maskingKeys = .fixed(0xA0B0_C0D0)
        var client = WebSocketConnection(role: .client, configuration: configuration)
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
        let text = Array(String(repeating: "fragmented compressed text ", count: 40).utf8)
        var out: [UInt8] = []
        try text.withUnsafeBytes { try client.sendCompressed(.text, payload: $0, compressor: compressor, maxFragment: 10) }
        client.writeOutput(into: &out)
        // Split the frames and put a Ping between the first two fragments.
        var decoder = WebSocketFrameDecoder(role: .server, configuration: { var c = WebSocketFrameDecoder.Configuration(); c.allowedReservedBits = .rsv1; return c }())
        var headers: [WebSocketFrameHeader] = []
        let decoded: Result<Void, WebSocketError> = out.withUnsafeBytes { buffer in
            Result { () throws(WebSocketError) in
                try decoder.decode(buffer) { event in if case .header(let h, _, _) = event { headers.append(h) } }
            }
        }
        try decoded.get()
        #expect(headers.count > 3)
        #expect(headers.first?.reserved == .rsv1)
        #expect(headers.dropFirst().allSatisfy { $0.reserved.isEmpty && $0.opcode == .continuation })
        let firstFrameSize = 2 + 4 + 10
        var ping: [UInt8] = []
        try [UInt8]([7]).withUnsafeBytes { try client.sendPing($0) }
        client.writeOutput(into: &ping)
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
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
        let payload = compressor.compress([0x61, 0x62, 0xED, 0xA0, 0x80])
        let result = receiveCompressed(hex("c1") + [UInt8(payload.count)] + payload, as: .client)
        // Inflated bytes have no place in the received stream: the error points at the frame.
        #expect(result.error == WebSocketError(.invalidUTF8, offset: 0))
        let second = receiveCompressed(hex("8100") + hex("c1") + [UInt8(payload.count)] + payload, as: .client)
        #expect(second.error == WebSocketError(.invalidUTF8, offset: 2))
        // Binary messages are not checked.
        let binary = receiveCompressed(hex("c2") + [UInt8(payload.count)] + payload, as: .client)
        #expect(binary.error == nil)
    }
}

/// The inflated-size bound: a decompression bomb fails at the limit.
@Suite struct DecompressionBomb {
    @Test func sixteenMiBOfZerosIsRejectedAtTheLimitWithoutInflatingItWhole() throws {
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false, level: 9)
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
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
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
        #expect(WebSocketDeflateClientOffer().extensionOffer.description == "permessage-deflate; client_max_window_bits")
        let all = WebSocketDeflateClientOffer(requestServerNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12)
        #expect(all.extensionOffer.description == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12")
    }

    @Test func serverAcceptsTheOfferedParameters() throws {
        let offers = try WebSocketExtensionOffer.parse(["permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"])
        let (response, parameters) = try #require(WebSocketDeflateServerPolicy(clientMaxWindowBits: 11).accept(offers: offers))
        #expect(response.description == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11")
        #expect(parameters == WebSocketDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11))
        // The client agrees on the same parameters from the response.
        let client = WebSocketDeflateClientOffer(requestServerNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 0)
        #expect(try client.accept(response: response) == parameters)
    }

    @Test func serverDeclinesBadOffersAndTakesTheNext() throws {
        let offers = try WebSocketExtensionOffer.parse([
            "permessage-deflate; server_max_window_bits=16, permessage-deflate; foo, permessage-deflate; client_no_context_takeover; client_no_context_takeover, "
                + "permessage-deflate; server_max_window_bits=08, permessage-deflate; server_max_window_bits, permessage-deflate; client_max_window_bits=7, permessage-deflate; server_no_context_takeover=1, permessage-deflate; server_max_window_bits=9",
        ])
        let (response, parameters) = try #require(WebSocketDeflateServerPolicy().accept(offers: offers))
        #expect(response.description == "permessage-deflate; server_max_window_bits=9")
        #expect(parameters.serverMaxWindowBits == 9)
        #expect(WebSocketDeflateServerPolicy().accept(offers: [WebSocketExtensionOffer(name: "x-webkit-deflate-frame")]) == nil)
    }

    @Test func serverLimitsItsOwnWindowWithoutBeingAsked() throws {
        let (response, parameters) = try #require(WebSocketDeflateServerPolicy(serverNoContextTakeover: true, serverMaxWindowBits: 12).accept(offers: [WebSocketExtensionOffer(name: "permessage-deflate")]))
        #expect(response.description == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12")
        #expect(parameters.clientMaxWindowBits == 15)
    }

    @Test func eightBitWindowsNegotiate() throws {
        let offer = WebSocketDeflateClientOffer(serverMaxWindowBits: 8, clientMaxWindowBits: 8)
        let (response, parameters) = try #require(WebSocketDeflateServerPolicy().accept(offers: [offer.extensionOffer]))
        #expect(response.description == "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8")
        #expect(try offer.accept(response: response) == parameters)
        #expect(!WebSocketDeflateCompressor(parameters: parameters, role: .server).isCompressing)
        #expect(!WebSocketDeflateCompressor(parameters: parameters, role: .client).isCompressing)
    }

    @Test(arguments: [
        ("permessage-deflate; foo", WebSocketDeflateNegotiationError.unknownParameter("foo")),
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
    func clientRejectsResponsesThatBreakRules(_ value: String, _ error: WebSocketDeflateNegotiationError) throws {
        let offer = WebSocketDeflateClientOffer(requestServerNoContextTakeover: value.hasSuffix("deflate"), serverMaxWindowBits: value.contains("=12") ? 10 : nil, clientMaxWindowBits: nil)
        let response = try WebSocketExtensionOffer.parse([value])[0]
        #expect(throws: error) { try offer.accept(response: response) }
    }

    @Test func clientAcceptsAServerLimitOnItsWindow() throws {
        let offer = WebSocketDeflateClientOffer()
        let parameters = try offer.accept(response: try WebSocketExtensionOffer.parse(["permessage-deflate; client_max_window_bits=10; client_no_context_takeover"])[0])
        #expect(parameters.clientMaxWindowBits == 10)
        #expect(parameters.clientNoContextTakeover)
        #expect(try offer.accept(extensions: []) == nil)
    }
}

/// Random compressed payloads never trap; they inflate or fail with a typed error.
@Suite struct HostileCompressedInput {
    @Test func randomCompressedPayloadsNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
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
