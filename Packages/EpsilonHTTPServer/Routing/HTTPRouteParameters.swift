/// The parameters a route lookup captured: byte ranges into the request's raw path.
///
/// Held inline (no heap per lookup); the names are shared with the route table. The ranges
/// are views: read them with the same `path` buffer the lookup was given.
public struct HTTPRouteParameters: Sendable {
    /// The inline capacity: the most named parameters a pattern may have.
    public static let capacity = 8

    var bounds = InlineArray<16, Int>(repeating: 0)
    var captured = 0
    var catchAllBounds = (lower: -1, upper: -1)
    var names: [String] = []

    init() {}

    /// The number of named parameters (the catch-all is not counted).
    public var count: Int { captured }

    /// The name of the parameter at `index` (0 ..< ``count``), in pattern order.
    public func name(at index: Int) -> String {
        precondition(index >= 0 && index < captured, "parameter index out of range")
        return names[index]
    }

    /// The byte range in the path of the parameter at `index` (0 ..< ``count``).
    public func range(at index: Int) -> Range<Int> {
        precondition(index >= 0 && index < captured, "parameter index out of range")
        return bounds[2 * index] ..< bounds[2 * index + 1]
    }

    /// The byte range in `path` of the named parameter (`":id"` → `"id"`), or of the catch-all
    /// (`"**"`); nil when the route has no such parameter.
    public func range(of name: String) -> Range<Int>? {
        if name == "**" { return catchAll }
        for index in 0..<captured where names[index] == name { return range(at: index) }
        return nil
    }

    /// The byte range in the path matched by the catch-all (`**`), nil when the route has none.
    /// Empty when the path ends at the slash before it.
    public var catchAll: Range<Int>? {
        catchAllBounds.lower < 0 ? nil : catchAllBounds.lower ..< catchAllBounds.upper
    }

    /// A view of the parameter's raw (still percent-encoded) bytes inside `path`; valid as long
    /// as `path` is. Nil when the route has no such parameter.
    public func value(of name: String, in path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let range = range(of: name), range.upperBound <= path.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: path[range])
    }

    /// A percent-decoded copy of the parameter; nil when absent, when an escape is malformed,
    /// or when decoding gives invalid UTF-8 or a NUL. `+` stays `+` (this is a path, not a form).
    public func string(of name: String, in path: UnsafeRawBufferPointer) -> String? {
        guard let raw = value(of: name, in: path) else { return nil }
        return HTTPRouteParameters.percentDecoded(raw)
    }

    static func percentDecoded(_ raw: UnsafeRawBufferPointer) -> String? {
        var decoded = [UInt8]()
        decoded.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            var byte = raw[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < raw.count, let high = hexValue(raw[index + 1]), let low = hexValue(raw[index + 2]) else { return nil }
                byte = high << 4 | low
                index += 3
            } else {
                index += 1
            }
            guard byte != 0 else { return nil }
            decoded.append(byte)
        }
        return String(validating: decoded, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        if byte &- UInt8(ascii: "0") < 10 { return byte - UInt8(ascii: "0") }
        let lower = byte | 0x20
        if lower &- UInt8(ascii: "a") < 6 { return lower - UInt8(ascii: "a") + 10 }
        return nil
    }

    mutating func push(_ lower: Int, _ upper: Int) {
        bounds[2 * captured] = lower
        bounds[2 * captured + 1] = upper
        captured += 1
    }
}
