// Heads and trailer sections, line by line (RFC 9112 §2–§5). A line is parsed once its end
// has arrived; a line still arriving is checked as far as it goes, so a bad byte is reported
// as soon as it is seen. Field positions are stored relative to the buffer's first byte,
// which stays the head's first byte until the head is complete.

extension HTTP1Parser {
    /// What a line ending looks like once found.
    struct LineEnd {
        /// Where the line's content ends (at its CR or LF).
        var contentEnd: Int
        /// Where the next line starts.
        var next: Int
    }

    /// Finds the end of the line being scanned from `scanFrom`, or `nil` if it has not
    /// arrived. A forbidden terminator (bare CR or LF) is returned as an error for the
    /// caller to throw once it has checked the line's content, so that the first bad byte
    /// is reported whatever the split of the input.
    func lineEnd(in b: UnsafeRawBufferPointer, from scanFrom: Int) -> Result<LineEnd, HTTP1ParseError>? {
        guard let e = b.firstLineBreak(from: scanFrom, to: b.count) else { return nil }
        if b.byte(e) == asciiCR {
            guard e + 1 < b.count else { return nil }
            if b.byte(e + 1) == asciiLF { return .success(LineEnd(contentEnd: e, next: e + 2)) }
            guard configuration.leniencies.contains(.bareCR) else {
                return .failure(HTTP1ParseError(.bareCR, at: streamOffset + e))
            }
            return .success(LineEnd(contentEnd: e, next: e + 1))
        }
        guard configuration.leniencies.contains(.bareLF) else {
            return .failure(HTTP1ParseError(.bareLF, at: streamOffset + e))
        }
        return .success(LineEnd(contentEnd: e, next: e + 1))
    }

    /// The end of the line at `start`; `nil` if it has not arrived. Throws the first error in
    /// the line: a bad byte in its content before a bad terminator.
    func completeLine(_ b: UnsafeRawBufferPointer, progress: HeadProgress) throws(HTTP1ParseError) -> LineEnd? {
        let start = progress.next
        switch lineEnd(in: b, from: max(start, progress.scanned)) {
        case .none:
            return nil
        case .success(let end)?:
            return end
        case .failure(let error)?:
            let contentEnd = error.offset - streamOffset
            try checkPartialLine(UnsafeRawBufferPointer(rebasing: b[0..<contentEnd]), from: start, progress: progress)
            throw error
        }
    }

    mutating func parseHead(_ b: UnsafeRawBufferPointer, progress: inout HeadProgress) throws(HTTP1ParseError) -> HTTP1Step {
        if progress.next == 0 && progress.scanned == 0 {
            // RFC 9112 §2.2: ignore empty lines received before a request-line (and, as
            // browsers do, before a status-line).
            var skip = 0
            while skip < b.count, b.byte(skip) == asciiCR || b.byte(skip) == asciiLF { skip += 1 }
            if skip > 0 {
                return HTTP1Step(.needMoreData, consumed: skip)
            }
            fields.removeAll(keepingCapacity: true)
        }
        while true {
            let start = progress.next
            guard let end = try completeLine(b, progress: progress) else {
                try checkPartialLine(b, from: start, progress: progress)
                progress.scanned = resumePoint(b, lineStart: start)
                state = .head(progress)
                return HTTP1Step(.needMoreData, consumed: 0)
            }
            if end.next > configuration.maxHeadBytes {
                throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
            }
            if !progress.startLineDone {
                try parseStartLine(b, start..<end.contentEnd, into: &progress)
                progress.startLineDone = true
            } else if end.contentEnd == start {
                let head = try makeHead(b, progress: progress, length: end.next)
                return HTTP1Step(.head(head), consumed: end.next)
            } else {
                try parseFieldLine(b, start..<end.contentEnd, complete: true)
            }
            progress.next = end.next
            progress.scanned = end.next
        }
    }

    mutating func parseTrailers(_ b: UnsafeRawBufferPointer, progress: inout HeadProgress) throws(HTTP1ParseError) -> HTTP1Step {
        if progress.next == 0 && progress.scanned == 0 {
            fields.removeAll(keepingCapacity: true)
        }
        while true {
            let start = progress.next
            guard let end = try completeLine(b, progress: progress) else {
                try checkPartialLine(b, from: start, progress: progress)
                progress.scanned = resumePoint(b, lineStart: start)
                state = .trailers(progress)
                return HTTP1Step(.needMoreData, consumed: 0)
            }
            if end.next > configuration.maxHeadBytes {
                throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
            }
            if end.contentEnd == start {
                // RFC 9112 §7.1.2: the trailer section ends with an empty line.
                if fields.isEmpty {
                    state = .messageEnd
                    return HTTP1Step(.chunkEnd, consumed: end.next)
                }
                state = .lastChunkEnd
                return HTTP1Step(.trailers, consumed: end.next)
            }
            try parseFieldLine(b, start..<end.contentEnd, complete: true)
            progress.next = end.next
            progress.scanned = end.next
        }
    }

