// `receive`'s loop over a chunked body (RFC 9112 §7.1): a chunk-size line, the data already
// in the buffer and the CRLF after it, chunk after chunk in one pass, then the last chunk and an empty
// trailer section, each event handed out as soon as it is read. Positions, sizes and the body
// count stay in registers: the parser's stored state is written only on the way out, and when a
// handler throws (it then stands where that event left it). The handler cannot see the parser
// in between: `receive` holds it exclusively.
// Anything unusual (a partial line or CRLF, a bare LF, a missing CRLF, trailer fields) is left
// to `parse`, which reads it exactly as before: same events, errors and offsets at every split
// (HTTP1ChunkLoopTests).

extension HTTP1Parser {
    /// Whether the parser is at a chunk-size line, where `receive` runs `receiveChunks`. In
    /// chunk data or at the CRLF after it (a call that begins mid-chunk), `receive` takes
    /// quick steps to the chunk's end first.
    @inlinable @inline(__always)
    var isAtChunkLine: Bool { state == .chunkLine && !pendingExpectContinue }

    /// Runs ``receiveChunks(_:from:handler:)`` if the parser is at a chunk-size line; returns
    /// where it stopped (`start` otherwise).
    @inlinable @inline(__always)
    mutating func continueChunks(_ bytes: UnsafeRawBufferPointer, from start: Int,
                                 handler: inout some HTTP1EventHandler) throws(HTTP1ParseError) -> Int {
        isAtChunkLine ? try receiveChunks(bytes, from: start, handler: &handler) : start
    }

