// Heads and trailer sections, line by line (RFC 9112 §2–§5), in one pass over each line:
// the value scan that checks bytes also finds the line end. A line still arriving is checked
// as far as it goes, so a bad byte is reported as soon as it is seen, and parsed again whole
// once it is complete. Field positions are stored relative to the buffer's first byte, which
// stays the head's first byte until the head is complete.

/// For each name length below 32, the lowercase first byte of the framing field of that
/// length (`host`, `expect`, `upgrade`, `connection`, `content-length`, `transfer-encoding`),
/// `0` where there is none (a name starting with `0` or 0x10 only costs a full compare).
let framingFirstBytes: StaticString = "0000h0eu00c000c00t00000000000000"

extension HTTP1Parser {
    /// Always inlined into the dispatch, so the head is built where the step `parse` returns
    /// goes (see ``decideHead(_:length:)``).
    @inline(__always)
    mutating func parseHead(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        if progress.next == 0 {
            // Nothing arrived: nothing to look at (the fields of the last head stay readable).
            if whole.count == 0 && configuration.maxHeadBytes >= 0 {
                progress.partialLine = false
                return HTTP1Step(.needMoreData, consumed: 0)
            }
            // RFC 9112 §2.2: ignore empty lines received before a request-line (and, as
            // browsers do, before a status-line).
            var skip = 0
            while skip < whole.count, whole.byte(skip) == asciiCR || whole.byte(skip) == asciiLF { skip += 1 }
            if skip > 0 {
                return try parseHeadAfterEmptyLines(whole, skip: skip)
            }
            if !progress.startLineDone {
                // The last head's fields stay until this head's are parsed over them.
                staleFields = true
                framingCandidates = 0
            }
        }
        let b = headWindow(whole)
        if !progress.startLineDone {
            guard let next = try parseStartLine(b, from: progress.next) else {
                return try waitForMore(b)
            }
            if next > configuration.maxHeadBytes {
                throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
            }
            progress.startLineDone = true
            progress.next = next
        }
        var end = parsePlainFieldLines(b) ?? -1
        while end < 0 {
            let start = progress.next
            let next: Int?
            if start < b.count, b.byte(start) == asciiCR || b.byte(start) == asciiLF {
                // The empty line that ends the head.
                guard let blank = try lineBreak(b, at: start) else { return try waitForMore(b) }
                if blank > configuration.maxHeadBytes {
                    throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
                }
                end = blank
                break
            } else {
                next = try parseFieldLine(b, from: start)
            }
            guard let next else { return try waitForMore(b) }
            if next > configuration.maxHeadBytes {
                throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
            }
            progress.next = next
        }
        let decided = try decideHead(b, length: end)
        let head = HTTP1Head(
            method: progress.method, target: progress.target,
            status: progress.status, reason: progress.reason,
            version: progress.version, framing: decided.framing, flags: decided.flags,
            keepAlive: decided.keepAlive, upgrade: decided.upgrade,
            expectsContinue: decided.expectsContinue, length: end
        )
        return HTTP1Step(.head(head), consumed: end)
    }

    /// Skips the `skip` empty-line bytes at the start of `whole` and parses the head that
    /// follows in the same call, so a buffer holding empty lines and a whole head reports the
    /// head, not `needMoreData` (RFC 9112 §2.2). The head's ranges and ``fields`` are shifted
    /// to index `whole`. Only the bytes before a head take this path, never a head's own.
    @inline(never)
    mutating func parseHeadAfterEmptyLines(_ whole: UnsafeRawBufferPointer, skip: Int) throws(HTTP1ParseError) -> HTTP1Step {
        if skip == whole.count { return HTTP1Step(.needMoreData, consumed: skip) }
        // The head's first byte is now at `skip`: offsets inside it count from there.
        streamOffset += skip
        defer { streamOffset -= skip }
        var step = try parseHead(UnsafeRawBufferPointer(rebasing: whole[skip...]))
        step.consumed += skip
        if case .head(var head) = step.event {
            head.method = head.method.shifted(by: skip)
            head.target = head.target.shifted(by: skip)
            head.reason = head.reason.shifted(by: skip)
            for index in fields.indices {
                fields[index].name = fields[index].name.shifted(by: skip)
                fields[index].value = fields[index].value.shifted(by: skip)
            }
            step.event = .head(head)
        }
        return step
    }

