// Chunked transfer coding (RFC 9112 §7.1):
//   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// Strict mode allows no whitespace around the size or the extensions' separators.

extension HTTP1Parser {
    /// Inlined into the dispatch (like ``parseChunkDataEnd(_:)``) so its step is built in place.
    @inline(__always)
    mutating func parseChunkLine(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        if let (size, digits) = try plainChunkLine(whole) {
            return HTTP1Step(.chunkHeader(size: size, extensions: digits..<digits), consumed: digits &+ 2)
        }
        return try parseChunkLineInGeneral(whole)
    }

    /// The usual chunk-size line at the start of `whole`, whole (see
    /// ``plainChunkSize(_:lineLimit:)``): enters the chunk and returns its size and the number
    /// of digits, or returns nil for any other line, which the general path reads (the same
    /// way, for a line of this form). Small enough to come back in registers.
    @usableFromInline
    mutating func plainChunkLine(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (UInt64, Int)? {
        guard let (size, digits) = plainChunkSize(whole, lineLimit: configuration.maxChunkLineBytes) else { return nil }
        try startChunk(size: size)
        return (size, digits)
    }

    /// The usual chunk-size line (see ``plainChunkSize(_:lineLimit:)``) of a chunk with data
    /// at the start of `whole`: enters the chunk, consumes the line and returns the chunk's
    /// size and the number of digits. Nil, changing nothing, for any other line and for the
    /// last chunk. Errors leave the parser failed, as `parse` does.
    mutating func enterPlainChunk(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (UInt64, Int)? {
        guard let (size, digits) = plainChunkSize(whole, lineLimit: configuration.maxChunkLineBytes), size != 0 else {
            return nil
        }
        do {
            try countBody(size, at: 0)
        } catch {
            fail(error)
            throw error
        }
        state = .chunkData
        remaining = size
        streamOffset &+= digits &+ 2
        return (size, digits)
    }

    /// Enters the chunk (or the trailers after the last chunk) a chunk-size line announced.
    @inline(__always)
    mutating func startChunk(size: UInt64) throws(HTTP1ParseError) {
        if size == 0 {
            enterTrailers()
        } else {
            try countBody(size, at: 0)
            state = .chunkData
            remaining = size
        }
    }

    mutating func parseChunkLineInGeneral(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        guard let (size, extensions, next) = try readChunkLine(whole) else { return HTTP1Step(.needMoreData, consumed: 0) }
        try startChunk(size: size)
        return HTTP1Step(.chunkHeader(size: size, extensions: extensions), consumed: next)
    }

    /// Reads any chunk-size line at the start of `whole` within the line limit: its size, raw
    /// extensions and length, or nil if it has not fully arrived. Changes nothing.
    @usableFromInline
    func readChunkLine(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (UInt64, Range<Int>, Int)? {
        let limit = configuration.maxChunkLineBytes
        // Nothing past the limit is looked at, so a bad byte beyond it cannot be reported
        // from a whole buffer when the same line arriving in pieces fails on the limit first.
        let b = limit >= 0 && whole.count > limit ? UnsafeRawBufferPointer(rebasing: whole[..<limit]) : whole
        guard let (size, extensions, next) = try parseChunkSizeLine(b) else {
            if b.count >= limit { throw HTTP1ParseError(.chunkLineTooLong, at: streamOffset + limit) }
            return nil
        }
        if next > limit { throw HTTP1ParseError(.chunkLineTooLong, at: streamOffset + limit) }
        return (size, extensions, next)
    }

    /// Enters the trailer section after the last chunk's line.
    @usableFromInline
    mutating func enterTrailers() {
        state = .trailers
        progress = HeadProgress(startLineDone: true)
    }

    /// Ends an empty trailer section (RFC 9112 §7.1.2) whose CRLF begins `rest`, as
    /// `parseTrailers` does: clears the fields, consumes the CRLF and leaves the parser at the
    /// message's end, where ``HTTP1Event/chunkEnd`` is reported. False, changing nothing,
    /// for anything else (trailer fields, a bare LF, a partial line), which `parse` reads.
    @usableFromInline
    mutating func endEmptyTrailerSection(_ rest: UnsafeRawBufferPointer) -> Bool {
        // With a head limit of 0, `parse` fails the CRLF itself (headWindow keeps one byte).
        guard state == .trailers && progress.next == 0 && configuration.maxHeadBytes != 0
            && rest.count >= 2 && rest.pair(0) == crlfPair else { return false }
        fields.removeAll(keepingCapacity: true)
        framingCandidates = 0
        state = .messageEnd
        streamOffset &+= 2
        return true
    }

    /// Parses `chunk-size [chunk-ext] CRLF` at the start of `b`: the size, the raw
    /// extensions and where the chunk data starts, or `nil` if the line has not arrived.
    func parseChunkSizeLine(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (UInt64, Range<Int>, Int)? {
        let count = b.count
        var i = 0
        var size: UInt64 = 0
        while i < count, let digit = hexDigitValue(b.byte(i)) {
            guard size >> 60 == 0 else { throw HTTP1ParseError(.invalidChunkSize, at: streamOffset + i) }
            size = size << 4 | digit
            i += 1
        }
        guard i < count else { return nil }
        if i == 0 { throw HTTP1ParseError(.invalidChunkSize, at: streamOffset) }
        if configuration.leniencies.contains(.whitespaceAfterChunkSize) {
            while i < count, isWhitespace(b.byte(i)) { i += 1 }
            guard i < count else { return nil }
        }
        let extensionsStart = i
        var byte = b.byte(i)
        if byte == 0x3B {
            guard let end = try scanChunkExtensions(b, from: i) else { return nil }
            i = end
            byte = b.byte(i)
        }
        guard byte == asciiCR || byte == asciiLF else {
            let reason: HTTP1ParseError.Rule = i == extensionsStart ? .invalidChunkSize : .invalidChunkExtension
            throw HTTP1ParseError(reason, at: streamOffset + i)
        }
        guard let next = try lineBreak(b, at: i) else { return nil }
        return (size, extensionsStart..<i, next)
    }

    /// Checks `*( ";" token [ "=" ( token / quoted-string ) ] )` from `start`; returns the
    /// index of the byte that ends them, or `nil` if the buffer ends first.
    func scanChunkExtensions(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        var i = start
        let end = b.count
        let bws = configuration.leniencies.contains(.whitespaceAfterChunkSize)
        func fail(_ at: Int) -> HTTP1ParseError { HTTP1ParseError(.invalidChunkExtension, at: streamOffset + at) }
        func skipWhitespace() { if bws { while i < end, isWhitespace(b.byte(i)) { i += 1 } } }
        while i < end {
            guard b.byte(i) == 0x3B else { return i }
            i += 1
            skipWhitespace()
            let nameStart = i
            i = b.firstNonToken(from: i, to: end)
            guard i < end else { return nil }
            if i == nameStart { throw fail(i) }
            skipWhitespace()
            guard i < end else { return nil }
            guard b.byte(i) == 0x3D else { continue }
            i += 1
            skipWhitespace()
            guard i < end else { return nil }
            if b.byte(i) == 0x22 {
                guard let afterQuote = try skipQuotedString(b, from: i) else { return nil }
                i = afterQuote
            } else {
                let valueStart = i
                i = b.firstNonToken(from: i, to: end)
                guard i < end else { return nil }
                if i == valueStart { throw fail(i) }
            }
            skipWhitespace()
        }
        return nil
    }

    /// RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE.
    /// Returns the index after the closing quote, or `nil` if it has not arrived.
    func skipQuotedString(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        let end = b.count
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
        return nil
    }

    /// Expects the CRLF after chunk data.
    @inline(__always)
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
