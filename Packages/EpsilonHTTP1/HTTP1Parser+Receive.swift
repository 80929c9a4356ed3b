// The contract's `receive` verb (Documentation/DrivingAMachine.md): one call delivers every
// event the bytes hold, built on the single-step `parse`.

/// Receives the events an ``HTTP1Parser`` finds in the bytes given to
/// ``HTTP1Parser/receive(_:handler:)-(UnsafeRawBufferPointer,_)``, one call per event.
///
/// The handler is a generic parameter, so the compiler specializes the parser's loop for it:
/// no closure or existential per event.
public protocol HTTP1EventHandler {
    /// Handles one event.
    ///
    /// The event's ranges (a head's method, target and reason, a body piece, chunk
    /// extensions) and the ranges in `fields` are offsets into `bytes`, which are valid only
    /// during this call: copy what you keep. `fields` holds the fields of a
    /// ``HTTP1Event/head(_:)`` or ``HTTP1Event/trailers`` event (for other events, those of
    /// the last head or trailer section).
    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError)
}

extension HTTP1Parser {
    /// Parses every event `bytes` hold and hands each to `handler`, in order; returns how many
    /// bytes it consumed.
    ///
    /// `bytes` must begin with the bytes the previous call left unconsumed. Heads are handed
    /// out whole, as offsets into `bytes`, so an incomplete head stays unconsumed: keep
    /// `bytes[consumed...]`, append what arrives next and call again. Everything else (body
    /// pieces, chunk lines once whole, empty lines before a head) is consumed. The call
    /// returns early only after ``HTTP1Event/upgrade``: the bytes after the consumed count
    /// belong to the new protocol (or call ``declineUpgrade()`` and `receive` them again).
    /// ``HTTP1Event/needMoreData`` is never delivered.
    ///
    /// Throws the peer's ``HTTP1ParseError`` (the parser stays failed) or whatever the
    /// handler throws (the parser stays where that event left it).
    @inlinable
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, handler: inout some HTTP1EventHandler) throws(HTTP1ParseError) -> Int {
        var offset = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let step = try parse(rest)
            offset &+= step.consumed
            switch step.event {
            case .needMoreData:
                return offset
            case .upgrade:
                try handler.handle(step.event, bytes: rest, fields: fields)
                return offset
            default:
                try handler.handle(step.event, bytes: rest, fields: fields)
            }
        }
    }

    /// Parses every event `bytes` hold; see
    /// ``receive(_:handler:)-(UnsafeRawBufferPointer,_)``.
    @inlinable
    public mutating func receive(_ bytes: RawSpan, handler: inout some HTTP1EventHandler) throws(HTTP1ParseError) -> Int {
        try bytes.withUnsafeBytes { (buffer) throws(HTTP1ParseError) -> Int in
            try receive(buffer, handler: &handler)
        }
    }
}
