// `Range: bytes=…` for a static file (RFC 9110 §14.2, §14.1.2). Only one range is served:
// a request for several ranges gets the whole file with 200 (allowed by §14.2: a server
// may ignore Range), never `multipart/byteranges`.

/// What a `Range` field asks of a representation of `length` bytes.
enum StaticRangeRequest: Equatable, Sendable {
    /// Serve the whole representation (no usable Range, several ranges, another unit).
    case whole
    /// Serve `range` with 206.
    case partial(ClosedRange<UInt64>)
    /// 416 with `Content-Range: bytes */length`.
    case unsatisfiable
}

enum StaticByteRange {
    /// Evaluates a `Range` field value against a representation of `length` bytes.
    static func evaluate(_ value: some Collection<UInt8>, length: UInt64) -> StaticRangeRequest {
        let text = Array(value)
        guard text.count > 6, text[0..<6].map(lowercased).elementsEqual("bytes=".utf8) else { return .whole }
        let specs = text[6...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard specs.count == 1 else { return .whole }
        let spec = trimmed(specs[0])
        guard let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return .whole }
        let first = spec[spec.startIndex..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // suffix-range: the last N bytes (§14.1.2).
            guard let suffix = number(last) else { return .whole }
            guard suffix > 0, length > 0 else { return .unsatisfiable }
            return .partial((length - min(suffix, length))...(length - 1))
        }
        guard let start = number(first) else { return .whole }
        var end = length &- 1
        if !last.isEmpty {
            guard let given = number(last), given >= start else { return .whole }
            end = min(given, length &- 1)
        }
        guard start < length else { return .unsatisfiable }
        return .partial(start...end)
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var part = bytes
        while let first = part.first, first == 0x20 || first == 0x09 { part.removeFirst() }
        while let last = part.last, last == 0x20 || last == 0x09 { part.removeLast() }
        return part
    }

    /// 1*DIGIT as a UInt64 (nil when empty, not digits, or above 18 digits).
    private static func number(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit &- UInt8(ascii: "0") < 10 else { return nil }
            value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        return value
    }
}
