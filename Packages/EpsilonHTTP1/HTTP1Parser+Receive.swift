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
        // Chunk lines, their data and CRLFs in one loop (HTTP1Parser+ReceiveChunks.swift), from
        // wherever a chunk line comes next: here, after a head, 100-continue or a chunk's end.
        var offset = try continueChunks(bytes, from: 0, handler: &handler)
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            // A whole plain head in one call, decided and moved past; a head with no body ends
            // here too, so pipelined requests stay on this path.
            if state == .head, rest.count != 0, let head = plainHead(rest) {
                offset &+= head.length
                try handler.handle(.head(head), bytes: rest, fields: fields)
                if state == .messageEnd {
                    endPlainMessage()
                    // Based where `parse` would base it: just past the head.
                    try handler.handle(.end, bytes: UnsafeRawBufferPointer(rebasing: bytes[offset...]), fields: fields)
                } else {
                    offset = try continueChunks(bytes, from: offset, handler: &handler)
                }
                continue
            }
            // Body pieces, plain chunk lines, chunk ends, message ends and the end of the
            // bytes without a `parse` call and its step (the cases HTTP1Connection shares).
            if let quick = try quickStep(rest) {
                offset &+= quick.consumed
                switch quick.event {
                case .body(let range):
                    try handler.handle(.body(range), bytes: rest, fields: fields)
                case .chunkHeader(let size, let extensions):
                    try handler.handle(.chunkHeader(size: size, extensions: extensions), bytes: rest, fields: fields)
                case .chunkEnd:
                    try handler.handle(.chunkEnd, bytes: rest, fields: fields)
                    offset = try continueChunks(bytes, from: offset, handler: &handler)
                case .end:
                    try handler.handle(.end, bytes: rest, fields: fields)
                default:
                    return offset
                }
                continue
            }
            let step = try parse(rest)
            offset &+= step.consumed
            // Small events are rebuilt from their parts rather than passed on as read: a copy
            // of the whole event loads 16 bytes at a time what `parse` stored in narrower
            // pieces, a store-forwarding stall per event.
            switch step.event {
            case .needMoreData:
                return offset
            case .upgrade:
                try handler.handle(.upgrade, bytes: rest, fields: fields)
                return offset
            case .body(let range):
                try handler.handle(.body(range), bytes: rest, fields: fields)
            case .chunkHeader(let size, let extensions):
                try handler.handle(.chunkHeader(size: size, extensions: extensions), bytes: rest, fields: fields)
            case .chunkEnd:
                try handler.handle(.chunkEnd, bytes: rest, fields: fields)
                offset = try continueChunks(bytes, from: offset, handler: &handler)
            case .end:
                try handler.handle(.end, bytes: rest, fields: fields)
            case .expectContinue:
                try handler.handle(.expectContinue, bytes: rest, fields: fields)
                offset = try continueChunks(bytes, from: offset, handler: &handler)
            case .trailers:
                try handler.handle(.trailers, bytes: rest, fields: fields)
            case .head:
                try handler.handle(step.event, bytes: rest, fields: fields)
                offset = try continueChunks(bytes, from: offset, handler: &handler)
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
