extension HTTP1Connection {
    /// Counts `count` bytes of the current message's body as sent by the caller itself,
    /// outside ``writeOutput(into:)`` (a server sending a file with `sendfile(2)`): the caller
    /// must first write out the output produced so far, then exactly these bytes, before any
    /// later output. Only for a body of known length (`Content-Length` framing).
    ///
    /// - Throws: ``HTTP1UsageError/noMessageInProgress`` without a message under way,
    ///   ``HTTP1UsageError/bodyNotAllowed`` for a message without a fixed-length body (chunked,
    ///   close-delimited, or none), ``HTTP1UsageError/bodyExceedsContentLength`` beyond the
    ///   declared length; nothing is counted then.
    public mutating func recordBodySentExternally(count: UInt64) throws(HTTP1UsageError) {
        guard lifecycle == .open else { throw .connectionClosed }
        guard case .body(let framing, let closeAfter) = outbound else { throw .noMessageInProgress }
        guard case .fixed(let remaining) = framing else { throw .bodyNotAllowed }
        guard count <= remaining else { throw .bodyExceedsContentLength }
        outbound = .body(.fixed(remaining: remaining - count), closeAfter: closeAfter)
    }
}
