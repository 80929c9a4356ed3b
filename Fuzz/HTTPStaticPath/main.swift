// Fuzzes the static-file path decoder (EpsilonHTTPServer StaticFiles) against a slow
// reference written the other way round: split the raw bytes at `/` first, then
// percent-decode each piece. Input: a flags byte (bit 0: the route serves dot-files), then the
// raw path below the mount point.
// Checks, besides "no crash": the status (200, 400 malformed, 403 hidden) and the segments
// equal the reference's; an accepted path never holds an empty, `.` or `..` segment, a
// separator, a backslash, NUL or a control byte in a segment, or (without dot-files) a hidden
// segment; so joined below a root it names a file inside the root.
@_spi(EpsilonFuzz) import EpsilonHTTPServer
import FuzzSupport

/// A hexadecimal digit's value (one character, so no sign is accepted).
func digit(_ byte: UInt8) -> UInt8? {
    UInt8(String(decoding: [byte], as: UTF8.self), radix: 16)
}

/// The reference decoding: status, segments, trailing slash.
func reference(_ raw: [UInt8], allowHidden: Bool) -> (status: Int, segments: [String], endsWithSlash: Bool) {
    var pieces: [[UInt8]] = [[]]
    for byte in raw {
        if byte == UInt8(ascii: "/") { pieces.append([]) } else { pieces[pieces.count - 1].append(byte) }
    }
    // A trailing `/` (or nothing at all) leaves an empty last piece: it names a directory.
    let endsWithSlash = pieces.last!.isEmpty
    if endsWithSlash { pieces.removeLast() }
    var segments: [String] = []
    var hidden = false
    for piece in pieces {
        var decoded: [UInt8] = []
        var index = 0
        while index < piece.count {
            let byte = piece[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < piece.count, let high = digit(piece[index + 1]), let low = digit(piece[index + 2]) else {
                    return (400, [], false)
                }
                decoded.append(high * 16 + low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        for byte in piece where byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0x7F { return (400, [], false) }
        for byte in decoded where byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0x7F {
            return (400, [], false)
        }
        if decoded.isEmpty || decoded == Array(".".utf8) || decoded == Array("..".utf8) { return (400, [], false) }
        let text = String(decoding: decoded, as: UTF8.self)
        guard Array(text.utf8) == decoded else { return (400, [], false) }  // ill-formed UTF-8 was repaired
        if decoded.first == UInt8(ascii: ".") { hidden = true }
        segments.append(text)
    }
    if hidden && !allowHidden { return (403, [], false) }
    return (200, segments, endsWithSlash)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let allowHidden = input.byte() & 1 == 1
    let raw = input.rest()
    let result = HTTPStaticPathFuzzing.decode(raw, allowHidden: allowHidden)
    let expected = reference(Array(raw), allowHidden: allowHidden)
    fuzzCheck(result.status == expected.status, "status \(result.status), reference \(expected.status) for \(escaped(raw))")
    fuzzCheck(result.segments == expected.segments, "segments \(result.segments), reference \(expected.segments)")
    fuzzCheck(result.endsWithSlash == expected.endsWithSlash, "endsWithSlash for \(escaped(raw))")
    if result.status == 200 {
        for segment in result.segments {
            let bytes = Array(segment.utf8)
            fuzzCheck(!bytes.isEmpty && segment != "." && segment != "..", "dot or empty segment accepted")
            fuzzCheck(!bytes.contains { $0 == 0x2F || $0 == 0x5C || $0 < 0x20 || $0 == 0x7F }, "separator or control accepted")
            fuzzCheck(allowHidden || bytes.first != 0x2E, "hidden segment accepted")
        }
    } else {
        fuzzCheck(result.segments.isEmpty, "segments with a refusal")
    }
    return 0
}
