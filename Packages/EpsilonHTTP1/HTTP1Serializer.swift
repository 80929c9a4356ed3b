@_spi(EpsilonInternal) import EpsilonBytes

/// Writes HTTP/1.1 heads, chunked bodies and trailers into a buffer the caller owns and reuses.
///
/// Every piece is appended to `buffer`; nothing is allocated per field once the buffer has
/// grown to its working size. Names, values, methods, targets and reason phrases are checked
/// before they are written: a CR, LF or NUL (response splitting, header injection) or any
/// other byte the grammar forbids throws ``HTTP1SerializeError`` and leaves `buffer`
/// as it was.
///
/// ```swift
/// var out: [UInt8] = []
/// try HTTP1Serializer.writeStatusLine(status: 200, reason: "OK", into: &out)
/// try HTTP1Serializer.writeField(name: "Content-Length", value: "5", into: &out)
/// HTTP1Serializer.writeEndOfHead(into: &out)
/// out += "hello".utf8
/// ```
public enum HTTP1Serializer {
    /// Appends `method SP target SP HTTP/x.y CRLF` (RFC 9112 §3).
    public static func writeRequestLine(method: some StringProtocol, target: some StringProtocol, version: HTTP1Version = .http11, into buffer: inout [UInt8]) throws(HTTP1SerializeError) {
        guard !method.isEmpty, method.utf8.allSatisfy({ ASCII.isTokenByte($0) }) else { throw .invalidMethod }
        guard !target.isEmpty, target.utf8.allSatisfy({ $0 > asciiSP && $0 < 0x7F }) else { throw .invalidTarget }
        try checkVersion(version)
        buffer.append(contentsOf: method.utf8)
        buffer.append(asciiSP)
        buffer.append(contentsOf: target.utf8)
        buffer.append(asciiSP)
        appendVersion(version, into: &buffer)
        appendCRLF(into: &buffer)
    }

    /// Appends `HTTP/x.y SP status SP reason CRLF` (RFC 9112 §4).
    public static func writeStatusLine(status: Int, reason: some StringProtocol, version: HTTP1Version = .http11, into buffer: inout [UInt8]) throws(HTTP1SerializeError) {
        guard (100...999).contains(status) else { throw .invalidStatus }
        try checkVersion(version)
        guard reason.utf8.allSatisfy({ $0 == asciiHTAB || ($0 >= asciiSP && $0 != 0x7F) }) else { throw .invalidReasonPhrase }
        appendVersion(version, into: &buffer)
        buffer.append(asciiSP)
        buffer.append(0x30 + UInt8(status / 100))
        buffer.append(0x30 + UInt8(status / 10 % 10))
        buffer.append(0x30 + UInt8(status % 10))
        buffer.append(asciiSP)
        buffer.append(contentsOf: reason.utf8)
        appendCRLF(into: &buffer)
    }

    /// Appends `name: value CRLF` (RFC 9112 §5). The name must be a token; the value may hold
    /// visible bytes, obs-text, spaces and tabs, but not at its ends.
    public static func writeField(name: some StringProtocol, value: some StringProtocol, into buffer: inout [UInt8]) throws(HTTP1SerializeError) {
        guard !name.isEmpty, name.utf8.allSatisfy({ ASCII.isTokenByte($0) }) else { throw .invalidFieldName }
        try checkFieldValue(value.utf8)
        buffer.append(contentsOf: name.utf8)
        buffer.append(asciiColon)
        buffer.append(asciiSP)
        buffer.append(contentsOf: value.utf8)
        appendCRLF(into: &buffer)
    }

    /// Appends `name: value CRLF` with a decimal value, such as Content-Length, without
    /// building a string.
    public static func writeField(name: some StringProtocol, value: UInt64, into buffer: inout [UInt8]) throws(HTTP1SerializeError) {
        guard !name.isEmpty, name.utf8.allSatisfy({ ASCII.isTokenByte($0) }) else { throw .invalidFieldName }
        buffer.append(contentsOf: name.utf8)
        buffer.append(asciiColon)
        buffer.append(asciiSP)
        appendNumber(value, radix: 10, into: &buffer)
        appendCRLF(into: &buffer)
    }

