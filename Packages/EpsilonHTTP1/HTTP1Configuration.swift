/// Limits and leniencies for an ``HTTP1Parser``.
///
/// The defaults are strict (RFC 9110 and RFC 9112) and safe to expose to the internet. Each
/// leniency is an explicit opt-in that relaxes exactly one rule.
public struct HTTP1Configuration: Sendable, Equatable {
    /// The most bytes a message head (start line, fields and the blank line) may take.
    /// Trailer sections share this limit. Default: 80 KiB.
    public var maxHeadBytes: Int = 80 * 1024
    /// The most field lines a head or a trailer section may hold. Default: 100.
    public var maxFieldCount: Int = 100
    /// The longest request-target, in bytes. Default: 8 KiB.
    public var maxTargetBytes: Int = 8 * 1024
    /// The longest chunk-size line (size, extensions and CRLF), in bytes. Default: 4 KiB.
    public var maxChunkLineBytes: Int = 4 * 1024
    /// The largest body a message may declare or send, in bytes; `nil` means no limit.
    public var maxBodyBytes: UInt64? = nil
    /// The rules this parser relaxes; empty (strict) by default.
    public var leniencies: HTTP1Leniencies = []

    /// A strict configuration with the default limits.
    public init() {}

    /// A configuration with the default limits and the given leniencies.
    public init(leniencies: HTTP1Leniencies) {
        self.leniencies = leniencies
    }
}

/// Rules an ``HTTP1Parser`` can be told to relax, one flag per rule.
///
/// Every flag weakens a defence against request smuggling or response splitting: enable one
/// only to talk to a known peer that needs it.
public struct HTTP1Leniencies: OptionSet, Sendable, Hashable {
    /// The raw bits of the set.
    public let rawValue: UInt32
    /// Creates a set from its raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Accept obs-fold (a field line continued on the next line by leading whitespace,
    /// RFC 9112 §5.2) and whitespace before the start of the first field line. The folded
    /// value is handed out raw, fold included.
    public static let obsoleteLineFolding = HTTP1Leniencies(rawValue: 1 << 0)
    /// Accept whitespace between a field name and its colon (RFC 9112 §5.1 forbids it).
    public static let whitespaceBeforeColon = HTTP1Leniencies(rawValue: 1 << 1)
    /// Accept a line ending in a bare LF without the CR (RFC 9112 §2.2).
    public static let bareLF = HTTP1Leniencies(rawValue: 1 << 2)
    /// Accept a bare CR as a line ending (RFC 9112 §2.2 forbids it).
    public static let bareCR = HTTP1Leniencies(rawValue: 1 << 3)
    /// Accept control bytes other than NUL, CR and LF in field values (RFC 9110 §5.5).
    public static let controlBytesInValues = HTTP1Leniencies(rawValue: 1 << 4)
    /// Accept a request with both Transfer-Encoding and Content-Length: Transfer-Encoding
    /// wins and Content-Length is ignored (RFC 9112 §6.3 ¶3); if its final coding is not
    /// `chunked`, the body is read until the connection closes.
    public static let contentLengthWithTransferEncoding = HTTP1Leniencies(rawValue: 1 << 5)
    /// Accept a request whose final transfer coding is not `chunked` (or that applies
    /// `chunked` before another coding), reading its body until the connection closes
    /// (RFC 9112 §6.3 ¶4 requires a 400).
    public static let transferEncodingNotChunked = HTTP1Leniencies(rawValue: 1 << 6)
    /// Accept an HTTP/1.1 request without exactly one Host field (RFC 9112 §3.2).
    public static let missingHost = HTTP1Leniencies(rawValue: 1 << 7)
    /// Accept any HTTP-version of the form `HTTP/d.d`, not only 1.0 and 1.1.
    public static let anyVersion = HTTP1Leniencies(rawValue: 1 << 8)
    /// Discard, instead of rejecting, bytes that follow a message that closed the connection.
    public static let dataAfterClose = HTTP1Leniencies(rawValue: 1 << 9)
    /// Treat every connection as persistent, whatever Connection says.
    public static let keepAlive = HTTP1Leniencies(rawValue: 1 << 10)
    /// Accept chunk data that is not followed by CRLF.
    public static let missingCRLFAfterChunk = HTTP1Leniencies(rawValue: 1 << 11)
    /// Accept spaces and tabs between a chunk size and the end of its line or extensions.
    public static let whitespaceAfterChunkSize = HTTP1Leniencies(rawValue: 1 << 12)
    /// Accept several Content-Length values that are all equal (`42, 42`, RFC 9110 §8.6).
    public static let repeatedContentLength = HTTP1Leniencies(rawValue: 1 << 13)

    /// Accept Content-Length or Transfer-Encoding on a CONNECT request and ignore them: the
    /// request still ends at its head and what follows is tunnel data (RFC 9110 §9.3.6 gives
    /// CONNECT no content).
    public static let framingFieldsInConnect = HTTP1Leniencies(rawValue: 1 << 14)

    /// Every leniency at once.
    public static let all = HTTP1Leniencies(rawValue: (1 << 15) - 1)
}
