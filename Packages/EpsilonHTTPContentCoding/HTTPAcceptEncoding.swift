@_spi(EpsilonInternal) import EpsilonBytes

/// Content negotiation on `Accept-Encoding` (RFC 9110 §12.5.3).
///
/// ```swift
/// let coding = Array("gzip;q=0.5, deflate".utf8).withUnsafeBytes {
///     HTTPAcceptEncoding.negotiate($0)
/// }   // .deflate
/// ```
public enum HTTPAcceptEncoding {
    /// The best of `supported` that the `Accept-Encoding` field value allows.
    ///
    /// Rules (RFC 9110 §12.5.3): each listed coding takes its q-value (default 1); `*` gives
    /// its q-value to every coding not listed; a q-value of 0 refuses. Tokens compare without
    /// regard to ASCII case and `x-gzip` counts as gzip; OWS is allowed around elements and
    /// parameters. An element that does not follow the grammar (a bad q-value, an unknown
    /// parameter, stray characters) is ignored on its own; the first element naming a coding
    /// wins over later ones. Among acceptable codings the highest q-value wins, ties going to
    /// the earlier entry of `supported`.
    ///
    /// Identity is acceptable unless refused by `identity;q=0`, or by `*;q=0` without an
    /// `identity` element. When identity is not named (directly or by `*`) it is preferred
    /// last; when it is, a coding must have at least identity's q-value to be chosen.
    /// An empty value (or one with no valid element) allows identity only.
    ///
    /// Several `Accept-Encoding` lines form one list: pass them joined with ", ". A request
    /// without the field accepts anything (RFC 9110 §12.5.3), but servers usually answer it
    /// with identity: that choice is the caller's, so do not call this then.
    ///
    /// - Returns: the coding to apply; ``HTTPContentCoding/identity`` when no coding is better;
    ///   nil when even identity is refused (the server may answer 406 or send identity anyway).
    ///   Allocates nothing.
    public static func negotiate(
        _ fieldValue: UnsafeRawBufferPointer,
        supported: [HTTPContentCoding] = [.gzip, .deflate]
    ) -> HTTPContentCoding? {
        var weights = AcceptEncodingWeights()
        var start = 0
        while start <= fieldValue.count {
            var end = start
            while end < fieldValue.count && fieldValue[end] != UInt8(ascii: ",") { end += 1 }
            weights.read(element: fieldValue, from: start, to: end)
            start = end + 1
        }
        return weights.choose(from: supported)
    }
}

/// The q-values (in thousandths) an Accept-Encoding value gives, -1 where not named.
struct AcceptEncodingWeights {
    var gzip = -1
    var deflate = -1
    var identity = -1
    var any = -1

    enum Named { case gzip, deflate, identity, any, other }

    mutating func read(element bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        var lower = start
        var upper = end
        while lower < upper && ASCII.isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower && ASCII.isWhitespace(bytes[upper - 1]) { upper -= 1 }
        if lower == upper { return }  // empty list element (RFC 9110 §5.6.1)

        var index = lower
        while index < upper && ASCII.isTokenByte(bytes[index]) { index += 1 }
        guard index > lower else { return }
        let name = Self.named(UnsafeRawBufferPointer(rebasing: bytes[lower..<index]))
        var weight = 1000
        var sawWeight = false
        // weight = OWS ";" OWS "q=" qvalue — nothing else is allowed after the coding.
        while index < upper {
            while index < upper && ASCII.isWhitespace(bytes[index]) { index += 1 }
            guard index < upper, bytes[index] == UInt8(ascii: ";"), !sawWeight else { return }
            index += 1
            while index < upper && ASCII.isWhitespace(bytes[index]) { index += 1 }
            guard index + 1 < upper, ASCII.lowercased(bytes[index]) == UInt8(ascii: "q"),
                  bytes[index + 1] == UInt8(ascii: "=") else { return }
            index += 2
            let valueStart = index
            while index < upper && ASCII.isTokenByte(bytes[index]) { index += 1 }
            guard let q = Self.qvalue(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<index])) else { return }
            weight = q
            sawWeight = true
        }
        switch name {
        case .gzip: if gzip < 0 { gzip = weight }
        case .deflate: if deflate < 0 { deflate = weight }
        case .identity: if identity < 0 { identity = weight }
        case .any: if any < 0 { any = weight }
        case .other: break
        }
    }

    static func named(_ token: UnsafeRawBufferPointer) -> Named {
        if token.count == 1 && token[0] == UInt8(ascii: "*") { return .any }
        switch HTTPContentCoding.parse(token) {
        case .gzip: return .gzip
        case .deflate: return .deflate
        case .identity: return .identity
        case nil: return .other
        }
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths (RFC 9110 §12.4.2).
    static func qvalue(_ text: UnsafeRawBufferPointer) -> Int? {
        guard let first = text.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        if text.count == 1 { return value }
        guard text[1] == UInt8(ascii: "."), text.count <= 5 else { return nil }
        var scale = 100
        for digit in text[2...] {
            guard digit &- UInt8(ascii: "0") < 10 else { return nil }
            value += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }

    func weight(of coding: HTTPContentCoding) -> Int {
        switch coding {
        case .gzip: gzip >= 0 ? gzip : (any >= 0 ? any : 0)
        case .deflate: deflate >= 0 ? deflate : (any >= 0 ? any : 0)
        case .identity: identity >= 0 ? identity : any
        }
    }

    func choose(from supported: [HTTPContentCoding]) -> HTTPContentCoding? {
        var best: HTTPContentCoding?
        var bestWeight = 0
        for coding in supported where coding != .identity {
            let w = weight(of: coding)
            if w > bestWeight {
                best = coding
                bestWeight = w
            }
        }
        let identityWeight = weight(of: .identity)  // -1: not named, acceptable, preferred last
        if let best, bestWeight >= identityWeight { return best }
        return identityWeight != 0 ? .identity : nil
    }
}
