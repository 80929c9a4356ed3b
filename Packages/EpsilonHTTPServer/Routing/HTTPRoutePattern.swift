/// A path pattern: literal segments, named parameters, a one-segment wildcard and a catch-all.
///
/// The text starts with `/` and is split at each `/` into segments:
/// - `users`: a literal, compared byte for byte with the raw request path (no normalisation
///   and no percent-decoding: write it as it appears on the wire);
/// - `:id`: a named parameter, one non-empty segment (name: letters, digits, `_`);
/// - `*`: any one non-empty segment, not captured;
/// - `**`: the catch-all, last only: the rest of the path after the `/` before it, possibly
///   empty (`/static/**` matches `/static/` and `/static/a/b`, not `/static`).
///
/// `/` is the root (one empty segment), and a trailing slash is a segment of its own:
/// `/users` and `/users/` are different routes. At most ``maximumParameters`` parameters.
///
/// ```swift
/// let pattern = try HTTPRoutePattern("/users/:id/files/**")
/// ```
public struct HTTPRoutePattern: Sendable, Hashable, CustomStringConvertible {
    /// The most named parameters one pattern may have (the inline capacity of ``HTTPRouteParameters``).
    public static let maximumParameters = HTTPRouteParameters.capacity

    enum Segment: Sendable, Hashable {
        case literal([UInt8])
        case parameter(String)
        case wildcard
        case catchAll
    }

    let segments: [Segment]
    /// The pattern as written.
    public let description: String

    /// The parameter names in order of appearance.
    var parameterNames: [String] {
        segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
    }

    /// Parses `text`.
    ///
    /// - Throws: ``HTTPRoutePatternError`` when the text does not start with `/`, holds a byte
    ///   that cannot appear in a raw path (controls, space, non-ASCII, `?`, `#`), has an empty or
    ///   repeated parameter name, a `*` inside a literal, `**` before the end, or too many parameters.
    public init(_ text: String) throws(HTTPRoutePatternError) {
        func refuse(_ reason: String) -> HTTPRoutePatternError { HTTPRoutePatternError(reason: reason, pattern: text) }
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "/") else { throw refuse("must start with \"/\"") }
        for byte in bytes where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") {
            throw refuse("byte 0x\(String(byte, radix: 16)) cannot appear in a raw path (percent-encode it, no query or fragment)")
        }
        var segments: [Segment] = []
        var names: Set<String> = []
        let pieces = bytes[1...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, piece) in pieces.enumerated() {
            if piece.elementsEqual("**".utf8) {
                guard index == pieces.count - 1 else { throw refuse("\"**\" must be the last segment") }
                segments.append(.catchAll)
            } else if piece.elementsEqual("*".utf8) {
                segments.append(.wildcard)
            } else if piece.first == UInt8(ascii: ":") {
                let name = String(decoding: piece.dropFirst(), as: UTF8.self)
                guard !name.isEmpty, piece.dropFirst().allSatisfy(Self.isNameByte) else {
                    throw refuse("parameter names are letters, digits and \"_\", not empty")
                }
                guard names.insert(name).inserted else { throw refuse("parameter \":\(name)\" appears twice") }
                guard names.count <= HTTPRouteParameters.capacity else {
                    throw refuse("more than \(HTTPRouteParameters.capacity) parameters")
                }
                segments.append(.parameter(name))
            } else {
                guard !piece.contains(UInt8(ascii: "*")) else { throw refuse("\"*\" only as a whole segment (\"*\" or \"**\")") }
                segments.append(.literal(Array(piece)))
            }
        }
        self.segments = segments
        self.description = text
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- UInt8(ascii: "a") < 26 || byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: "_")
    }

    /// Two patterns are equal when written alike (parameter names included).
    public static func == (a: HTTPRoutePattern, b: HTTPRoutePattern) -> Bool { a.segments == b.segments }

    /// Hashes the segments.
    public func hash(into hasher: inout Hasher) { hasher.combine(segments) }
}
