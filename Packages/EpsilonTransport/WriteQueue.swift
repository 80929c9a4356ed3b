#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes waiting to be written on one connection, in manually allocated chunks so that
/// `iovec`s can point at them across calls. Small writes are packed into the tail chunk, so
/// many tiny writes become few vectors; an empty queue holds no memory.
struct WriteQueue {
    private struct Chunk {
        var base: UnsafeMutableRawPointer
        var capacity: Int
        var start: Int
        var end: Int
    }

    private var chunks: [Chunk] = []
    private var head = 0
    private var completions: [(offset: UInt64, callback: (TransportError?) -> Void)] = []
    private var completionHead = 0
    /// Bytes ever enqueued and ever written; their difference is what is pending.
    private(set) var enqueuedTotal: UInt64 = 0
    private(set) var writtenTotal: UInt64 = 0

    static let chunkSize = 16 * 1024

    var pendingBytes: Int { Int(enqueuedTotal - writtenTotal) }
    var isEmpty: Bool { enqueuedTotal == writtenTotal }

    /// Copies `bytes` into the queue.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        var offset = 0
        if head < chunks.count {
            let last = chunks.count - 1
            let room = chunks[last].capacity - chunks[last].end
            if room > 0 {
                let take = min(room, remaining)
                (chunks[last].base + chunks[last].end).copyMemory(from: source, byteCount: take)
                chunks[last].end += take
                remaining -= take
                offset = take
            }
        }
        if remaining > 0 {
            let capacity = max(WriteQueue.chunkSize, remaining)
            let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            base.copyMemory(from: source + offset, byteCount: remaining)
            chunks.append(Chunk(base: base, capacity: capacity, start: 0, end: remaining))
        }
        enqueuedTotal += UInt64(bytes.count)
    }

    /// Appends up to `count` bytes that `fill` writes straight into the queue's memory (for a
    /// TLS engine's output: no staging copy). `fill` gets free room in the tail chunk and
    /// returns how many bytes it wrote there; it is called until `count` bytes are in or it
    /// returns 0.
    mutating func append(count: Int, filling fill: (UnsafeMutableRawBufferPointer) -> Int) {
        var remaining = count
        while remaining > 0 {
            var room = 0
            if head < chunks.count {
                let last = chunks.count - 1
                room = chunks[last].capacity - chunks[last].end
            }
            if room == 0 {
                let capacity = max(WriteQueue.chunkSize, remaining)
                let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
                chunks.append(Chunk(base: base, capacity: capacity, start: 0, end: 0))
                room = capacity
            }
            let last = chunks.count - 1
            let target = UnsafeMutableRawBufferPointer(start: chunks[last].base + chunks[last].end, count: min(room, remaining))
            let written = min(max(fill(target), 0), target.count)
            guard written > 0 else { return }
            chunks[last].end += written
            enqueuedTotal += UInt64(written)
            remaining -= written
        }
    }

    /// Calls `callback` once every byte enqueued so far is written (or the queue fails).
    mutating func appendCompletion(_ callback: @escaping (TransportError?) -> Void) {
        completions.append((enqueuedTotal, callback))
    }

    /// Calls `body` with the start and length of up to `limit` pending runs of bytes, oldest
    /// first; returns how many. (The OS-neutral form of ``fill(_:capacity:)``: IOCP's `WSABUF`s.)
    func forEachPending(limit: Int, _ body: (Int, UnsafeMutableRawPointer, Int) -> Void) -> Int {
        var count = 0
        var index = head
        while index < chunks.count && count < limit {
            let chunk = chunks[index]
            body(count, chunk.base + chunk.start, chunk.end - chunk.start)
            count += 1
            index += 1
        }
        return count
    }

    #if !os(Windows)
    /// Fills up to `capacity` vectors with pending bytes; returns how many.
    func fill(_ vectors: UnsafeMutablePointer<iovec>, capacity: Int) -> Int {
        forEachPending(limit: capacity) { index, base, length in
            vectors[index] = iovec(iov_base: base, iov_len: length)
        }
    }
    #endif

    /// Drops `written` bytes from the front; returns the completions now due.
    mutating func consume(_ written: Int) -> [(TransportError?) -> Void] {
        var remaining = written
        while remaining > 0 && head < chunks.count {
            let available = chunks[head].end - chunks[head].start
            if remaining >= available {
                remaining -= available
                chunks[head].base.deallocate()
                head += 1
            } else {
                chunks[head].start += remaining
                remaining = 0
            }
        }
        writtenTotal += UInt64(written)
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: chunks.count <= 16)
            head = 0
        } else if head > 32 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        var due: [(TransportError?) -> Void] = []
        while completionHead < completions.count && completions[completionHead].offset <= writtenTotal {
            due.append(completions[completionHead].callback)
            completionHead += 1
        }
        if completionHead == completions.count && completionHead > 0 {
            completions.removeAll(keepingCapacity: completions.count <= 16)
            completionHead = 0
        }
        return due
    }

    /// Returns the completions that will never be met, keeping the bytes' memory (a send the
    /// kernel has not finished may still read it; ``drop()`` frees it later).
    mutating func takeCompletions() -> [(TransportError?) -> Void] {
        let failed = completions[completionHead...].map(\.callback)
        completions = []
        completionHead = 0
        return failed
    }

    /// Frees everything and returns the completions that will never be met.
    mutating func drop() -> [(TransportError?) -> Void] {
        for index in head..<chunks.count { chunks[index].base.deallocate() }
        chunks = []
        head = 0
        writtenTotal = enqueuedTotal
        let failed = completions[completionHead...].map(\.callback)
        completions = []
        completionHead = 0
        return failed
    }
}
