import EpsilonHTTP1
import EpsilonHTTPContentCoding

/// The client's response path without sockets, for the libFuzzer harness
/// (Fuzz/HTTPClientResponse): the same ``HTTP1ResponseReader`` and content decoding a pooled
/// connection runs, fed arbitrary bytes. Not API.
@_spi(EpsilonFuzz)
public enum HTTPClientResponseFuzzing {
    /// Plays `data` as a server's byte stream answering requests, up to 8 responses on one
    /// connection. The first byte picks the request method (GET, HEAD, POST) and the read size;
    /// the rest is the stream. Returns the count of decoded body bytes; any failure must be an
    /// ``HTTPClientError`` (a trap is a bug).
    public static func run(_ data: [UInt8]) -> Int {
        guard let control = data.first else { return 0 }
        let methods = ["GET", "HEAD", "POST"]
        let method = methods[Int(control & 3) % 3]
        let readSize = 1 + Int(control >> 2) * 7
        var stream = data.dropFirst()
        var reader = HTTP1ResponseReader()
        var output: [UInt8] = []
        var total = 0
        do throws(HTTPClientError) {
            for _ in 0..<8 {
                try reader.startRequest(method: method, target: "/", fields: [("Host", "fuzz")],
                                        body: method == "POST" ? .known(1) : .empty, into: &output)
                if method == "POST" { try reader.sendBody([0x78], into: &output); try reader.sendEnd(into: &output) }
                output.removeAll(keepingCapacity: true)
                var decoder: HTTPContentDecoder?
                var decoderChecked = false
                while !reader.responseComplete || reader.hasChunk {
                    if reader.head != nil && !decoderChecked {
                        decoderChecked = true
                        decoder = try ResponseDecoding.decoder(for: reader.head!, method: .init(method)!, limit: 1 << 20)
                    }
                    if let chunk = reader.takeChunk() {
                        if let decoder {
                            var decoded: [UInt8] = []
                            try ResponseDecoding.decode(chunk, with: decoder, into: &decoded)
                            total += decoded.count
                        } else {
                            total += chunk.count
                        }
                        continue
                    }
                    if reader.responseComplete { break }
                    if stream.isEmpty {
                        try reader.receiveEndOfStream()
                        continue
                    }
                    let piece = Array(stream.prefix(readSize))
                    stream = stream.dropFirst(piece.count)
                    try reader.receive(piece)
                    try reader.checkHead()
                }
                if let decoder { try ResponseDecoding.finish(decoder) }
                guard reader.isReusable else { break }
            }
        } catch {
            return total
        }
        return total
    }
}
