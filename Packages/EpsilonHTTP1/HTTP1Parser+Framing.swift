// From a complete head to its framing and persistence (RFC 9112 §6.3, §9.3), checking the
// fields that decide them: Content-Length, Transfer-Encoding, Connection, Upgrade, Host, Expect.

extension HTTP1Parser {
    /// What the framing fields said, gathered in one pass over the names.
    struct FramingFields {
        var flags: HTTP1HeadFlags = []
        var contentLength: UInt64?
        var contentLengthAt = 0
        var transferEncodingAt = 0
        var chunkedIsFinal = false
        /// Where `chunked` was followed by another coding, if it was.
        var chunkedNotFinalAt: Int?
        var hostCount = 0
        var expectsContinue = false
    }

    /// What the framing fields of a head decide, small enough to come back in registers.
    struct HeadDecision {
        var framing: HTTP1Framing
        var flags: HTTP1HeadFlags
        var keepAlive: Bool
        var upgrade: Bool
        var expectsContinue: Bool
    }

    /// Decides the framing and persistence of the head whose fields are parsed and moves to its
    /// body. Returns the decision, not the head: a head returned through the calls was stored
    /// field by field and reloaded 16 bytes at a time by each caller (a store-forwarding stall
    /// per message); the dispatch builds it where its step goes (``parseHead(_:)``).
    mutating func decideHead(_ b: UnsafeRawBufferPointer, length: Int) throws(HTTP1ParseError) -> HeadDecision {
        var found = FramingFields()
        try readFramingFields(b, into: &found)
        if let decided = try decidePlainHead(found, length: length) { return decided }
        let lenient = configuration.leniencies
        var flags = found.flags
        let isRequest = role == .request
        let version = progress.version

        if isRequest && version == .http11 && found.hostCount != 1 && !lenient.contains(.missingHost) {
            throw HTTP1ParseError(.missingOrDuplicateHost, at: streamOffset + length - 1)
        }
        let hasTE = flags.contains(.transferEncoding)
        // RFC 9110 §9.3.6: a CONNECT request has no content; what follows its head is tunnel
        // data (as llhttp treats it), so framing fields there are refused or ignored.
        let isConnect = isRequest && b.equals(progress.method, "CONNECT")  // methods are case-sensitive (RFC 9110 §9.1)
        if isConnect && (hasTE || flags.contains(.contentLength)) && !lenient.contains(.framingFieldsInConnect) {
            let at = hasTE && flags.contains(.contentLength)
                ? min(found.contentLengthAt, found.transferEncodingAt)
                : hasTE ? found.transferEncodingAt : found.contentLengthAt
            throw HTTP1ParseError(.framingFieldInConnect, at: streamOffset + at)
        }
        if hasTE && flags.contains(.contentLength) && !isConnect {
            // RFC 9112 §6.3 ¶3: a likely smuggling attempt; TE wins only when allowed.
            guard lenient.contains(.contentLengthWithTransferEncoding) else {
                let at = min(found.contentLengthAt, found.transferEncodingAt)
                throw HTTP1ParseError(.contentLengthWithTransferEncoding, at: streamOffset + at)
            }
        }

        var framing: HTTP1Framing
        var upgrade = false
        var keepAlive: Bool
        if isConnect {
            // The message ends at the head; the connection becomes a tunnel.
            framing = .none
            upgrade = true
        } else if isRequest {
            if let at = found.chunkedNotFinalAt, !lenient.contains(.transferEncodingNotChunked) {
                throw HTTP1ParseError(.invalidTransferEncoding, at: streamOffset + at)
            }
            if hasTE {
                if found.chunkedIsFinal {
                    framing = .chunked
                } else if lenient.contains(.transferEncodingNotChunked)
                            || (lenient.contains(.contentLengthWithTransferEncoding) && flags.contains(.contentLength)) {
                    framing = .untilClose
                } else {
                    // RFC 9112 §6.3 ¶4: the request length cannot be determined.
                    throw HTTP1ParseError(.transferEncodingNotChunked, at: streamOffset + found.transferEncodingAt)
                }
            } else if let length = found.contentLength {
                framing = length == 0 ? .none : .contentLength(length)
            } else {
                framing = .none
            }
            if flags.contains(.upgradeField) && flags.contains(.connectionUpgrade) {
                upgrade = true
            }
        } else {
            let status = progress.status
            let noBody = requestKind == .head || status < 200 || status == 204 || status == 304
            if status == 101 || (requestKind == .connect && status / 100 == 2) {
                upgrade = true
                framing = .none
            } else if noBody {
                framing = .none
            } else if hasTE {
                framing = found.chunkedIsFinal ? .chunked : .untilClose
            } else if let length = found.contentLength {
                framing = length == 0 ? .none : .contentLength(length)
            } else {
                framing = .untilClose
            }
        }
        if !found.chunkedIsFinal { flags.remove(.chunked) }

        // RFC 9112 §9.3: persistence.
        if version.major == 1 && version.minor == 0 || version.major == 0 {
            keepAlive = flags.contains(.connectionKeepAlive) && !flags.contains(.connectionClose)
        } else {
            keepAlive = !flags.contains(.connectionClose)
        }
        if case .untilClose = framing { keepAlive = false }
        if lenient.contains(.keepAlive) { keepAlive = true }

        if case .contentLength(let length) = framing, let limit = configuration.maxBodyBytes, length > limit {
            throw HTTP1ParseError(.bodyTooLarge, at: streamOffset + found.contentLengthAt)
        }

        messageKeepsAlive = keepAlive
        messageUpgrades = upgrade
        bodyBytesSeen = 0
        let informational = !isRequest && progress.status < 200 && progress.status != 101
        switch framing {
        case .none: state = .messageEnd
        case .contentLength(let n):
            state = .fixedBody
            remaining = n
        case .chunked: state = .chunkLine
        case .untilClose: state = .bodyUntilClose
        }
        if informational {
            // RFC 9110 §15.2: a 1xx response precedes the final one to the same request.
            messageKeepsAlive = true
        }
        // RFC 9110 §10.1.1: a request without content has nothing to wait for; its expectation
        // needs no 100 and must not make the answer close the connection.
        let expectsContinue = isRequest && found.expectsContinue && framing != .none
        pendingInformational = informational
        pendingExpectContinue = expectsContinue
        return HeadDecision(framing: framing, flags: flags, keepAlive: keepAlive, upgrade: upgrade, expectsContinue: expectsContinue)
    }

