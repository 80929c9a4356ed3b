/// Decides from a cleartext connection's first bytes whether it speaks HTTP/2 by prior
/// knowledge (RFC 9113 §3.3: it opens with the 24-octet preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`)
/// or HTTP/1.1. Bytes may arrive one at a time: it decides as soon as one byte differs from
/// the preface or the whole preface is in.
struct HTTP2PrefaceSniffer {
    /// What the bytes so far show.
    enum Verdict: Equatable {
        /// A prefix of the preface: wait for more.
        case undecided
        /// The whole preface: HTTP/2.
        case http2
        /// Not the preface: HTTP/1.1 (or garbage, which HTTP/1.1 answers with 400).
        case http1
    }

    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Preface octets matched so far.
    private(set) var matched = 0

    /// Looks at the next bytes of the connection.
    mutating func inspect(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        for byte in bytes {
            guard byte == Self.preface[matched] else { return .http1 }
            matched &+= 1
            if matched == Self.preface.count { return .http2 }
        }
        return .undecided
    }
}
