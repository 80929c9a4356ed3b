import EpsilonHTTP1
import EpsilonHTTPTypes
import HTTPTypes

/// The HTTP/1.1 machine's handler on the client side: keeps the final response head as an owned
/// value, and the body as ranges of the buffer being received (copied or taken whole after the
/// call, see ``HTTP1ClientConnection``).
struct ResponseCollector: HTTP1ConnectionHandler {
    /// The final response head, once received (1xx heads are skipped).
    var head: HTTPResponse?
    var headError: HTTPTypesBridgeError?
    /// Whether the head's response has a body that ends with the connection.
    var bodyUntilClose = false
    /// Body ranges, as offsets into the whole buffer given to `receive`.
    var bodyRanges: [Range<Int>] = []
    /// The response ended.
    var ended = false
    /// The start of the whole buffer `receive` was given, to rebase the event's offsets.
    var base: UnsafeRawPointer?
    /// The machine refuses every field value byte RFC 9110 §5.5 forbids (no leniency lets
    /// one through), so values need no second check.
    var valuesChecked = true

    /// Forgets the last response, keeping the buffers' capacity.
    mutating func reset() {
        head = nil
        headError = nil
        bodyUntilClose = false
        bodyRanges.removeAll(keepingCapacity: true)
        ended = false
    }

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer,
                         connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        switch event {
        case .head(let head):
            // RFC 9110 §15.2: 1xx responses are interim; the final response follows.
            guard head.status >= 200 else { return }
            // RFC 9112 §6.3 ¶4 lets a response whose last transfer coding is not chunked run to the
            // close, but its body would still be in a coding this client cannot undo: refuse it.
            if head.flags.contains(.transferEncoding) && head.framing == .untilClose {
                throw HTTP1ParseError(.transferEncodingNotChunked, at: head.length)
            }
            do {
                self.head = try HTTPResponse(http1Head: head, fields: connection.fields, in: bytes, valuesChecked: valuesChecked)
            } catch {
                headError = error
            }
            bodyUntilClose = head.framing == .untilClose
        case .body(let range):
            guard head != nil, let start = bytes.baseAddress, let base else { return }
            let shift = start - base
            let range = (range.lowerBound + shift)..<(range.upperBound + shift)
            if let last = bodyRanges.last, last.upperBound == range.lowerBound {
                bodyRanges[bodyRanges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                bodyRanges.append(range)
            }
        case .end:
            if head != nil { ended = true }
        default:
            break
        }
    }
}
