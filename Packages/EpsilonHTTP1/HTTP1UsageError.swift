/// A call on an ``HTTP1Connection`` that its state does not allow.
///
/// A usage error is the application's mistake, not the peer's: the connection is left as it
/// was (nothing is written), and the call can be made again correctly.
public enum HTTP1UsageError: Error, Sendable, Equatable {
    /// A server sent a response head with no request left to answer.
    case noRequestToAnswer
    /// A head was sent while the previous message's body had not ended (responses go out
    /// strictly in request order: end one before starting the next).
    case messageInProgress
    /// Body or end was sent with no message head sent before it.
    case noMessageInProgress
    /// Body bytes for a message that has no content (a response to HEAD, a 1xx, 204 or 304
    /// response, a CONNECT request), or a 1xx/204 response declared a body length.
    case bodyNotAllowed
    /// More body bytes than the declared Content-Length.
    case bodyExceedsContentLength
    /// The message ended before all its declared Content-Length bytes were sent.
    case bodyIncomplete
    /// `100 Continue` sent for a request that did not ask for it, or twice, or after its
    /// response started.
    case continueNotExpected
    /// Content-Length or Transfer-Encoding passed as a field: the connection frames bodies
    /// itself from the `body` argument.
    case framingField
    /// A send that belongs to the other role (a server sending a request, a client a response).
    case wrongRole
    /// The connection is closed or switched protocols: nothing more can be sent on it.
    case connectionClosed
    /// A start line, field or trailer that the serializer rejects (CR, LF or NUL in a value,
    /// a name that is not a token, ...).
    case invalidHead(HTTP1SerializeError)
}

/// How long the body of a message an ``HTTP1Connection`` sends is, which decides its framing.
public enum HTTP1BodyLength: Sendable, Equatable {
    /// No content (`Content-Length: 0` where a length is due).
    case empty
    /// Exactly this many bytes (`Content-Length`).
    case known(UInt64)
    /// Not known in advance: chunked for an HTTP/1.1 peer, delimited by closing the connection
    /// for a response to an HTTP/1.0 request.
    case unknown
}
