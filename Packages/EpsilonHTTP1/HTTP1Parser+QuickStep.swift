// The steps `receive` takes without `parse`, one at a time, for HTTP1Connection: its loop hands
// the connection to the handler between events (so it cannot sit inside the parser's
// `receive`), yet body pieces, plain chunk lines, chunk ends and message ends need not go
// through `parse` and its state switch. The same cases as the fast path of `receive`
// (HTTP1Parser+Receive.swift), which is tested against `parse` at every split.

extension HTTP1Parser {
    /// The next step when it is a body piece, a plain chunk line, a chunk end or a message end
    /// that needs no `parse` call (and no `100 Continue` is pending); nil when `parse` must run.
    /// Errors leave the parser failed, as `parse` does.
    @inlinable
    mutating func quickStep(_ rest: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step? {
        if pendingExpectContinue { return nil }
        switch state {
        case .fixedBody where rest.count > 0, .chunkData where rest.count > 0:
            let n = Int(Swift.min(UInt64(rest.count), remaining))
            remaining &-= UInt64(n)
            if remaining == 0 { state = state == .fixedBody ? .messageEnd : .chunkDataEnd }
            streamOffset &+= n
            return HTTP1Step(.body(0..<n), consumed: n)
        case .messageEnd:
            finishMessage()
            return HTTP1Step(.end, consumed: 0)
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
        default:
            return nil
        }
    }
}