    /// Reads the fields marked in ``framingCandidates``, in field order.
    ///
    /// This and the readers below change nothing but are `mutating`: calling a non-mutating
    /// method from the mutating `decideHead` copies the whole parser (a 218-byte memcpy) first.
    /// Fills `found` in place (returned, it was stored piecewise and copied out wholesale).
    /// The usual head, decided in a few tests: strict parsing, HTTP/1.1, framed by
    /// Content-Length or nothing (no Transfer-Encoding, Upgrade, Expect), not CONNECT, a final
    /// response to an ordinary request. Exactly what the general path below decides for it;
    /// `nil` for every other head.
    @inline(__always)
    mutating func decidePlainHead(_ found: FramingFields, length: Int) throws(HTTP1ParseError) -> HeadDecision? {
        let unusual: HTTP1HeadFlags = [.transferEncoding, .upgradeField, .connectionUpgrade, .chunked]
        guard configuration.leniencies.isEmpty, progress.version == .http11,
              found.flags.isDisjoint(with: unusual), !found.expectsContinue else { return nil }
        var framing: HTTP1Framing
        if role == .request {
            if found.hostCount != 1 {
                throw HTTP1ParseError(.missingOrDuplicateHost, at: streamOffset + length - 1)
            }
            // CONNECT (7 bytes) takes the general path.
            guard progress.method.count != 7 else { return nil }
            if let n = found.contentLength, n != 0 { framing = .contentLength(n) } else { framing = .none }
        } else {
            let status = progress.status
            guard status >= 200, requestKind == .ordinary else { return nil }
            if status == 204 || status == 304 {
                framing = .none
            } else if let n = found.contentLength {
                framing = n == 0 ? .none : .contentLength(n)
            } else {
                framing = .untilClose
            }
        }
        var keepAlive = !found.flags.contains(.connectionClose)
        switch framing {
        case .contentLength(let n):
            if let limit = configuration.maxBodyBytes, n > limit {
                throw HTTP1ParseError(.bodyTooLarge, at: streamOffset + found.contentLengthAt)
            }
            state = .fixedBody
            remaining = n
        case .untilClose:
            keepAlive = false
            state = .bodyUntilClose
        default:
            state = .messageEnd
        }
        messageKeepsAlive = keepAlive
        messageUpgrades = false
        bodyBytesSeen = 0
        pendingInformational = false
        pendingExpectContinue = false
        return HeadDecision(framing: framing, flags: found.flags, keepAlive: keepAlive, upgrade: false, expectsContinue: false)
    }