    /// The fast path: takes field lines from `progress.next` on as long as each is whole and
    /// plain (`name:` with a token name, a value of visible bytes, spaces and tabs, CRLF, under
    /// every limit) in one straight scan, and reports the head if its CRLF blank line follows.
    /// Any other line (still arriving, folded, lenient, malformed, over a limit) is left at
    /// `progress.next` for ``parseFieldLine(_:from:)``, which parses it the same way or
    /// reports it. Returns the head's length when its blank line was reached, else `nil`.
    ///
    /// Fields go into the slots the array already holds (stale ones of the last head) under
    /// one uniqueness check, then are appended; the array is cut to the fields parsed on exit.
    mutating func parsePlainFieldLines(_ b: UnsafeRawBufferPointer) -> Int? {
        let limits = PlainLineLimits(maxHead: configuration.maxHeadBytes, maxFields: configuration.maxFieldCount)
        var stored = staleFields ? 0 : fields.count
        staleFields = false
        var candidates = framingCandidates
        var i = progress.next
        var line = PlainLine.other
        if stored < fields.count {
            fields.withUnsafeMutableBufferPointer { slots in
                while stored < slots.count {
                    line = Self.plainLine(b, at: i, stored: stored, limits: limits)
                    guard case .field(let field, let next) = line else { return }
                    slots[stored] = field
                    candidates |= Self.framingCandidateBit(b, field.name, index: stored)
                    stored &+= 1
                    i = next
                }
                line = .other
            }
        }
        if case .other = line {
            while true {
                line = Self.plainLine(b, at: i, stored: stored, limits: limits)
                guard case .field(let field, let next) = line else { break }
                fields.append(field)
                candidates |= Self.framingCandidateBit(b, field.name, index: stored)
                stored &+= 1
                i = next
            }
        }
        if fields.count > stored { fields.removeLast(fields.count &- stored) }
        framingCandidates = candidates
        progress.next = i
        if case .end(let end) = line { return end }
        return nil
    }

    struct PlainLineLimits {
        var maxHead: Int
        var maxFields: Int
    }

    enum PlainLine {
        /// A plain field line, and where the next line starts.
        case field(HTTP1Field, next: Int)
        /// The CRLF blank line: the head ends here.
        case end(Int)
        /// Anything else: for the line-by-line path.
        case other
    }

    /// The line at `i`, if it is a plain field line or the CRLF that ends the head, whole and
    /// within the limits (`stored` fields are stored already).
    @inline(__always)
    static func plainLine(_ b: UnsafeRawBufferPointer, at i: Int, stored: Int, limits: PlainLineLimits) -> PlainLine {
        let count = b.count
        guard i < count else { return .other }
        if b.byte(i) == asciiCR {
            let end = i &+ 2
            guard end <= count, b.byte(i &+ 1) == asciiLF, end <= limits.maxHead else { return .other }
            return .end(end)
        }
        let nameEnd = b.firstNonToken(from: i, to: count)
        guard nameEnd > i, nameEnd < count, b.byte(nameEnd) == asciiColon else { return .other }
        var valueStart = nameEnd &+ 1
        while valueStart < count, isWhitespace(b.byte(valueStart)) { valueStart &+= 1 }
        var lineEnd = valueStart
        while true {
            lineEnd = b.firstControlByteInlined(from: lineEnd, to: count)
            guard lineEnd < count, b.byte(lineEnd) == asciiHTAB else { break }
            lineEnd &+= 1
        }
        let next = lineEnd &+ 2
        guard next <= count, b.byte(lineEnd) == asciiCR, b.byte(lineEnd &+ 1) == asciiLF,
              next <= limits.maxHead, stored != limits.maxFields else { return .other }
        var valueEnd = lineEnd
        while valueEnd > valueStart, isWhitespace(b.byte(valueEnd &- 1)) { valueEnd &-= 1 }
        return .field(HTTP1Field(name: i..<nameEnd, value: valueStart..<valueEnd), next: next)
    }

    /// The ``framingCandidates`` bit of field `index` if its name's length and first byte are
    /// those of a framing field, else 0.
    @inline(__always)
    static func framingCandidateBit(_ b: UnsafeRawBufferPointer, _ name: Range<Int>, index: Int) -> UInt64 {
        let length = name.count
        guard length < 32 && framingFirstBytes.utf8Start[length] == b.byte(name.lowerBound) | 0x20 else { return 0 }
        return 1 &<< UInt64(Swift.min(index, 63))
    }