    /// Where to resume looking for the current line's end: a CR at the very end of the buffer
    /// must be looked at again once the byte after it arrives.
    func resumePoint(_ b: UnsafeRawBufferPointer, lineStart: Int) -> Int {
        if b.count > lineStart, b.byte(b.count - 1) == asciiCR { return b.count - 1 }
        return max(b.count, lineStart)
    }

    /// Checks the bytes of a line whose end has not arrived yet.
    func checkPartialLine(_ b: UnsafeRawBufferPointer, from start: Int, progress: HeadProgress) throws(HTTP1ParseError) {
        if b.count > configuration.maxHeadBytes {
            throw HTTP1ParseError(.headTooLarge, at: streamOffset + configuration.maxHeadBytes)
        }
        // A lone CR at the very end may yet be followed by LF.
        var end = b.count
        if end > start, b.byte(end - 1) == asciiCR { end -= 1 }
        guard end > start else { return }
        if progress.startLineDone {
            var scratch = self
            try scratch.parseFieldLine(b, start..<end, complete: false)
        } else {
            var scratch = progress
            try parseStartLine(b, start..<end, into: &scratch, complete: false)
        }
    }

    // MARK: Start line

    func parseStartLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>, into progress: inout HeadProgress, complete: Bool = true) throws(HTTP1ParseError) {
        switch role {
        case .request: try parseRequestLine(b, line, into: &progress, complete: complete)
        case .response: try parseStatusLine(b, line, into: &progress, complete: complete)
        }
    }

    /// RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    func parseRequestLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>, into progress: inout HeadProgress, complete: Bool) throws(HTTP1ParseError) {
        let start = line.lowerBound, end = line.upperBound
        let methodEnd = b.firstNonToken(from: start, to: end)
        if methodEnd == start { throw HTTP1ParseError(.invalidMethod, at: streamOffset + start) }
        guard methodEnd < end else {
            if complete { throw HTTP1ParseError(.expectedSpaceAfterMethod, at: streamOffset + end) }
            return
        }
        guard b.byte(methodEnd) == asciiSP else {
            throw HTTP1ParseError(.expectedSpaceAfterMethod, at: streamOffset + methodEnd)
        }
        let targetStart = methodEnd + 1
        let targetEnd = b.firstNonVisibleASCII(from: targetStart, to: end)
        if targetEnd - targetStart > configuration.maxTargetBytes {
            throw HTTP1ParseError(.targetTooLong, at: streamOffset + targetStart + configuration.maxTargetBytes)
        }
        if targetEnd == targetStart {
            if targetEnd == end && !complete { return }
            throw HTTP1ParseError(.invalidTarget, at: streamOffset + targetStart)
        }
        guard targetEnd < end else {
            // RFC 9112 has no HTTP/0.9 request-line: the version is required.
            if complete { throw HTTP1ParseError(.invalidVersion, at: streamOffset + end) }
            return
        }
        guard b.byte(targetEnd) == asciiSP else {
            throw HTTP1ParseError(.invalidTarget, at: streamOffset + targetEnd)
        }
        let versionStart = targetEnd + 1
        let version = try parseVersion(b, versionStart, end, complete: complete)
        if versionStart + 8 < end {
            throw HTTP1ParseError(.invalidVersion, at: streamOffset + versionStart + 8)
        }
        progress.method = start..<methodEnd
        progress.target = targetStart..<targetEnd
        if let version { progress.version = version }
    }

    /// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    func parseStatusLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>, into progress: inout HeadProgress, complete: Bool) throws(HTTP1ParseError) {
        let start = line.lowerBound, end = line.upperBound
        guard let version = try parseVersion(b, start, end, complete: complete) else { return }
        let spaceAt = start + 8
        guard spaceAt < end else {
            if complete { throw HTTP1ParseError(.invalidStatus, at: streamOffset + end) }
            return
        }
        guard b.byte(spaceAt) == asciiSP else { throw HTTP1ParseError(.invalidVersion, at: streamOffset + spaceAt) }
        var status = 0
        for k in 0..<3 {
            let i = spaceAt + 1 + k
            guard i < end else {
                if complete { throw HTTP1ParseError(.invalidStatus, at: streamOffset + i) }
                return
            }
            let digit = b.byte(i) &- 0x30
            guard digit < 10 else { throw HTTP1ParseError(.invalidStatus, at: streamOffset + i) }
            status = status * 10 + Int(digit)
        }
        if status < 100 { throw HTTP1ParseError(.invalidStatus, at: streamOffset + spaceAt + 1) }
        var reasonStart = spaceAt + 4
        if reasonStart < end {
            guard b.byte(reasonStart) == asciiSP else {
                throw HTTP1ParseError(.invalidStatus, at: streamOffset + reasonStart)
            }
            reasonStart += 1
        }
        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
        var i = reasonStart
        while i < end {
            i = b.firstControlByte(from: i, to: end)
            guard i < end else { break }
            guard b.byte(i) == asciiHTAB else {
                throw HTTP1ParseError(.invalidReasonPhrase, at: streamOffset + i)
            }
            i += 1
        }
        progress.version = version
        progress.status = status
        progress.reason = min(reasonStart, end)..<end
    }

    /// RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. Returns `nil` when incomplete.
    func parseVersion(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, complete: Bool) throws(HTTP1ParseError) -> HTTP1Version? {
        let pattern: StaticString = "HTTP/0.0"
        var major: UInt8 = 0, minor: UInt8 = 0
        for k in 0..<8 {
            let i = start + k
            guard i < end else {
                if complete { throw HTTP1ParseError(.invalidVersion, at: streamOffset + i) }
                return nil
            }
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
            throw HTTP1ParseError(.invalidVersion, at: streamOffset + start + 5)
        }
        return version
    }

    // MARK: Field lines

    /// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
    mutating func parseFieldLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>, complete: Bool) throws(HTTP1ParseError) {
        let start = line.lowerBound, end = line.upperBound
        let lenient = configuration.leniencies
        if isWhitespace(b.byte(start)) {
            // RFC 9112 §5.2 obs-fold; before the first field it is whitespace after the start line.
            guard let last = fields.indices.last else {
                throw HTTP1ParseError(.whitespaceAfterStartLine, at: streamOffset + start)
            }
            guard lenient.contains(.obsoleteLineFolding) else {
                throw HTTP1ParseError(.obsoleteLineFolding, at: streamOffset + start)
            }
            let valueEnd = try scanFieldValue(b, from: start, to: end)
            guard complete else { return }
            var contentStart = start
            while contentStart < valueEnd, isWhitespace(b.byte(contentStart)) { contentStart += 1 }
            if contentStart < valueEnd {
                let previous = fields[last].value
                let lower = previous.isEmpty ? contentStart : previous.lowerBound
                fields[last].value = lower..<valueEnd
            }
            return
        }
        let nameEnd = b.firstNonToken(from: start, to: end)
        guard nameEnd < end else {
            if complete { throw HTTP1ParseError(.missingColon, at: streamOffset + end) }
            return
        }
        var colon = nameEnd
        if b.byte(nameEnd) != asciiColon {
            guard isWhitespace(b.byte(nameEnd)), nameEnd > start else {
                throw HTTP1ParseError(.invalidFieldName, at: streamOffset + nameEnd)
            }
            guard lenient.contains(.whitespaceBeforeColon) else {
                throw HTTP1ParseError(.whitespaceBeforeColon, at: streamOffset + nameEnd)
            }
            while colon < end, isWhitespace(b.byte(colon)) { colon += 1 }
            guard colon < end else {
                if complete { throw HTTP1ParseError(.missingColon, at: streamOffset + end) }
                return
            }
            guard b.byte(colon) == asciiColon else {
                throw HTTP1ParseError(.whitespaceBeforeColon, at: streamOffset + colon)
            }
        }
        if nameEnd == start { throw HTTP1ParseError(.invalidFieldName, at: streamOffset + start) }
        var valueStart = colon + 1
        while valueStart < end, isWhitespace(b.byte(valueStart)) { valueStart += 1 }
        let valueEnd = try scanFieldValue(b, from: valueStart, to: end)
        guard complete else { return }
        if fields.count == configuration.maxFieldCount {
            throw HTTP1ParseError(.tooManyFields, at: streamOffset + start)
        }
        fields.append(HTTP1Field(name: start..<nameEnd, value: valueStart..<valueEnd))
    }

    /// Validates a field value (RFC 9110 §5.5) and returns where it ends without trailing OWS.
    func scanFieldValue(_ b: UnsafeRawBufferPointer, from start: Int, to end: Int) throws(HTTP1ParseError) -> Int {
        var i = start
        while true {
            i = b.firstControlByte(from: i, to: end)
            guard i < end else { break }
            let byte = b.byte(i)
            if byte != asciiHTAB {
                // NUL is never accepted: it truncates values in C peers.
                guard byte != 0, configuration.leniencies.contains(.controlBytesInValues) else {
                    throw HTTP1ParseError(.invalidFieldValue, at: streamOffset + i)
                }
            }
            i += 1
        }
        var valueEnd = end
        while valueEnd > start, isWhitespace(b.byte(valueEnd - 1)) { valueEnd -= 1 }
        return valueEnd
    }
}
