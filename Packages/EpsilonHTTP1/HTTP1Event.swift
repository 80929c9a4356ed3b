/// What an ``HTTP1Parser`` found in the bytes it was given.
///
/// Ranges are byte offsets into the buffer passed to the call that returned the event, valid
/// as long as the caller keeps those bytes.
public enum HTTP1Event: Equatable, Sendable {
    /// The buffer holds no complete event: keep the unconsumed bytes, add more, call again.
    case needMoreData
    /// A complete message head; its fields are in ``HTTP1Parser/fields``.
    case head(HTTP1Head)
    /// The request asked for `100 Continue` before sending its body (RFC 9110 §10.1.1).
    /// Follows the head of such a request.
    case expectContinue
    /// A piece of the body.
    case body(Range<Int>)
    /// A chunk-size line: the size of the chunk to come and its raw extensions
    /// (`;name=value...`, possibly empty). A size of 0 is the last chunk.
    case chunkHeader(size: UInt64, extensions: Range<Int>)
    /// The CRLF after a chunk's data, or the end of the trailer section after the last chunk.
    case chunkEnd
    /// A trailer section; its fields are in ``HTTP1Parser/fields``.
    case trailers
    /// The message is complete.
    case end
    /// The message switched protocols (an accepted `Upgrade` or `CONNECT`): the bytes after
    /// the consumed count belong to the new protocol. The parser stays here until
    /// ``HTTP1Parser/declineUpgrade()``.
    case upgrade
}

/// The start line and framing of a message head.
public struct HTTP1Head: Equatable, Sendable {
    /// The method (requests), empty for responses.
    public var method: Range<Int>
    /// The request-target (requests), empty for responses.
    public var target: Range<Int>
    /// The status code (responses), 0 for requests.
    public var status: Int
    /// The reason phrase (responses), empty for requests.
    public var reason: Range<Int>
    /// The HTTP-version.
    public var version: HTTP1Version
    /// How the body is delimited.
    public var framing: HTTP1Framing
    /// What the Connection field said, and which framing fields were present.
    public var flags: HTTP1HeadFlags
    /// Whether the connection stays open after this message (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// Whether the connection switches protocols after this message (Upgrade or CONNECT).
    public var upgrade: Bool
    /// Whether a request carries `Expect: 100-continue`.
    public var expectsContinue: Bool
    /// The bytes the head takes, from the start line to the blank line included.
    public var length: Int

    /// Whether this is a request head.
    public var isRequest: Bool { status == 0 }
}

/// An HTTP-version, `HTTP/major.minor`.
public struct HTTP1Version: Equatable, Sendable, Hashable, CustomStringConvertible {
    /// The major version digit.
    public var major: UInt8
    /// The minor version digit.
    public var minor: UInt8
    /// Creates a version.
    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }
    /// HTTP/1.0.
    public static let http10 = HTTP1Version(major: 1, minor: 0)
    /// HTTP/1.1.
    public static let http11 = HTTP1Version(major: 1, minor: 1)
    /// `HTTP/major.minor`.
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How a message body is delimited (RFC 9112 §6.3).
public enum HTTP1Framing: Equatable, Sendable {
    /// No body.
    case none
    /// A body of exactly this many bytes.
    case contentLength(UInt64)
    /// A chunked body.
    case chunked
    /// A response body that ends when the connection closes.
    case untilClose
}

/// Facts about a head's fields that decide framing and persistence.
public struct HTTP1HeadFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    /// Creates flags from raw bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Connection lists `keep-alive`.
    public static let connectionKeepAlive = HTTP1HeadFlags(rawValue: 1 << 0)
    /// Connection lists `close`.
    public static let connectionClose = HTTP1HeadFlags(rawValue: 1 << 1)
    /// Connection lists `upgrade`.
    public static let connectionUpgrade = HTTP1HeadFlags(rawValue: 1 << 2)
    /// The final transfer coding is `chunked`.
    public static let chunked = HTTP1HeadFlags(rawValue: 1 << 3)
    /// An Upgrade field is present.
    public static let upgradeField = HTTP1HeadFlags(rawValue: 1 << 4)
    /// A Content-Length field is present.
    public static let contentLength = HTTP1HeadFlags(rawValue: 1 << 5)
    /// A Transfer-Encoding field is present.
    public static let transferEncoding = HTTP1HeadFlags(rawValue: 1 << 6)
}

/// One field line: name and value as ranges into the caller's buffer.
///
/// The value excludes surrounding whitespace. With
/// ``HTTP1Leniencies/obsoleteLineFolding`` a folded value is handed out raw, fold included.
public struct HTTP1Field: Equatable, Sendable {
    /// The field name.
    public var name: Range<Int>
    /// The field value.
    public var value: Range<Int>
    /// Creates a field from its ranges.
    public init(name: Range<Int>, value: Range<Int>) {
        self.name = name
        self.value = value
    }
}

/// The result of one ``HTTP1Parser`` call: an event and how many bytes it consumed.
public struct HTTP1Step: Equatable, Sendable {
    /// What was found.
    public var event: HTTP1Event
    /// How many bytes from the start of the buffer the caller may drop.
    public var consumed: Int
    /// Creates a step.
    public init(_ event: HTTP1Event, consumed: Int) {
        self.event = event
        self.consumed = consumed
    }
}
