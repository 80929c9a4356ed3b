/// The crafted server's deterministic bytes: byte i is i % 251.
func patternBytes(_ count: Int, from offset: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8((offset + $0) % 251) }
}

/// Whether `chunk` is the pattern starting at `offset`.
func matchesPattern(_ chunk: [UInt8], at offset: Int) -> Bool {
    var expected = offset % 251
    for byte in chunk {
        if Int(byte) != expected { return false }
        expected = expected == 250 ? 0 : expected + 1
    }
    return true
}

/// Chunks of the pattern, `total` bytes in `chunkSize` pieces, as an async sequence.
struct PatternChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let total: Int
    let chunkSize: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let total: Int
        let chunkSize: Int
        var sent = 0
        mutating func next() async -> [UInt8]? {
            guard sent < total else { return nil }
            let count = Swift.min(chunkSize, total - sent)
            defer { sent += count }
            return patternBytes(count, from: sent)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(total: total, chunkSize: chunkSize) }
}
