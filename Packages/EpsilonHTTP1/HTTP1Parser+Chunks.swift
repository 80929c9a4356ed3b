// Chunked transfer coding (RFC 9112 §7.1):
//   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// Strict mode allows no whitespace around the size or the extensions' separators.

extension HTTP1Parser {
    mutating func parseChunkLine(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        let limit = configuration.maxChunkLineBytes
        let searchEnd = min(b.count, limit)
        let found = lineEnd(in: UnsafeRawBufferPointer(rebasing: b[0..<searchEnd]), from: 0)
        if case .failure(let error)? = found {
            // A bad byte before the bad line end is the first error.
            _ = try parseChunkSizeLine(b, 0..<(error.offset - streamOffset), complete: false)
            throw error
        }
        guard case .success(let end)? = found else {
            // A CR at the very end may yet be followed by LF.
            let partialEnd = searchEnd > 0 && b.byte(searchEnd - 1) == asciiCR ? searchEnd - 1 : searchEnd
            _ = try parseChunkSizeLine(b, 0..<partialEnd, complete: false)
            if b.count >= limit { throw HTTP1ParseError(.chunkLineTooLong, at: streamOffset + limit) }
            return HTTP1Step(.needMoreData, consumed: 0)
        }
        let (size, extensions) = try parseChunkSizeLine(b, 0..<end.contentEnd, complete: true)
        if size == 0 {
            state = .trailers(HeadProgress(startLineDone: true))
        } else {
            try countBody(size, at: 0)
            state = .chunkData(remaining: size)
        }
        return HTTP1Step(.chunkHeader(size: size, extensions: extensions), consumed: end.next)
    }

    /// Parses `chunk-size [chunk-ext]`; with `complete == false` only checks what arrived.
    func parseChunkSizeLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>, complete: Bool) throws(HTTP1ParseError) -> (UInt64, Range<Int>) {
        var i = line.lowerBound
        let end = line.upperBound
        var size: UInt64 = 0
        while i < end, let digit = hexValue(b.byte(i)) {
            guard size >> 60 == 0 else { throw HTTP1ParseError(.invalidChunkSize, at: streamOffset + i) }
            size = size << 4 | UInt64(digit)
            i += 1
        }
        if i == line.lowerBound && (i < end || complete) {
            throw HTTP1ParseError(.invalidChunkSize, at: streamOffset + i)
        }
        if configuration.leniencies.contains(.whitespaceAfterChunkSize) {
            while i < end, isWhitespace(b.byte(i)) { i += 1 }
        }
        let extensionsStart = i
        if i < end {
            guard b.byte(i) == 0x3B else { throw HTTP1ParseError(.invalidChunkSize, at: streamOffset + i) }
            try checkChunkExtensions(b, i..<end, complete: complete)
        }
        return (size, extensionsStart..<end)
    }

    /// Checks `*( ";" token [ "=" ( token / quoted-string ) ] )`.
    func checkChunkExtensions(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, complete: Bool) throws(HTTP1ParseError) {
        var i = range.lowerBound
        let end = range.upperBound
        let bws = configuration.leniencies.contains(.whitespaceAfterChunkSize)
        func fail(_ at: Int) -> HTTP1ParseError { HTTP1ParseError(.invalidChunkExtension, at: streamOffset + at) }
        while i < end {
            guard b.byte(i) == 0x3B else { throw fail(i) }
            i += 1
            if bws { while i < end, isWhitespace(b.byte(i)) { i += 1 } }
            let nameStart = i
            i = b.firstNonToken(from: i, to: end)
            if i == nameStart {
                if i == end && !complete { return }
                throw fail(i)
            }
            if bws { while i < end, isWhitespace(b.byte(i)) { i += 1 } }
            guard i < end, b.byte(i) == 0x3D else { continue }
            i += 1
            if bws { while i < end, isWhitespace(b.byte(i)) { i += 1 } }
            guard i < end else {
                if complete { throw fail(i) }
                return
            }
            if b.byte(i) == 0x22 {
                i = try skipQuotedString(b, from: i, to: end, complete: complete)
            } else {
                let valueStart = i
                i = b.firstNonToken(from: i, to: end)
                if i == valueStart { throw fail(i) }
            }
            if bws { while i < end, isWhitespace(b.byte(i)) { i += 1 } }
        }
    }

    /// RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE.
    /// Returns the index after the closing quote.
    func skipQuotedString(_ b: UnsafeRawBufferPointer, from start: Int, to end: Int, complete: Bool) throws(HTTP1ParseError) -> Int {
        var i = start + 1
        while i < end {
            let byte = b.byte(i)
            if byte == 0x22 { return i + 1 }
            if byte == 0x5C {
                i += 1
                guard i < end else { break }
                let escaped = b.byte(i)
                guard escaped == asciiHTAB || (escaped >= asciiSP && escaped != 0x7F) else {
                    throw HTTP1ParseError(.invalidChunkExtension, at: streamOffset + i)
                }
            } else if byte != asciiHTAB && (byte < asciiSP || byte == 0x7F) {
                throw HTTP1ParseError(.invalidChunkExtension, at: streamOffset + i)
            }
            i += 1
        }
        if complete { throw HTTP1ParseError(.invalidChunkExtension, at: streamOffset + end) }
        return end
    }

    /// Expects the CRLF after chunk data.
    mutating func parseChunkDataEnd(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        let lenient = configuration.leniencies
        guard b.count > 0 else { return HTTP1Step(.needMoreData, consumed: 0) }
        let first = b.byte(0)
        if first == asciiCR {
            guard b.count > 1 else { return HTTP1Step(.needMoreData, consumed: 0) }
            if b.byte(1) == asciiLF {
                state = .chunkLine
                return HTTP1Step(.chunkEnd, consumed: 2)
            }
            guard lenient.contains(.bareCR) else { throw HTTP1ParseError(.missingCRLFAfterChunk, at: streamOffset + 1) }
            state = .chunkLine
            return HTTP1Step(.chunkEnd, consumed: 1)
        }
        if first == asciiLF && lenient.contains(.bareLF) {
            state = .chunkLine
            return HTTP1Step(.chunkEnd, consumed: 1)
        }
        guard lenient.contains(.missingCRLFAfterChunk) else {
            throw HTTP1ParseError(.missingCRLFAfterChunk, at: streamOffset)
        }
        state = .chunkLine
        return HTTP1Step(.chunkEnd, consumed: 0)
    }
}

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}