    /// Hands `handler` the events of the chunks in `bytes` from `start` (a chunk-size line)
    /// on, while they are of the usual form, and returns the offset it stopped at: where
    /// `receive` goes on (the end of the bytes, the next message, or something only `parse`
    /// reads).
    @inlinable
    mutating func receiveChunks(_ bytes: UnsafeRawBufferPointer, from start: Int,
                                handler: inout some HTTP1EventHandler) throws(HTTP1ParseError) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let end = bytes.count
        var at = start
        // The stream offset of `bytes[at]` is `origin + at`; it and the body bytes so far are
        // stored on the way out.
        let origin = streamOffset &- start
        var seen = bodyBytesSeen
        let lineLimit = configuration.maxChunkLineBytes
        let bodyLimit = configuration.maxBodyBytes ?? .max
        while true {
            let line = UnsafeRawBufferPointer(start: base + at, count: end &- at)
            let size: UInt64
            let extensions: Range<Int>
            let consumed: Int
            if let (plainSize, digits) = plainChunkSize(line, lineLimit: lineLimit) {
                size = plainSize
                extensions = digits..<digits
                consumed = digits &+ 2
            } else {
                streamOffset = origin &+ at
                let read: (UInt64, Range<Int>, Int)?
                do {
                    read = try readChunkLine(line)
                } catch {
                    bodyBytesSeen = seen
                    fail(error)
                    throw error
                }
                guard let read else {
                    bodyBytesSeen = seen
                    return at
                }
                (size, extensions, consumed) = read
            }
            if size == 0 {
                bodyBytesSeen = seen
                enterTrailers()
                streamOffset = origin &+ at &+ consumed
                try handler.handle(.chunkHeader(size: 0, extensions: extensions), bytes: line, fields: fields)
                return try receiveEmptyTrailers(bytes, from: at &+ consumed, handler: &handler)
            }
            // The chunk counts against the body limit as its line is read, at the line's start.
            seen &+= size
            guard seen <= bodyLimit else {
                bodyBytesSeen = seen
                streamOffset = origin &+ at
                let error = HTTP1ParseError(.bodyTooLarge, at: origin &+ at)
                fail(error)
                throw error
            }
            at &+= consumed
            do {
                try handler.handle(.chunkHeader(size: size, extensions: extensions), bytes: line, fields: fields)
            } catch {
                park(.chunkData, remaining: size, at: origin &+ at, seen: seen)
                throw error
            }

            // The usual case: the whole data is here, with room for the CRLF after it. A branch,
            // not a select: the next chunk's offset then waits on the size alone.
            let available = end &- at
            let data = UnsafeRawBufferPointer(start: base + at, count: available)
            guard size &+ 2 <= UInt64(available) else {
                // Otherwise hand out what is here (none: wait for it, as `parse` does) and stop.
                guard available > 0 else {
                    park(.chunkData, remaining: size, at: origin &+ at, seen: seen)
                    return at
                }
                let n = UInt64(available) < size ? available : Int(truncatingIfNeeded: size)
                let left = size &- UInt64(n)
                let state: State = left == 0 ? .chunkDataEnd : .chunkData
                do {
                    try handler.handle(.body(0..<n), bytes: data, fields: fields)
                } catch {
                    park(state, remaining: left, at: origin &+ at &+ n, seen: seen)
                    throw error
                }
                park(state, remaining: left, at: origin &+ at &+ n, seen: seen)
                return at &+ n
            }
            let n = Int(truncatingIfNeeded: size)
            do {
                try handler.handle(.body(0..<n), bytes: data, fields: fields)
            } catch {
                park(.chunkDataEnd, remaining: 0, at: origin &+ at &+ n, seen: seen)
                throw error
            }
            at &+= n

            // The CRLF after the data (its room checked above); anything else is `parse`'s.
            guard bytes.pair(at) == crlfPair else {
                park(.chunkDataEnd, remaining: 0, at: origin &+ at, seen: seen)
                return at
            }
            do {
                try handler.handle(.chunkEnd, bytes: UnsafeRawBufferPointer(start: base + at, count: end &- at), fields: fields)
            } catch {
                park(.chunkLine, remaining: 0, at: origin &+ at &+ 2, seen: seen)
                throw error
            }
            at &+= 2
        }
    }

    /// Stores where `receiveChunks` stands, on its way out.
    @inlinable @inline(__always)
    mutating func park(_ state: State, remaining: UInt64, at position: Int, seen: UInt64) {
        self.state = state
        self.remaining = remaining
        streamOffset = position
        bodyBytesSeen = seen
    }

    /// After the last chunk: the end of an empty trailer section, if its CRLF is in `bytes`
    /// at `start`, then the end of the message. Returns where it stopped.
    @inlinable
    mutating func receiveEmptyTrailers(_ bytes: UnsafeRawBufferPointer, from start: Int,
                                       handler: inout some HTTP1EventHandler) throws(HTTP1ParseError) -> Int {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
        guard endEmptyTrailerSection(rest) else { return start }
        try handler.handle(.chunkEnd, bytes: rest, fields: fields)
        let after = start &+ 2
        finishMessage()
        try handler.handle(.end, bytes: UnsafeRawBufferPointer(rebasing: bytes[after...]), fields: fields)
        return after
    }

    /// The size of a chunk whose line is the usual one at the start of `rest`, whole: 1 to 15
    /// hex digits (so no overflow) and CRLF, within `lineLimit`; with the number of digits.
    /// Nil for any other line, which ``readChunkLine(_:)`` reads. Changes nothing.
    @inlinable @inline(__always)
    func plainChunkSize(_ rest: UnsafeRawBufferPointer, lineLimit: Int) -> (UInt64, Int)? {
        if let short = shortChunkSize(rest, lineLimit: lineLimit) { return short }
        let count = rest.count
        let scanEnd = count < 15 ? count : 15
        var digits = 0
        var size: UInt64 = 0
        while digits < scanEnd {
            // Widened first, so the digit joins `size` without another extension.
            let byte = UInt64(rest.byte(digits))
            var digit = byte &- 0x30
            if digit > 9 {
                // a-f and A-F: setting bit 5 folds the capitals onto the small letters.
                digit = (byte | 0x20) &- 0x61
                guard digit < 6 else { break }
                digit &+= 10
            }
            size = size &<< 4 | digit
            digits &+= 1
        }
        guard digits > 0 && digits &+ 2 <= count && digits &+ 2 <= lineLimit
            && rest.pair(digits) == crlfPair else { return nil }
        return (size, digits)
    }
}

/// CR LF read as one little-endian 16-bit word.
@usableFromInline let crlfPair: UInt16 = 0x0A0D

extension UnsafeRawBufferPointer {
    /// The two bytes at `index` as one little-endian word; callers check `index + 2 <= count`.
    @inlinable @inline(__always)
    func pair(_ index: Int) -> UInt16 {
        UInt16(littleEndian: baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index, as: UInt16.self))
    }
}
