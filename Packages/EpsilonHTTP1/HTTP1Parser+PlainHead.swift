// The plain head in one pass (issue 19): a whole head at the start of the bytes, strict, HTTP/1.1,
// framed by Content-Length, `Transfer-Encoding: chunked` or nothing, is parsed, decided and
// moved past in one function, its framing fields recognized while the field lines are scanned
// (no candidate mask, no second pass over the names, no step stored and reloaded). Anything
// else (a head still arriving, leniencies, HTTP/1.0, CONNECT, Upgrade, Expect, 1xx, a limit
// reached, a byte the plain scan does not take) returns nil before any state changes, and
// `parse` takes the head from its first byte, so its events, errors and offsets are those of
// the general path. Tested against `parse` at every split (HTTP1PlainHeadTests).

extension HTTP1Parser {
    /// The framing fields of a plain head, as the field scan meets them.
    struct PlainFraming {
        var flags: HTTP1HeadFlags = []
        var hostCount = 0
        var contentLength: UInt64 = 0
    }

    /// The head at the start of `b` when it is whole and plain: the parser has moved past it
    /// (state, body length, stream offset, ``fields``) as `parse` would have. `nil` when
    /// `parse` must take it; then nothing but the unused slots of ``fields`` has changed.
    @usableFromInline
    mutating func plainHead(_ whole: UnsafeRawBufferPointer) -> HTTP1Head? {
        // Only a head's first attempt: one still arriving is left to `parse` (no rescans).
        guard progress.next == 0, !progress.partialLine, !pendingExpectContinue,
              configuration.leniencies.isEmpty else { return nil }
        let b = headWindow(whole)
        let count = b.count
        var method = 0..<0, target = 0..<0, reason = 0..<0
        var status = 0
        var fieldsStart: Int
        if role == .request {
            guard count > 16 else { return nil }
            // "GET " as one word, else a token scan; CONNECT (7 bytes) takes the general path.
            var methodEnd = 3
            if b.load32(0) != 0x2054_4547 {
                methodEnd = b.firstNonToken(from: 0, to: count)
                guard methodEnd > 0, methodEnd < count, methodEnd != 7, b.byte(methodEnd) == asciiSP else { return nil }
            }
            let targetStart = methodEnd &+ 1
            // The target's end from a mask of the first 64 bytes when the head has them.
            var targetEnd: Int
            let stops = count >= 64 ? b.notVisibleMask64(from: 0) &>> UInt64(targetStart) : 0
            if stops != 0 {
                targetEnd = targetStart &+ stops.trailingZeroBitCount
            } else {
                targetEnd = b.firstNonVisibleASCII(from: targetStart, to: count)
            }
            // SP "HTTP/1.1" CR LF after the target.
            guard targetEnd > targetStart, targetEnd &- targetStart <= configuration.maxTargetBytes,
                  targetEnd &+ 11 <= count, b.byte(targetEnd) == asciiSP,
                  b.word(targetEnd &+ 1) == 0x312E_312F_5054_5448,
                  b.load16(targetEnd &+ 9) == 0x0A0D else { return nil }
            method = 0..<methodEnd
            target = targetStart..<targetEnd
            fieldsStart = targetEnd &+ 11
        } else {
            // "HTTP/1.1" SP, three digits from 200, SP, a reason phrase, CR LF; a final response
            // to an ordinary request.
            guard requestKind == .ordinary, count > 16, b.word(0) == 0x312E_312F_5054_5448, b.byte(8) == asciiSP,
                  b.byte(12) == asciiSP else { return nil }
            let d0 = b.byte(9) &- 0x30, d1 = b.byte(10) &- 0x30, d2 = b.byte(11) &- 0x30
            guard d0 < 10, d1 < 10, d2 < 10, d0 >= 2 else { return nil }
            status = Int(d0) &* 100 &+ Int(d1) &* 10 &+ Int(d2)
            var i = 13
            while true {
                i = b.firstControlByte(from: i, to: count)
                guard i < count, b.byte(i) == asciiHTAB else { break }
                i &+= 1
            }
            guard i &+ 2 <= count, b.load16(i) == 0x0A0D else { return nil }
            reason = 13..<i
            fieldsStart = i &+ 2
        }

        // The field lines, into the slots ``fields`` holds (more are added when they run out).
        var framing = PlainFraming()
        var stored = 0
        var next = fieldsStart
        var length = -1
        let maxFields = configuration.maxFieldCount
        let slotsBefore = fields.count
        while true {
            let slotCount = fields.count
            length = fields.withUnsafeMutableBufferPointer { slots in
                Self.scanPlainFields(b, at: &next, slots: slots, stored: &stored, framing: &framing, maxFields: maxFields)
            }
            guard length == Self.slotsFull else { break }
            // Room for twice as many (the array keeps its capacity), never past the limit.
            let more = Swift.min(Swift.max(8, slotCount), maxFields &- slotCount)
            fields.append(contentsOf: repeatElement(HTTP1Field(name: 0..<0, value: 0..<0), count: more))
        }
        guard length >= 0, length <= configuration.maxHeadBytes else {
            // The slots added for this head go again: `parse` stores its fields as if they never came.
            if fields.count > slotsBefore { fields.removeLast(fields.count &- slotsBefore) }
            return nil
        }

        // What `decideHead` decides for such a head.
        let flags = framing.flags
        let hasTE = flags.contains(.transferEncoding)
        var framingKind: HTTP1Framing
        if role == .request {
            guard framing.hostCount == 1 else { return nil }
            if hasTE {
                guard !flags.contains(.contentLength) else { return nil }
                framingKind = .chunked
            } else {
                framingKind = framing.contentLength == 0 ? .none : .contentLength(framing.contentLength)
            }
        } else if status == 204 || status == 304 {
            framingKind = .none
        } else if hasTE {
            guard !flags.contains(.contentLength) else { return nil }
            framingKind = .chunked
        } else if flags.contains(.contentLength) {
            framingKind = framing.contentLength == 0 ? .none : .contentLength(framing.contentLength)
        } else {
            framingKind = .untilClose
        }
        var keepAlive = !flags.contains(.connectionClose)
        switch framingKind {
        case .contentLength(let n):
            if let limit = configuration.maxBodyBytes, n > limit { return nil }
            state = .fixedBody
            remaining = n
        case .chunked:
            state = .chunkLine
        case .untilClose:
            keepAlive = false
            state = .bodyUntilClose
        case .none:
            state = .messageEnd
        }
        if fields.count > stored { fields.removeLast(fields.count &- stored) }
        messageKeepsAlive = keepAlive
        messageUpgrades = false
        bodyBytesSeen = 0
        pendingInformational = false
        streamOffset &+= length
        return HTTP1Head(
            method: method, target: target, status: status, reason: reason, version: .http11,
            framing: framingKind, flags: flags, keepAlive: keepAlive, upgrade: false,
            expectsContinue: false, length: length
        )
    }

