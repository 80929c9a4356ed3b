import EpsilonWebSocket

/// Builds one frame's bytes with the encoder under test's sibling (checked separately against RFC bytes).
func frame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true, reserved: ReservedBits = [], mask: UInt32? = nil) -> [UInt8] {
    var out: [UInt8] = []
    payload.withUnsafeBytes {
        FrameEncoder.writeFrame(FrameHeader(fin: fin, reserved: reserved, opcode: opcode, maskingKey: mask, payloadLength: 0), payload: $0, into: &out)
    }
    return out
}

/// The masking key a sender of `role` uses in tests (nil for a server).
func key(for sender: Role) -> UInt32? { sender == .client ? 0x37FA_213D : nil }

/// The other role.
func peer(of role: Role) -> Role { role == .client ? .server : .client }

/// Feeds `bytes` to a fresh or given connection in chunks of `chunk` bytes and collects what it reports.
func receive(_ bytes: [UInt8], into connection: inout Connection, chunk: Int = Int.max) -> (items: [MessageCollector.Item], error: WebSocketError?) {
    var collector = MessageCollector()
    var copy = bytes
    var failure: WebSocketError?
    copy.withUnsafeMutableBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                try connection.receive(UnsafeMutableRawBufferPointer(rebasing: all[start..<end]), handler: &collector)
            } catch {
                failure = error
                return
            }
            start = end
        }
    }
    return (collector.items, failure)
}

/// Receives `bytes` as the end playing `role` with a default configuration.
func receive(_ bytes: [UInt8], as role: Role, configuration: Connection.Configuration = Connection.Configuration(), chunk: Int = Int.max) -> (items: [MessageCollector.Item], error: WebSocketError?) {
    var connection = Connection(role: role, configuration: configuration)
    return receive(bytes, into: &connection, chunk: chunk)
}

/// Decodes frames with a FrameDecoder and returns (header, payload) pairs or the error.
func decodeFrames(_ bytes: [UInt8], as role: Role, configuration: FrameDecoder.Configuration = FrameDecoder.Configuration(), chunk: Int = Int.max) -> (frames: [(FrameHeader, [UInt8])], error: WebSocketError?) {
    var decoder = FrameDecoder(role: role, configuration: configuration)
    var frames: [(FrameHeader, [UInt8])] = []
    var current: (FrameHeader, [UInt8])?
    var copy = bytes
    var failure: WebSocketError?
    copy.withUnsafeMutableBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                try decoder.decode(UnsafeMutableRawBufferPointer(rebasing: all[start..<end])) { event in
                    switch event {
                    case .header(let header, _): current = (header, [])
                    case .payload(let bytes): current?.1 += bytes
                    case .end: frames.append(current!)
                    }
                }
            } catch {
                failure = error
                return
            }
            start = end
        }
    }
    return (frames, failure)
}

/// Parses compact hex.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}