    /// Stores a field, marking it in ``framingCandidates`` if its length and first byte are
    /// those of a framing field.
    @inline(__always)
    mutating func appendField(_ b: UnsafeRawBufferPointer, name: Range<Int>, value: Range<Int>) {
        framingCandidates |= Self.framingCandidateBit(b, name, index: fields.count)
        fields.append(HTTP1Field(name: name, value: value))
    }

    mutating func parseTrailers(_ whole: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        if progress.next == 0 {
            fields.removeAll(keepingCapacity: true)
            framingCandidates = 0
        }
        let b = headWindow(whole)
        while true {
            let start = progress.next
            if start < b.count, b.byte(start) == asciiCR || b.byte(start) == asciiLF {
                // RFC 9112 §7.1.2: the trailer section ends with an empty line.
                guard let end = try lineBreak(b, at: start) else { return try waitForMore(b) }
                if fields.isEmpty {
                    state = .messageEnd
                    return HTTP1Step(.chunkEnd, consumed: end)
                }
                state = .lastChunkEnd
                return HTTP1Step(.trailers, consumed: end)
            }
            guard let next = try parseFieldLine(b, from: start) else { return try waitForMore(b) }
            if next > configuration.maxHeadBytes {
                throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
            }
            progress.next = next
        }
    }

    /// The bytes a head or trailer section is parsed from: at most one past `maxHeadBytes`,
    /// enough to see that a head is too large. Nothing further is looked at, so a whole buffer
    /// cannot report a bad byte past the limit that the same stream arriving in pieces fails
    /// on with `headTooLarge` first: the error is the same however the stream is split.
    @inline(__always)
    func headWindow(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let limit = configuration.maxHeadBytes
        guard limit >= 0, b.count - 1 > limit else { return b }
        return UnsafeRawBufferPointer(rebasing: b[..<(limit + 1)])
    }

    /// Keeps the lines parsed so far; the line being received is parsed again, whole, once
    /// more bytes arrive (its bytes were already checked as far as they went).
    mutating func waitForMore(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        if b.count > configuration.maxHeadBytes {
            throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
        }
        progress.partialLine = b.count > progress.next
        return HTTP1Step(.needMoreData, consumed: 0)
    }

    /// The start of the next line after the line break at `e` (a CR or LF), or `nil` when the
    /// byte after a CR has not arrived. Throws on a bare CR or LF unless allowed (RFC 9112 §2.2).
    @inline(__always)
    func lineBreak(_ b: UnsafeRawBufferPointer, at e: Int) throws(HTTP1ParseError) -> Int? {
        if b.byte(e) == asciiCR {
            guard e + 1 < b.count else { return nil }
            if b.byte(e + 1) == asciiLF { return e + 2 }
            guard configuration.leniencies.contains(.bareCR) else {
                throw HTTP1ParseError(.bareCR, at: streamOffset + e)
            }
            return e + 1
        }
        guard configuration.leniencies.contains(.bareLF) else {
            throw HTTP1ParseError(.bareLF, at: streamOffset + e)
        }
        return e + 1
    }

    // MARK: Start line

    /// Parses the start line at `start`; returns where the next line starts, or `nil` if the
    /// line has not fully arrived.
    /// Records the line's parts in ``progress`` (mutating rather than taking `progress` inout,
    /// which would copy the whole parser to keep the accesses exclusive).
    mutating func parseStartLine(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        switch role {
        case .request: try parseRequestLine(b, from: start)
        case .response: try parseStatusLine(b, from: start)
        }
    }

