// HTTP1Connection's loop over a chunked body (RFC 9112 §7.1), as HTTP1Parser+ReceiveChunks.swift
// is the parser's: chunk-size line, the data already in the buffer, the CRLF after it, chunk
// after chunk, without the per-event checks and the state switch of `receive`'s loop. The
// handler sees the connection between events, so the parser's state is stored before each
// one; after each, the loop goes on only while the connection is open (a server may answer
// and close mid-body). The last chunk, trailers, and anything unusual are left to `receive`'s
// loop. Tested against `parse` at every split (HTTP1ChunkLoopTests).

extension HTTP1Connection {
    /// Hands `handler` the events of the chunks in `bytes` from `start` (a chunk-size line)
    /// on while they are of the usual form; returns the offset it stopped at.
    mutating func receiveChunks(_ bytes: UnsafeRawBufferPointer, from start: Int,
                                handler: inout some HTTP1ConnectionHandler) throws(HTTP1ParseError) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let end = bytes.count
        var at = start
        while lifecycle == .open {
            let line = UnsafeRawBufferPointer(start: base + at, count: end &- at)
            let chunk: (UInt64, Int)?
            do {
                chunk = try parser.enterPlainChunk(line)
            } catch {
                fail(error)
                throw error
            }
            guard let (size, digits) = chunk else { return at }
            at &+= digits &+ 2
            try handler.handle(.chunkHeader(size: size, extensions: digits..<digits), bytes: line, connection: &self)
            guard lifecycle == .open else { return at }

            // The data already here (none: wait for it, as `parse` does).
            let available = end &- at
            guard available > 0 else { return at }
            let n = UInt64(available) < size ? available : Int(size)
            let left = size &- UInt64(n)
            parser.remaining = left
            if left == 0 { parser.state = .chunkDataEnd }
            parser.streamOffset &+= n
            try handler.handle(.body(0..<n), bytes: UnsafeRawBufferPointer(start: base + at, count: available), connection: &self)
            at &+= n
            guard left == 0 && lifecycle == .open else { return at }

            // The CRLF after the data; anything else (or a partial CRLF) is `parse`'s.
            guard end &- at >= 2 && bytes.pair(at) == crlfPair else { return at }
            parser.state = .chunkLine
            parser.streamOffset &+= 2
            try handler.handle(.chunkEnd, bytes: UnsafeRawBufferPointer(start: base + at, count: end &- at), connection: &self)
            at &+= 2
        }
        return at
    }
}
