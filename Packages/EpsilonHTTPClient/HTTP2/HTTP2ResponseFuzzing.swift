import EpsilonHTTP2
import EpsilonHTTPContentCoding
import HTTPTypes

extension HTTP2ClientConnection {
    /// The machine settings of a client connection: manual window replenishment (credit only
    /// for chunks the application took), `receiveWindow` per stream, a connection window of 64
    /// streams' worth (at least 1 MiB), no server push.
    static func machineConfiguration(receiveWindow: Int) -> HTTP2Configuration {
        var configuration = HTTP2Configuration()
        configuration.windowReplenishment = .manual
        configuration.initialWindowSize = min(max(receiveWindow, 65_535), 1 << 30)
        configuration.connectionWindowSize = min(max(configuration.initialWindowSize * 64, 1 << 20), (1 << 31) - 1)
        configuration.enablePush = false
        return configuration
    }
}

extension HTTPClientResponseFuzzing {
    /// Plays `data` as an HTTP/2 server's byte stream answering three GET requests (asking for
    /// `gzip, deflate`) on one client connection: the machine, the event filing and the content
    /// decoding an ``HTTPClient`` runs, without sockets. The first byte picks the read size; the
    /// rest is the stream. After each read the application side takes every chunk (returning
    /// credit) and decodes it. Returns the count of body bytes; failures must be typed (a trap
    /// is a bug).
    public static func runHTTP2(_ data: [UInt8]) -> Int {
        guard let control = data.first else { return 0 }
        let readSize = 1 + Int(control) * 13
        var machine = HTTP2Connection(role: .client,
                                      configuration: HTTP2ClientConnection.machineConfiguration(receiveWindow: 65_535))
        var sink = HTTP2ClientEventSink(streams: [:])
        var streams: [(id: UInt32, decoder: HTTPContentDecoder?, decoderChecked: Bool)] = []
        for path in ["/a", "/b", "/c"] {
            var fields = HTTP2HeaderList()
            fields.append(name: ":method", value: "GET")
            fields.append(name: ":scheme", value: "https")
            fields.append(name: ":authority", value: "fuzz")
            fields.append(name: ":path", value: path)
            fields.append(name: "accept-encoding", value: "gzip, deflate")
            guard let id = try? machine.startRequest(fields, endStream: true) else { break }
            var record = HTTP2StreamRecord()
            record.localEnded = true
            sink.streams[id] = record
            streams.append((id, nil, false))
        }
        var output: [UInt8] = []
        var rest = data.dropFirst()
        var now: UInt64 = 0
        var total = 0
        while !rest.isEmpty {
            let piece = Array(rest.prefix(readSize))
            rest = rest.dropFirst(piece.count)
            now &+= 1_000_000
            do throws(HTTP2ConnectionError) {
                try machine.receive(piece, now: now, handler: &sink)
            } catch {
                break
            }
            output.removeAll(keepingCapacity: true)
            machine.writeOutput(into: &output)
            for index in streams.indices {
                total += takeChunks(of: &streams[index], from: &sink, machine: &machine)
            }
        }
        return total
    }

    /// The application's side of one stream: decoder chosen once the head is in, every chunk
    /// taken and decoded, the decoder finished at the end. A failure drops the stream (reset),
    /// as a failed body read does.
    private static func takeChunks(of stream: inout (id: UInt32, decoder: HTTPContentDecoder?, decoderChecked: Bool),
                                   from sink: inout HTTP2ClientEventSink, machine: inout HTTP2Connection) -> Int {
        guard var record = sink.streams[stream.id], record.error == nil else { return 0 }
        var total = 0
        do throws(HTTPClientError) {
            if let head = record.head, !stream.decoderChecked {
                stream.decoderChecked = true
                stream.decoder = try ResponseDecoding.decoder(for: head, method: .get, limit: 1 << 20)
            }
            while record.hasChunk {
                let chunk = record.takeChunk()
                machine.consume(streamID: stream.id, count: chunk.count)
                if let decoder = stream.decoder {
                    var decoded: [UInt8] = []
                    try ResponseDecoding.decode(chunk, with: decoder, into: &decoded)
                    total += decoded.count
                } else {
                    total += chunk.count
                }
            }
            if record.remoteEnded {
                if let decoder = stream.decoder { try ResponseDecoding.finish(decoder) }
                sink.streams[stream.id] = nil
                return total
            }
            sink.streams[stream.id] = record
        } catch {
            try? machine.resetStream(streamID: stream.id, code: .cancel)
            sink.streams[stream.id] = nil
        }
        return total
    }
}