    /// RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    mutating func parseRequestLine(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        let count = b.count
        let methodEnd = b.firstNonToken(from: start, to: count)
        guard methodEnd < count else { return nil }
        if methodEnd == start { throw HTTP1ParseError(.invalidMethod, at: streamOffset + start) }
        guard b.byte(methodEnd) == asciiSP else {
            throw HTTP1ParseError(.expectedSpaceAfterMethod, at: streamOffset + methodEnd)
        }
        let targetStart = methodEnd + 1
        let targetEnd = b.firstNonVisibleASCII(from: targetStart, to: count)
        if targetEnd - targetStart > configuration.maxTargetBytes {
            throw HTTP1ParseError(.targetTooLong, at: streamOffset + targetStart + configuration.maxTargetBytes)
        }
        guard targetEnd < count else { return nil }
        if targetEnd == targetStart { throw HTTP1ParseError(.invalidTarget, at: streamOffset + targetStart) }
        let stop = b.byte(targetEnd)
        guard stop == asciiSP else {
            // RFC 9112 has no HTTP/0.9 request-line: a line ending here lacks its version.
            let reason: HTTP1ParseError.Rule = stop == asciiCR || stop == asciiLF ? .invalidVersion : .invalidTarget
            throw HTTP1ParseError(reason, at: streamOffset + targetEnd)
        }
        let versionStart = targetEnd + 1
        guard let version = try parseVersion(b, versionStart) else { return nil }
        let lineEnd = versionStart + 8
        guard lineEnd < count else { return nil }
        let terminator = b.byte(lineEnd)
        guard terminator == asciiCR || terminator == asciiLF else {
            throw HTTP1ParseError(.invalidVersion, at: streamOffset + lineEnd)
        }
        guard let next = try lineBreak(b, at: lineEnd) else { return nil }
        progress.method = start..<methodEnd
        progress.target = targetStart..<targetEnd
        progress.version = version
        return next
    }

    /// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    /// (a missing SP before an empty reason is accepted, as every client does).
    mutating func parseStatusLine(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        let count = b.count
        guard let version = try parseVersion(b, start) else { return nil }
        let spaceAt = start + 8
        guard spaceAt < count else { return nil }
        guard b.byte(spaceAt) == asciiSP else { throw HTTP1ParseError(.invalidVersion, at: streamOffset + spaceAt) }
        var status = 0
        for i in spaceAt + 1...spaceAt + 3 {
            guard i < count else { return nil }
            let digit = b.byte(i) &- 0x30
            guard digit < 10 else { throw HTTP1ParseError(.invalidStatus, at: streamOffset + i) }
            status = status * 10 + Int(digit)
        }
        if status < 100 { throw HTTP1ParseError(.invalidStatus, at: streamOffset + spaceAt + 1) }
        var reasonStart = spaceAt + 4
        guard reasonStart < count else { return nil }
        let afterStatus = b.byte(reasonStart)
        if afterStatus == asciiSP {
            reasonStart += 1
        } else if afterStatus != asciiCR && afterStatus != asciiLF {
            throw HTTP1ParseError(.invalidStatus, at: streamOffset + reasonStart)
        }
        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
        var i = reasonStart
        while true {
            i = b.firstControlByte(from: i, to: count)
            guard i < count else { return nil }
            let byte = b.byte(i)
            if byte == asciiCR || byte == asciiLF { break }
            guard byte == asciiHTAB else { throw HTTP1ParseError(.invalidReasonPhrase, at: streamOffset + i) }
            i += 1
        }
        guard let next = try lineBreak(b, at: i) else { return nil }
        progress.version = version
        progress.status = status
        progress.reason = reasonStart..<i
        return next
    }

    /// RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. Returns `nil` when incomplete.
    /// Always inlined: a call from a mutating method would copy the whole parser first.
    @inline(__always)
    func parseVersion(_ b: UnsafeRawBufferPointer, _ start: Int) throws(HTTP1ParseError) -> HTTP1Version? {
        if start + 8 <= b.count {
            // The usual versions, compared as one word ("HTTP/1.1" and "HTTP/1.0", little-endian).
            switch b.word(start) {
            case 0x312E_312F_5054_5448: return .http11
            case 0x302E_312F_5054_5448: return .http10
            default: break
            }
        }
        let pattern: StaticString = "HTTP/0.0"
        var major: UInt8 = 0, minor: UInt8 = 0
        for k in 0..<8 {
            let i = start + k
            guard i < b.count else { return nil }
            let byte = b.byte(i)
            switch k {
            case 5, 7:
                let digit = byte &- 0x30
                guard digit < 10 else { throw HTTP1ParseError(.invalidVersion, at: streamOffset + i) }
                if k == 5 { major = digit } else { minor = digit }
            default:
                guard byte == pattern.utf8Start[k] else {
                    throw HTTP1ParseError(.invalidVersion, at: streamOffset + i)
                }
            }
        }
        let version = HTTP1Version(major: major, minor: minor)
        if version != .http11 && version != .http10 && !configuration.leniencies.contains(.anyVersion) {
            throw HTTP1ParseError(.unsupportedVersion, at: streamOffset + start + 5)
        }
        return version
    }

    // MARK: Field lines

    /// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. Returns where the next
    /// line starts, or `nil` if the line has not fully arrived.
    mutating func parseFieldLine(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        let count = b.count
        guard start < count else { return nil }
        let lenient = configuration.leniencies
        if isWhitespace(b.byte(start)) {
            return try parseFoldedLine(b, from: start)
        }
        let nameEnd = b.firstNonToken(from: start, to: count)
        guard nameEnd < count else { return nil }
        var colon = nameEnd
        let stop = b.byte(nameEnd)
        if stop != asciiColon {
            if stop == asciiCR || stop == asciiLF {
                throw HTTP1ParseError(.missingColon, at: streamOffset + nameEnd)
            }
            guard isWhitespace(stop), nameEnd > start else {
                throw HTTP1ParseError(.invalidFieldName, at: streamOffset + nameEnd)
            }
            guard lenient.contains(.whitespaceBeforeColon) else {
                throw HTTP1ParseError(.whitespaceBeforeColon, at: streamOffset + nameEnd)
            }
            while colon < count, isWhitespace(b.byte(colon)) { colon += 1 }
            guard colon < count else { return nil }
            guard b.byte(colon) == asciiColon else {
                throw HTTP1ParseError(.whitespaceBeforeColon, at: streamOffset + colon)
            }
        }
        if nameEnd == start { throw HTTP1ParseError(.invalidFieldName, at: streamOffset + start) }
        var valueStart = colon + 1
        while valueStart < count, isWhitespace(b.byte(valueStart)) { valueStart += 1 }
        let lineEnd = try scanFieldValue(b, from: valueStart)
        guard lineEnd < count, let next = try lineBreak(b, at: lineEnd) else { return nil }
        if fields.count == configuration.maxFieldCount {
            throw HTTP1ParseError(.tooManyFields, at: streamOffset + start)
        }
        var valueEnd = lineEnd
        while valueEnd > valueStart, isWhitespace(b.byte(valueEnd - 1)) { valueEnd -= 1 }
        appendField(b, name: start..<nameEnd, value: valueStart..<valueEnd)
        return next
    }

    /// RFC 9112 §5.2 obs-fold: a line that starts with whitespace continues the previous
    /// value; before the first field it is whitespace after the start line.
    mutating func parseFoldedLine(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        guard let last = fields.indices.last else {
            throw HTTP1ParseError(.whitespaceAfterStartLine, at: streamOffset + start)
        }
        guard configuration.leniencies.contains(.obsoleteLineFolding) else {
            throw HTTP1ParseError(.obsoleteLineFolding, at: streamOffset + start)
        }
        let lineEnd = try scanFieldValue(b, from: start)
        guard lineEnd < b.count, let next = try lineBreak(b, at: lineEnd) else { return nil }
        var contentStart = start
        while contentStart < lineEnd, isWhitespace(b.byte(contentStart)) { contentStart += 1 }
        var contentEnd = lineEnd
        while contentEnd > contentStart, isWhitespace(b.byte(contentEnd - 1)) { contentEnd -= 1 }
        if contentStart < contentEnd {
            let previous = fields[last].value
            fields[last].value = (previous.isEmpty ? contentStart : previous.lowerBound)..<contentEnd
        }
        return next
    }

    /// Checks a field value (RFC 9110 §5.5) up to its line break; returns the index of the
    /// CR or LF that ends it, or `b.count` if it has not arrived.
    @inline(__always)
    func scanFieldValue(_ b: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int {
        let count = b.count
        var i = start
        while true {
            i = b.firstControlByte(from: i, to: count)
            guard i < count else { return count }
            let byte = b.byte(i)
            if byte == asciiCR || byte == asciiLF { return i }
            if byte != asciiHTAB {
                // NUL is never accepted: it truncates values in C peers.
                guard byte != 0, configuration.leniencies.contains(.controlBytesInValues) else {
                    throw HTTP1ParseError(.invalidFieldValue, at: streamOffset + i)
                }
            }
            i += 1
        }
    }
}

extension Range<Int> {
    /// The range moved `delta` bytes further into the buffer.
    @inline(__always)
    func shifted(by delta: Int) -> Range<Int> { (lowerBound &+ delta)..<(upperBound &+ delta) }
}
