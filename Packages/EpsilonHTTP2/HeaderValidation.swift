import EpsilonHPACK

/// What a header block is, which decides the pseudo-header fields it must and may carry.
enum HeaderBlockKind: Sendable {
    /// A request head (server receiving HEADERS, client receiving PUSH_PROMISE).
    case request
    /// A response head (client receiving HEADERS), 1xx included.
    case response
    /// Trailers: no pseudo-header fields at all (RFC 9113 §8.1).
    case trailers
}

/// Checks a header list field by field while it is decoded (RFC 9113 §8.2–8.3), so nothing is
/// buffered for the check. A violation makes the message malformed: a stream error of type
/// PROTOCOL_ERROR (§8.1.1).
struct HeaderValidator {
    let kind: HeaderBlockKind
    private(set) var malformed = false
    private var sawRegularField = false
    private var seen: UInt8 = 0
    private(set) var isConnect = false
    /// `:protocol` may appear (RFC 8441 §4: we announced SETTINGS_ENABLE_CONNECT_PROTOCOL).
    let allowsProtocol: Bool
    private(set) var isHeadRequest = false
    private var pathIsEmpty = false
    private(set) var status = 0
    private(set) var contentLength: Int?

    private static let method: UInt8 = 1, scheme: UInt8 = 2, authority: UInt8 = 4, path: UInt8 = 8
    private static let statusBit: UInt8 = 16, protocolBit: UInt8 = 32

    init(kind: HeaderBlockKind, allowsProtocol: Bool = false) {
        self.kind = kind
        self.allowsProtocol = allowsProtocol
    }

    /// Whether a response head is informational (1xx, RFC 9113 §8.1).
    var isInformational: Bool { status >= 100 && status < 200 }

    mutating func check(_ field: HPACKHeaderFieldView) {
        let name = field.name
        let value = field.value
        guard !malformed else { return }
        guard name.count > 0, !field.hasForbiddenCharacter else { return fail() }
        // §8.2.1: no leading or trailing whitespace in values.
        if value.count > 0 {
            let first = value[0], last = value[value.count &- 1]
            if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return fail() }
        }
        if name[0] == 0x3a {
            // §8.3: pseudo-header fields come first, once each, only the defined ones.
            guard !sawRegularField, kind != .trailers else { return fail() }
            checkPseudo(name, value)
            return
        }
        sawRegularField = true
        // §8.2.1: field names are lower-case tokens.
        var index = 0
        while index < name.count {
            if !isLowercaseTokenByte(name[index]) { return fail() }
            index &+= 1
        }
        // §8.2.2: connection-specific fields are malformed; TE only as "trailers".
        switch name.count {
        case 2 where equals(name, "te"):
            if !equals(value, "trailers") { fail() }
        case 7 where equals(name, "upgrade"):
            fail()
        case 10 where equals(name, "connection") || equals(name, "keep-alive"):
            fail()
        case 14 where equals(name, "content-length"):
            recordContentLength(value)
        case 16 where equals(name, "proxy-connection"):
            fail()
        case 17 where equals(name, "transfer-encoding"):
            fail()
        default:
            break
        }
    }

    private mutating func checkPseudo(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        let bit: UInt8
        switch kind {
        case .request:
            if equals(name, ":method") {
                bit = Self.method
                isConnect = equals(value, "CONNECT")
                isHeadRequest = equals(value, "HEAD")
                if value.count == 0 { return fail() }
            } else if equals(name, ":scheme") {
                bit = Self.scheme
            } else if equals(name, ":authority") {
                bit = Self.authority
            } else if equals(name, ":path") {
                bit = Self.path
                pathIsEmpty = value.count == 0
            } else if allowsProtocol, equals(name, ":protocol") {
                bit = Self.protocolBit
                if value.count == 0 { return fail() }
            } else {
                // :protocol (RFC 8441 §4) is valid only after we announced
                // SETTINGS_ENABLE_CONNECT_PROTOCOL: without it, malformed like any unknown one.
                return fail()
            }
        case .response:
            guard equals(name, ":status"), value.count == 3 else { return fail() }
            var code = 0
            for digit in value {
                guard digit >= 0x30 && digit <= 0x39 else { return fail() }
                code = code &* 10 &+ Int(digit &- 0x30)
            }
            status = code
            bit = Self.statusBit
        case .trailers:
            return fail()
        }
        if seen & bit != 0 { return fail() }
        seen |= bit
    }

    private mutating func recordContentLength(_ value: UnsafeRawBufferPointer) {
        guard value.count > 0, value.count <= 18 else { return fail() }
        var length = 0
        for digit in value {
            guard digit >= 0x30 && digit <= 0x39 else { return fail() }
            length = length &* 10 &+ Int(digit &- 0x30)
        }
        if let previous = contentLength, previous != length { return fail() }
        contentLength = length
    }

    private mutating func fail() { malformed = true }

    /// The checks that need the whole list (§8.3.1, §8.3.2); `true` when well-formed.
    func finish() -> Bool {
        guard !malformed else { return false }
        switch kind {
        case .request:
            guard seen & Self.method != 0 else { return false }
            if seen & Self.protocolBit != 0 {
                // RFC 8441 §4: extended CONNECT, with :scheme, :path and :authority.
                let all = Self.scheme | Self.path | Self.authority
                return isConnect && seen & all == all && !pathIsEmpty
            }
            if isConnect {
                // §8.5: CONNECT carries :authority only.
                return seen & Self.authority != 0 && seen & (Self.scheme | Self.path) == 0
            }
            return seen & Self.scheme != 0 && seen & Self.path != 0 && !pathIsEmpty
        case .response:
            return seen & Self.statusBit != 0
        case .trailers:
            return true
        }
    }
}

/// Lower-case letters, digits and the token punctuation of RFC 9110 §5.6.2
/// (`!#$%&'*+-.^_`|~`), as a 128-bit set: bit `b` of the two words is set for byte `b`.
/// A lookup costs a few instructions where a switch over the ranges cost about twice as many,
/// and less than EpsilonBytes' token table plus a case test (measured: the h2-server row was
/// ~8% slower with `ASCII.isTokenByte(byte) && byte &- 0x41 >= 26`).
@inline(__always)
func isLowercaseTokenByte(_ byte: UInt8) -> Bool {
    let low: UInt64 = 0x03FF_6CFA_0000_0000   // 0x00...0x3F: ! # $ % & ' * + - . and 0-9
    let high: UInt64 = 0x57FF_FFFF_C000_0000  // 0x40...0x7F: ^ _ ` a-z | ~
    let word = byte < 0x40 ? low : (byte < 0x80 ? high : 0)
    return (word >> UInt64(byte & 0x3F)) & 1 != 0
}
