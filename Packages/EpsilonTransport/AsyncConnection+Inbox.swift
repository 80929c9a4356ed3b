/// Bytes received for an ``AsyncConnection``'s reader and not yet taken, in the chunks they
/// arrived in: a large chunk read ahead is handed on whole (never copied into a flat buffer),
/// and small reads coalesce into the last chunk.
struct AsyncInbox {
    /// Small reads append to the last chunk while it holds fewer bytes than this.
    static let coalesceLimit = 64 * 1024

    private var chunks: [[UInt8]] = []
    /// The first chunk not taken yet.
    private var first = 0
    /// Bytes held.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Appends a copy of `bytes`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        count += bytes.count
        if first < chunks.count, chunks[chunks.count - 1].count < Self.coalesceLimit {
            chunks[chunks.count - 1].append(contentsOf: bytes)
        } else {
            chunks.append(Array(bytes))
        }
    }

    /// Appends `chunk` itself (no copy).
    mutating func append(chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        count += chunk.count
        chunks.append(chunk)
    }

    /// Takes the oldest chunk.
    mutating func take() -> [UInt8]? {
        guard first < chunks.count else { return nil }
        var chunk: [UInt8] = []
        swap(&chunk, &chunks[first])
        first += 1
        count -= chunk.count
        if first == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            first = 0
        }
        return chunk
    }
}
