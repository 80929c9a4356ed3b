// `Range: bytes=…` for a static file (RFC 9110 §14.2, §14.1.2). Only one range is served:
// a request for several ranges gets the whole file with 200 (allowed by §14.2: a server
// may ignore Range), never `multipart/byteranges` — unless none of them is satisfiable, which
// gets 416 as a single unsatisfiable range does (§14.2, §15.5.17). Empty list elements
// (`bytes=0-1,`) are skipped (§5.6.1).

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
            .map(trimmed).filter { !$0.isEmpty }
        guard specs.count <= maxRanges else { return .whole }
        if specs.count == 1 { return evaluate(spec: specs[0], length: length) }
        // Several: 416 only when every one parses and none can be served.
        for spec in specs where evaluate(spec: spec, length: length) != .unsatisfiable { return .whole }
        return specs.isEmpty ? .whole : .unsatisfiable
    }

    /// More range-specs than this are not looked at (the whole file is served).
    static let maxRanges = 100

    /// One range-spec (trimmed) against a representation of `length` bytes.
    private static func evaluate(spec: ArraySlice<UInt8>, length: UInt64) -> StaticRangeRequest {
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
            // A last-pos past any file (more than 18 digits) means "to the end" (§14.1.2).
            let given = number(last) ?? (last.allSatisfy { $0 &- UInt8(ascii: "0") < 10 } ? UInt64.max : nil)
            guard let given, given >= start else { return .whole }
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
