@_spi(EpsilonInternal) import EpsilonBytes

/// An HTTP content coding (RFC 9110 §8.4.1) this module can produce or undo.
///
/// Tokens compare without regard to ASCII case; `x-gzip` is read as ``gzip``
/// (RFC 9110 §8.4.1.3). ``deflate`` is the zlib format (RFC 1950) around deflate data.
///
/// ```swift
/// let coding = HTTPContentCoding("GZIP")   // .gzip
/// coding?.token                            // "gzip"
/// ```
public enum HTTPContentCoding: Sendable, Hashable {
    /// No transformation (RFC 9110 §8.4.1).
    case identity
    /// The gzip file format (RFC 1952).
    case gzip
    /// The zlib data format (RFC 1950) holding a deflate stream (RFC 1951).
    case deflate

    /// Reads a coding token from raw bytes (no surrounding whitespace); nil for any other coding.
    public init?(token: UnsafeRawBufferPointer) {
        guard let coding = HTTPContentCoding.parse(token) else { return nil }
        self = coding
    }

    /// Reads a coding token from a string (no surrounding whitespace); nil for any other coding.
    public init?(_ token: String) {
        var text = token
        guard let coding = text.withUTF8({ HTTPContentCoding.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = coding
    }

    /// The token in lower case, as sent in `Content-Encoding` and `Accept-Encoding`.
    public var token: String {
        switch self {
        case .identity: "identity"
        case .gzip: "gzip"
        case .deflate: "deflate"
        }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> HTTPContentCoding? {
        if ASCII.equalsIgnoringCase(bytes, "gzip".utf8) || ASCII.equalsIgnoringCase(bytes, "x-gzip".utf8) { return .gzip }
        if ASCII.equalsIgnoringCase(bytes, "deflate".utf8) { return .deflate }
        if ASCII.equalsIgnoringCase(bytes, "identity".utf8) { return .identity }
        return nil
    }
}
