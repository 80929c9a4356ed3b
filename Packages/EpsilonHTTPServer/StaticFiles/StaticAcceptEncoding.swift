// Which precompressed sibling an `Accept-Encoding` value allows (RFC 9110 §12.5.3, the same
// rules as HTTPAcceptEncoding, with `br` which that negotiator does not know).

/// A precompressed variant of a file: the sibling named with `suffix`.
enum StaticContentCoding: String, Sendable, CaseIterable {
    case brotli = "br"
    case gzip = "gzip"

    /// The sibling file's suffix.
    var suffix: String { self == .brotli ? ".br" : ".gz" }
    /// The ETag suffix of the variant (so each variant has its own strong validator).
    var etagSuffix: String { self == .brotli ? "-br" : "-gz" }
}

enum StaticAcceptEncoding {
    /// The q-values (thousandths) for br and gzip that `value` gives; 0 when refused or not
    /// named (a `*` element names every coding it does not list).
    static func weights(_ value: [UInt8]) -> (brotli: Int, gzip: Int) {
        var brotli = -1, gzip = -1, any = -1
        for element in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            let parts = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            guard let name = parts.first.map(trim), !name.isEmpty else { continue }
            var weight = 1000
            if parts.count > 1 {
                guard parts.count == 2, let q = qvalue(trim(parts[1])) else { continue }
                weight = q
            }
            let lower = String(decoding: name.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
            switch lower {
            case "br": if brotli < 0 { brotli = weight }
            case "gzip", "x-gzip": if gzip < 0 { gzip = weight }
            case "*": if any < 0 { any = weight }
            default: break
            }
        }
        return (brotli >= 0 ? brotli : max(any, 0), gzip >= 0 ? gzip : max(any, 0))
    }

    /// The variants to try, best first (weights above 0; br wins a tie).
    static func preferred(_ value: [UInt8]) -> [StaticContentCoding] {
        let (brotli, gzip) = weights(value)
        var result: [StaticContentCoding] = []
        if brotli > 0 { result.append(.brotli) }
        if gzip > 0 { result.insert(.gzip, at: gzip > brotli ? 0 : result.count) }
        return result
    }

    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var part = bytes
        while let first = part.first, first == 0x20 || first == 0x09 { part.removeFirst() }
        while let last = part.last, last == 0x20 || last == 0x09 { part.removeLast() }
        return part
    }

    /// `q=` qvalue in thousandths (§12.4.2); nil when malformed.
    private static func qvalue(_ text: ArraySlice<UInt8>) -> Int? {
        let bytes = Array(text)
        guard bytes.count >= 3, bytes[0] | 0x20 == UInt8(ascii: "q"), bytes[1] == UInt8(ascii: "=") else { return nil }
        let digits = bytes[2...]
        guard let first = digits.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        if digits.count == 1 { return value }
        guard digits[digits.startIndex + 1] == UInt8(ascii: "."), digits.count <= 5 else { return nil }
        var scale = 100
        for digit in digits.dropFirst(2) {
            guard digit &- UInt8(ascii: "0") < 10 else { return nil }
            value += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }
}