    /// ``scanPlainFields(_:at:slots:stored:framing:maxFields:)``: the slots ran out before the
    /// line at `next`.
    static var slotsFull: Int { -2 }

    /// Scans plain field lines from `next` (`name:` with a token name, a value of visible bytes,
    /// spaces and tabs, CR LF) into `slots` from `stored` on, noting the framing fields, up to
    /// the CR LF blank line. Returns the head's length at the blank line, ``slotsFull`` when
    /// every slot is used (`next` is the line to store next), or -1 for any other line or
    /// framing field (for the general path).
    @inline(__always)
    static func scanPlainFields(
        _ b: UnsafeRawBufferPointer, at next: inout Int, slots: UnsafeMutableBufferPointer<HTTP1Field>,
        stored: inout Int, framing: inout PlainFraming, maxFields: Int
    ) -> Int {
        let count = b.count
        var i = next
        defer { next = i }
        // Bit k of `control`: byte `block + k` is a control byte (``controlMask64(from:)``).
        var block = -1, control: UInt64 = 0
        while true {
            guard i < count else { return -1 }
            let first = b.byte(i)
            if first == asciiCR {
                guard i &+ 2 <= count, b.byte(i &+ 1) == asciiLF else { return -1 }
                return i &+ 2
            }
            let nameEnd = b.firstNonToken(from: i, to: count)
            guard nameEnd > i, nameEnd < count, b.byte(nameEnd) == asciiColon else { return -1 }
            var valueStart = nameEnd &+ 1
            while valueStart < count, isWhitespace(b.byte(valueStart)) { valueStart &+= 1 }
            // The line's end from the block's control mask, loaded again at this line's start
            // when the block holds no stop after the value's start.
            var lineEnd: Int
            var stops: UInt64 = 0
            if valueStart &- block < 64 { stops = control &>> UInt64(valueStart &- block) }
            if stops == 0, block != i, i &+ 64 <= count {
                block = i
                control = b.controlMask64(from: i)
                if valueStart &- i < 64 { stops = control &>> UInt64(valueStart &- i) }
            }
            if stops != 0 {
                lineEnd = valueStart &+ stops.trailingZeroBitCount
            } else {
                lineEnd = b.firstControlByteInlined(from: valueStart, to: count)
            }
            while lineEnd < count, b.byte(lineEnd) == asciiHTAB {
                lineEnd = b.firstControlByteInlined(from: lineEnd &+ 1, to: count)
            }
            guard lineEnd &+ 2 <= count, b.load16(lineEnd) == 0x0A0D, stored != maxFields else { return -1 }
            guard stored < slots.count else { return slotsFull }
            var valueEnd = lineEnd
            while valueEnd > valueStart, isWhitespace(b.byte(valueEnd &- 1)) { valueEnd &-= 1 }
            let nameLength = nameEnd &- i
            // Framing fields: length and first byte first, then the whole name.
            if nameLength < 32 && framingFirstBytes.utf8Start[nameLength] == first | 0x20 {
                guard notePlainFramingField(b, name: i..<nameEnd, value: valueStart..<valueEnd, into: &framing) else {
                    return -1
                }
            }
            slots.baseAddress.unsafelyUnwrapped[stored] = HTTP1Field(name: i..<nameEnd, value: valueStart..<valueEnd)
            stored &+= 1
            i = lineEnd &+ 2
        }
    }

