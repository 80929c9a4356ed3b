// The steps taken without `parse`, shared by the parser's `receive` (HTTP1Parser+Receive.swift)
// and HTTP1Connection's loop (which hands the connection to its handler between events, so it
// cannot sit inside the parser's `receive`): body pieces, plain chunk lines, chunk ends,
// message ends, and the end of the bytes between events, without `parse` and its state switch.
// Tested against `parse` at every split (HTTP1ReceiveFastPathTests).

extension HTTP1Parser {
    /// The next step when it is a body piece, a plain chunk line, a chunk end, a message end or
    /// `needMoreData` at the end of the bytes, and needs no `parse` call (and no `100 Continue`
    /// is pending); nil when `parse` must run. Does exactly what `parse` does in these cases;
    /// errors leave the parser failed, as `parse` does.
    @inlinable @inline(__always)
    mutating func quickStep(_ rest: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step? {
        if pendingExpectContinue { return nil }
        switch state {
        case .fixedBody, .chunkData:
            guard rest.count > 0 else { return HTTP1Step(.needMoreData, consumed: 0) }
            let n = Int(Swift.min(UInt64(rest.count), remaining))
            remaining &-= UInt64(n)
            if remaining == 0 { state = state == .fixedBody ? .messageEnd : .chunkDataEnd }
            streamOffset &+= n
            return HTTP1Step(.body(0..<n), consumed: n)
        case .messageEnd:
            finishMessage()
            return HTTP1Step(.end, consumed: 0)
        case .head where rest.count == 0:
            // Between messages with nothing left, or a head's bytes were dropped: as `parse`.
            return atEmptyHead() ? HTTP1Step(.needMoreData, consumed: 0) : nil
        case .bodyUntilClose where rest.count == 0, .closed where rest.count == 0:
            return HTTP1Step(.needMoreData, consumed: 0)
        case .chunkLine:
            let plain: (UInt64, Int)?
            do {
                plain = try plainChunkLine(rest)
            } catch {
                fail(error)
                throw error
            }
            guard let (size, digits) = plain else { return nil }
            streamOffset &+= digits &+ 2
            return HTTP1Step(.chunkHeader(size: size, extensions: digits..<digits), consumed: digits &+ 2)
        case .chunkDataEnd where rest.count >= 2 && rest.byte(0) == asciiCR && rest.byte(1) == asciiLF:
            state = .chunkLine
            streamOffset &+= 2
            return HTTP1Step(.chunkEnd, consumed: 2)
        case .trailers:
            // The empty trailer section after the last chunk (HTTP1Parser+Chunks.swift).
            return endEmptyTrailerSection(rest) ? HTTP1Step(.chunkEnd, consumed: 2) : nil
        default:
            return nil
        }
    }

    /// Whether a head that has not begun waits for bytes: `parse` answers `needMoreData` to
    /// no bytes there (and forgets a partial line the caller dropped).
    @usableFromInline
    mutating func atEmptyHead() -> Bool {
        guard progress.next == 0 && configuration.maxHeadBytes >= 0 else { return false }
        progress.partialLine = false
        return true
    }
}
