// The request path of a static-file route, decoded once and strictly. Every class of refusal
// has one status (documented on HTTPStaticFiles):
//   400 malformed: a bad percent escape, a decoded `/` `\` or NUL (%2f %5c %00), a raw
//       backslash or control byte, invalid or overlong UTF-8, `.` or `..` segments (raw or
//       encoded), empty segments (`a//b`, a leading `/` in the rest);
//   403 hidden: a segment starting with `.` (unless the route allows dot-files).

/// Why a path was refused.
enum StaticPathRefusal: Error, Equatable, Sendable {
    /// 400: the path is malformed.
    case malformed
    /// 403: the path names a dot-file or dot-directory.
    case hidden
}

/// A decoded path below a route's mount point.
struct StaticRelativePath: Equatable, Sendable {
    /// The decoded segments (none for the mount point itself).
    var segments: [String]
    /// The path ended with `/` (it names a directory).
    var endsWithSlash: Bool
}

enum StaticPathDecoder {
    /// Decodes `raw` (the bytes after the mount point's `/`, still percent-encoded).
    static func decode(_ raw: some Collection<UInt8>, allowHidden: Bool) -> Result<StaticRelativePath, StaticPathRefusal> {
        var segments: [String] = []
        var current: [UInt8] = []
        var hidden = false
        var iterator = raw.makeIterator()
        func finishSegment() -> StaticPathRefusal? {
            if current.isEmpty { return .malformed }
            if current == [0x2E] || current == [0x2E, 0x2E] { return .malformed }
            // Strict UTF-8: Swift's validating initialiser refuses overlong forms and surrogates.
            guard let segment = String(validating: current, as: UTF8.self) else { return .malformed }
            if current.first == 0x2E { hidden = true }
            segments.append(segment)
            current.removeAll(keepingCapacity: true)
            return nil
        }
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "/"):
                if let refusal = finishSegment() { return .failure(refusal) }
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return .failure(.malformed)
                }
                let decoded = high << 4 | low
                // Encoded separators and NUL never name a file; controls are refused too.
                if decoded == 0x2F || decoded == 0x5C || decoded < 0x20 || decoded == 0x7F { return .failure(.malformed) }
                current.append(decoded)
            case UInt8(ascii: "\\"), 0..<0x20, 0x7F:
                return .failure(.malformed)
            default:
                current.append(byte)
            }
        }
        // An empty rest is the mount point reached with its trailing slash.
        let endsWithSlash = current.isEmpty
        if !current.isEmpty, let refusal = finishSegment() { return .failure(refusal) }
        if hidden && !allowHidden { return .failure(.hidden) }
        return .success(StaticRelativePath(segments: segments, endsWithSlash: endsWithSlash))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