    mutating func readFramingFields(_ b: UnsafeRawBufferPointer, into found: inout FramingFields) throws(HTTP1ParseError) {
        var mask = framingCandidates
        while mask != 0 {
            let k = mask.trailingZeroBitCount
            mask &= mask &- 1
            if k < 63 {
                try readFramingField(b, fields[k], into: &found)
            } else {
                for index in 63..<fields.count { try readFramingField(b, fields[index], into: &found) }
            }
        }
    }

    @inline(__always)
    mutating func readFramingField(_ b: UnsafeRawBufferPointer, _ field: HTTP1Field, into found: inout FramingFields) throws(HTTP1ParseError) {
        let name = field.name, value = field.value
        // Host (every request) first, by one direct branch; the others apart, where LLVM's
        // jump table over the lengths cannot sit in front of Host.
        if name.count == 4 {
            if b.tokenEqualsIgnoringCase(name, "host") { found.hostCount += 1 }
            return
        }
        try readOtherFramingField(b, name: name, value: value, into: &found)
    }

    @inline(never)
    mutating func readOtherFramingField(_ b: UnsafeRawBufferPointer, name: Range<Int>, value: Range<Int>, into found: inout FramingFields) throws(HTTP1ParseError) {
        switch name.count {
        case 10 where b.tokenEqualsIgnoringCase(name, "connection"):
            readConnection(b, value, into: &found)
        case 14 where b.tokenEqualsIgnoringCase(name, "content-length"):
            try readContentLength(b, value, into: &found)
        case 17 where b.tokenEqualsIgnoringCase(name, "transfer-encoding"):
            try readTransferEncoding(b, value, into: &found)
        case 6 where b.tokenEqualsIgnoringCase(name, "expect"):
            if b.equalsIgnoringCase(value, "100-continue") { found.expectsContinue = true }
        case 7 where b.tokenEqualsIgnoringCase(name, "upgrade"):
            found.flags.insert(.upgradeField)
        default:
            break
        }
    }

    /// RFC 9110 §8.6: Content-Length = 1*DIGIT; a list of equal values only when allowed.
    mutating func readContentLength(_ b: UnsafeRawBufferPointer, _ value: Range<Int>, into found: inout FramingFields) throws(HTTP1ParseError) {
        let repeatable = configuration.leniencies.contains(.repeatedContentLength)
        if found.flags.contains(.contentLength) && !repeatable {
            throw HTTP1ParseError(.conflictingContentLength, at: streamOffset + value.lowerBound)
        }
        var i = value.lowerBound
        repeat {
            var length: UInt64 = 0
            let digitsStart = i
            while i < value.upperBound {
                let digit = b.byte(i) &- 0x30
                guard digit < 10 else { break }
                let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
                if overflow1 || overflow2 { throw HTTP1ParseError(.invalidContentLength, at: streamOffset + i) }
                length = sum
                i += 1
            }
            if i == digitsStart { throw HTTP1ParseError(.invalidContentLength, at: streamOffset + i) }
            if let previous = found.contentLength, previous != length {
                throw HTTP1ParseError(.conflictingContentLength, at: streamOffset + digitsStart)
            }
            found.contentLength = length
            guard i < value.upperBound else { break }
            // Only a comma list of equal values, and only when allowed.
            guard repeatable else { throw HTTP1ParseError(.invalidContentLength, at: streamOffset + i) }
            while i < value.upperBound, isWhitespace(b.byte(i)) { i += 1 }
            guard i < value.upperBound, b.byte(i) == 0x2C else {
                throw HTTP1ParseError(.invalidContentLength, at: streamOffset + i)
            }
            i += 1
            while i < value.upperBound, isWhitespace(b.byte(i)) { i += 1 }
        } while true
        found.flags.insert(.contentLength)
        found.contentLengthAt = value.lowerBound
    }