    /// Notes a field whose length and first byte are those of a framing field; false when the
    /// field needs the general path (Upgrade, Expect, a second Content-Length or
    /// Transfer-Encoding, a value other than digits, `chunked`, `keep-alive` or `close`).
    /// Names are compared as words OR 0x20 (exact for token bytes against letters and `-`),
    /// values with ``Word/equalIgnoringCase(_:lowercase:)`` (exact for any bytes).
    @inline(__always)
    static func notePlainFramingField(_ b: UnsafeRawBufferPointer, name: Range<Int>, value: Range<Int>, into framing: inout PlainFraming) -> Bool {
        let at = name.lowerBound
        switch name.count {
        case 4:
            // "host"
            if b.load32(at) | 0x2020_2020 == 0x7473_6F68 { framing.hostCount &+= 1 }
            return true
        case 14:
            // "content-length": "content-" and "t-length"
            guard b.word(at) | 0x2020_2020_2020_2020 == 0x2D74_6E65_746E_6F63,
                  b.word(at &+ 6) | 0x2020_2020_2020_2020 == 0x6874_676E_656C_2D74 else { return true }
            // 1 to 19 digits cannot overflow.
            guard !framing.flags.contains(.contentLength), value.count > 0, value.count <= 19 else { return false }
            var n: UInt64 = 0
            for k in value {
                let digit = b.byte(k) &- 0x30
                guard digit < 10 else { return false }
                n = n &* 10 &+ UInt64(digit)
            }
            framing.contentLength = n
            framing.flags.insert(.contentLength)
            return true
        case 10:
            // "connection": "connecti" and "ion"
            guard b.word(at) | 0x2020_2020_2020_2020 == 0x6974_6365_6E6E_6F63,
                  b.load32(at &+ 6) | 0x2020_2020 == 0x6E6F_6974 else { return true }
            let v = value.lowerBound
            if value.count == 10 && Word.equalIgnoringCase(b.word(v), lowercase: 0x696C_612D_7065_656B)
                && Word.equalIgnoringCase(b.word(v &+ 2), lowercase: 0x6576_696C_612D_7065) {
                // "keep-alive": "keep-ali" and "ep-alive"
                framing.flags.insert(.connectionKeepAlive)
            } else if value.count == 5 && Word.equalIgnoringCase(UInt64(b.load32(v)), lowercase: 0x736F_6C63)
                        && b.byte(v &+ 4) | 0x20 == 0x65 {
                // "close": "clos" and "e" (only E and e OR 0x20 to "e")
                framing.flags.insert(.connectionClose)
            } else {
                return false
            }
            return true
        case 17:
            guard b.tokenEqualsIgnoringCase(name, "transfer-encoding") else { return true }
            guard !framing.flags.contains(.transferEncoding), b.equalsIgnoringCase(value, "chunked") else { return false }
            framing.flags.insert([.transferEncoding, .chunked])
            return true
        case 6:
            return !b.tokenEqualsIgnoringCase(name, "expect")
        case 7:
            return !b.tokenEqualsIgnoringCase(name, "upgrade")
        default:
            return true
        }
    }
}

extension HTTP1Parser {
    /// `finishMessage` after a head from ``plainHead(_:)`` without a body: no upgrade, no
    /// informational response, the head state untouched since the head began.
    @inlinable @inline(__always)
    mutating func endPlainMessage() {
        state = messageKeepsAlive ? .head : .closed
    }
}
