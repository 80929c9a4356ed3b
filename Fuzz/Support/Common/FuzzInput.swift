/// Reads the bytes libFuzzer hands a harness as a sequence of choices.
///
/// Every read succeeds: past the end it yields zeros and empty slices, so any input, however
/// short, decodes to some scenario and the fuzzer never wastes runs on rejected inputs.
public struct FuzzInput {
    /// All the input bytes.
    public let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    public private(set) var position = 0

    /// Wraps the buffer libFuzzer passes to `LLVMFuzzerTestOneInput`.
    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: size)
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { position >= bytes.count }

    /// Bytes not read yet.
    public var remaining: Int { max(0, bytes.count - position) }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next two bytes, little-endian.
    public mutating func uint16() -> UInt16 {
        let low = UInt16(byte())
        return low | UInt16(byte()) << 8
    }

    /// The next `count` bytes (fewer at the end), as a view into the input.
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(count, remaining)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + n])
    }

    /// A length byte followed by that many bytes.
    public mutating func lengthPrefixed() -> UnsafeRawBufferPointer {
        take(Int(byte()))
    }

    /// Everything not read yet.
    public mutating func rest() -> UnsafeRawBufferPointer {
        take(remaining)
    }

    /// The next piece of a stream fed in pieces: `size` bytes (fewer at the end), or everything
    /// left when `size` is 0.
    public mutating func piece(size: Int) -> UnsafeRawBufferPointer {
        take(size == 0 ? remaining : size)
    }
}

/// Stops the run with a message when a property a harness checks does not hold.
///
/// A trap is what libFuzzer records as a crash: it saves the input under the artifact prefix
/// and exits non-zero.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition {
        fatalError("fuzz property failed: \(message())", file: file, line: line)
    }
}

/// Bytes as text for failure messages: printable ASCII as is, the rest as `\xHH`.
public func escaped(_ bytes: some Sequence<UInt8>) -> String {
    var text = ""
    for byte in bytes {
        switch byte {
        case 0x0D: text += "\\r"
        case 0x0A: text += "\\n"
        case 0x5C: text += "\\\\"
        case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = "0123456789abcdef".utf8.map { $0 }
            text += "\\x"
            text.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
            text.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
        }
    }
    return text
}