    /// Appends the empty line that ends a head or a trailer section.
    public static func writeEndOfHead(into buffer: inout [UInt8]) {
        appendCRLF(into: &buffer)
    }

    /// Appends one chunk of a chunked body: `size CRLF data CRLF` (RFC 9112 §7.1).
    /// An empty `data` writes nothing, since a zero-size chunk would end the body.
    public static func writeChunk(_ data: some Collection<UInt8>, into buffer: inout [UInt8]) {
        guard !data.isEmpty else { return }
        appendNumber(UInt64(data.count), radix: 16, into: &buffer)
        appendCRLF(into: &buffer)
        buffer.append(contentsOf: data)
        appendCRLF(into: &buffer)
    }

    /// Appends the last chunk, `0 CRLF`. Follow it with trailer fields (``writeField(name:value:into:)-(_,some StringProtocol,_)``)
    /// and ``writeEndOfHead(into:)``.
    public static func writeLastChunk(into buffer: inout [UInt8]) {
        buffer.append(0x30)
        appendCRLF(into: &buffer)
    }

    static func checkFieldValue(_ value: some Collection<UInt8>) throws(HTTP1SerializeError) {
        // RFC 9110 §5.5: field-value = *field-content, no leading or trailing whitespace.
        if let first = value.first, ASCII.isWhitespace(first) { throw .invalidFieldValue }
        var last: UInt8 = 0
        for byte in value {
            if byte < asciiSP && byte != asciiHTAB || byte == 0x7F { throw .invalidFieldValue }
            last = byte
        }
        if ASCII.isWhitespace(last) { throw .invalidFieldValue }
    }

    /// RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT.
    static func checkVersion(_ version: HTTP1Version) throws(HTTP1SerializeError) {
        guard version.major < 10 && version.minor < 10 else { throw .invalidVersion }
    }

    static func appendVersion(_ version: HTTP1Version, into buffer: inout [UInt8]) {
        // Byte by byte: an array literal here would allocate on every call.
        buffer.append(0x48)
        buffer.append(0x54)
        buffer.append(0x54)
        buffer.append(0x50)
        buffer.append(0x2F)
        buffer.append(0x30 + version.major)
        buffer.append(0x2E)
        buffer.append(0x30 + version.minor)
    }

    @inline(__always)
    static func appendCRLF(into buffer: inout [UInt8]) {
        buffer.append(asciiCR)
        buffer.append(asciiLF)
    }

    static func appendNumber(_ value: UInt64, radix: UInt64, into buffer: inout [UInt8]) {
        var digits: (UInt64, Int) = (1, 1)
        while value / digits.0 >= radix { digits.0 *= radix; digits.1 += 1 }
        var divisor = digits.0
        while divisor > 0 {
            let digit = UInt8(value / divisor % radix)
            buffer.append(digit < 10 ? 0x30 + digit : 0x61 + digit - 10)
            divisor /= radix
        }
    }
}

/// Why ``HTTP1Serializer`` refused to write something.
public enum HTTP1SerializeError: Error, Sendable, Equatable {
    /// The method is empty or not a token (RFC 9110 §9.1).
    case invalidMethod
    /// The request-target is empty or holds whitespace, control bytes or non-ASCII bytes.
    case invalidTarget
    /// The version's major or minor number is not a single digit (RFC 9112 §2.3).
    case invalidVersion
    /// The status code is not three digits (RFC 9110 §15).
    case invalidStatus
    /// The reason phrase holds CR, LF or another control byte.
    case invalidReasonPhrase
    /// The field name is empty or not a token (RFC 9110 §5.1).
    case invalidFieldName
    /// The field value holds CR, LF, NUL or another control byte, or starts or ends with
    /// whitespace (RFC 9110 §5.5).
    case invalidFieldValue
}