    /// RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; `chunked` at most once, and last.
    mutating func readTransferEncoding(_ b: UnsafeRawBufferPointer, _ value: Range<Int>, into found: inout FramingFields) throws(HTTP1ParseError) {
        // A folded value (lenient) is whitespace-separated like OWS; CR and LF count as such.
        func isSpace(_ byte: UInt8) -> Bool { isWhitespace(byte) || byte == asciiCR || byte == asciiLF }
        var sawCoding = false
        var i = value.lowerBound
        let end = value.upperBound
        while i < end {
            while i < end, isSpace(b.byte(i)) || b.byte(i) == 0x2C { i += 1 }
            guard i < end else { break }
            let codingStart = i
            i = b.firstNonToken(from: i, to: end)
            if i == codingStart { throw HTTP1ParseError(.invalidTransferEncoding, at: streamOffset + i) }
            if found.chunkedIsFinal, found.chunkedNotFinalAt == nil {
                // Something follows `chunked`: it is no longer the final coding (RFC 9112 §6.1).
                found.chunkedNotFinalAt = value.lowerBound
            }
            found.chunkedIsFinal = b.equalsIgnoringCase(codingStart..<i, "chunked")
            sawCoding = true
            while i < end, isSpace(b.byte(i)) { i += 1 }
            if i < end, b.byte(i) == 0x3B {
                // transfer-parameters: skip to the next comma.
                while i < end, b.byte(i) != 0x2C { i += 1 }
            } else if i < end, b.byte(i) != 0x2C {
                throw HTTP1ParseError(.invalidTransferEncoding, at: streamOffset + i)
            }
        }
        if !sawCoding { throw HTTP1ParseError(.invalidTransferEncoding, at: streamOffset + value.lowerBound) }
        if !found.flags.contains(.transferEncoding) { found.transferEncodingAt = value.lowerBound }
        found.flags.insert(.transferEncoding)
        if found.chunkedIsFinal { found.flags.insert(.chunked) }
    }

    /// RFC 9110 §7.6.1: Connection = #connection-option.
    mutating func readConnection(_ b: UnsafeRawBufferPointer, _ value: Range<Int>, into found: inout FramingFields) {
        // The usual value is one option: compared whole, it needs no list scan.
        switch value.count {
        case 10 where b.equalsIgnoringCase(value, "keep-alive"):
            found.flags.insert(.connectionKeepAlive)
            return
        case 5 where b.equalsIgnoringCase(value, "close"):
            found.flags.insert(.connectionClose)
            return
        case 7 where b.equalsIgnoringCase(value, "upgrade"):
            found.flags.insert(.connectionUpgrade)
            return
        default:
            break
        }
        var i = value.lowerBound
        let end = value.upperBound
        // A folded value (lenient) separates like OWS: CR and LF count as whitespace.
        func isSpace(_ byte: UInt8) -> Bool { isWhitespace(byte) || byte == asciiCR || byte == asciiLF }
        while i < end {
            while i < end, isSpace(b.byte(i)) || b.byte(i) == 0x2C { i += 1 }
            let tokenStart = i
            while i < end, b.byte(i) != 0x2C { i += 1 }
            var tokenEnd = i
            while tokenEnd > tokenStart, isSpace(b.byte(tokenEnd - 1)) { tokenEnd -= 1 }
            let token = tokenStart..<tokenEnd
            if b.equalsIgnoringCase(token, "close") {
                found.flags.insert(.connectionClose)
            } else if b.equalsIgnoringCase(token, "keep-alive") {
                found.flags.insert(.connectionKeepAlive)
            } else if b.equalsIgnoringCase(token, "upgrade") {
                found.flags.insert(.connectionUpgrade)
            }
        }
    }
}
