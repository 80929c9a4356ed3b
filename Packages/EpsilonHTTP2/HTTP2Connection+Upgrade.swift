@_spi(EpsilonInternal) import EpsilonBytes
extension HTTP2Connection {
    /// The `HTTP2-Settings` header value a client puts in its HTTP/1.1 `Upgrade: h2c` request:
    /// the SETTINGS payload it will send, base64url without padding (RFC 7540 §3.2.1).
    public static func upgradeSettingsHeaderValue(configuration: HTTP2Configuration = HTTP2Configuration()) -> String {
        let connection = HTTP2Connection(role: .client, configuration: configuration)
        var payload: [UInt8] = []
        HTTP2FrameEncoder.appendSettings(connection.initialSettings(), into: &payload)
        return base64URLEncode(payload[HTTP2FrameHeader.size...])
    }

    /// Makes a client that sent `Upgrade: h2c` and received `101 Switching Protocols`.
    ///
    /// Stream 1 carries the response to the HTTP/1.1 request (half-closed local: the request
    /// was sent). The preface and SETTINGS are queued as for a prior-knowledge client.
    public init(upgradedClientWith configuration: HTTP2Configuration = HTTP2Configuration(), requestWasHead: Bool = false) {
        self.init(role: .client, configuration: configuration)
        var stream = StreamState(phase: .halfClosedLocal, sendWindow: peerSettings.initialWindowSize, receiveWindow: localInitialWindow)
        stream.sentFinalHead = true
        stream.requestWasHead = requestWasHead
        insertStream(1, stream)
        nextLocalStreamID = 3
    }

    /// Makes a server that answered an HTTP/1.1 `Upgrade: h2c` request with 101.
    ///
    /// `http2Settings` is the request's `HTTP2-Settings` value, applied as the client's first
    /// SETTINGS (no ACK needed). Stream 1 is the upgraded request, half-closed (remote):
    /// answer it with ``sendHeaders(streamID:_:endStream:)``. The client's preface is still
    /// expected. Throws when the value is not base64url of a SETTINGS payload or a value is
    /// out of range.
    public init(
        upgradedServerWith configuration: HTTP2Configuration = HTTP2Configuration(), http2Settings: String
    ) throws(HTTP2ConnectionError) {
        self.init(role: .server, configuration: configuration)
        guard let payload = base64URLDecode(http2Settings), payload.count % 6 == 0 else {
            throw HTTP2ConnectionError(.invalidSetting, code: .protocolError)
        }
        _ = try payload.withBytes { bytes throws(HTTP2ConnectionError) in
            try applyPeerSettings(HTTP2SettingsView(bytes))
        }
        var stream = StreamState(phase: .halfClosedRemote, sendWindow: peerSettings.initialWindowSize, receiveWindow: localInitialWindow)
        stream.receivedFinalHead = true
        insertStream(1, stream)
        highestPeerStreamID = 1
        peerStreamsOpened = 1
    }
}

private let base64URLAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

func base64URLEncode(_ bytes: ArraySlice<UInt8>) -> String {
    var output: [UInt8] = []
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let remaining = bytes.endIndex - index
        let b0 = UInt32(bytes[index])
        let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
        let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
        let word = b0 << 16 | b1 << 8 | b2
        output.append(base64URLAlphabet[Int(word >> 18 & 63)])
        output.append(base64URLAlphabet[Int(word >> 12 & 63)])
        if remaining > 1 { output.append(base64URLAlphabet[Int(word >> 6 & 63)]) }
        if remaining > 2 { output.append(base64URLAlphabet[Int(word & 63)]) }
        index += 3
    }
    return String(decoding: output, as: UTF8.self)
}

/// Decodes base64url (or base64), padding optional; `nil` on a foreign character.
func base64URLDecode(_ text: String) -> [UInt8]? {
    var output: [UInt8] = []
    var accumulator: UInt32 = 0
    var bits = 0
    for character in text.utf8 {
        let value: UInt32
        switch character {
        case 0x41...0x5a: value = UInt32(character - 0x41)
        case 0x61...0x7a: value = UInt32(character - 0x61 + 26)
        case 0x30...0x39: value = UInt32(character - 0x30 + 52)
        case 0x2d, 0x2b: value = 62
        case 0x5f, 0x2f: value = 63
        case 0x3d: continue
        default: return nil
        }
        accumulator = accumulator << 6 | value
        bits += 6
        if bits >= 8 {
            bits -= 8
            output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
        }
    }
    return output
}
