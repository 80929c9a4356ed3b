#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes waiting to be written on one connection, in manually allocated chunks so that
/// `iovec`s can point at them across calls. Small writes are packed into the tail chunk, so
/// many tiny writes become few vectors; an empty queue holds no memory.
///
/// After the chunks comes the *tail*: a `[UInt8]` that a protocol machine appends its output
/// to in place (``appendInPlace(_:spare:)``, for `Connection.write { buffer in ... }`), so its
/// bytes reach the kernel without an intermediate copy. The tail's storage is lent by the
/// loop and given back once it is written (``takeWrittenTail()``). Readiness sends point a
/// vector at it for the duration of the call; a completion backend, whose kernel reads the
/// vectors later, first moves it into chunks (``sealTail()``).
///
/// A chunk may also be *shared* (``append(shared:)``): it points into a
/// ``ConnectionSharedBytes`` that many queues reference, is never packed into (its capacity is
/// its end) and is released, not freed, once written. The reference is dropped only when the
/// queue consumes the bytes or is dropped, so a completion backend's send in flight keeps the
/// memory alive.
struct WriteQueue {
    private struct Chunk {
        var base: UnsafeMutableRawPointer
        var capacity: Int
        var start: Int
        var end: Int
        /// The shared bytes this chunk points into (nil: the queue allocated `base`).
        var owner: ConnectionSharedBytes? = nil

        /// Frees or releases the chunk's memory.
        mutating func release() {
            if owner == nil { base.deallocate() } else { owner = nil }
        }
    }

    private var chunks: [Chunk] = []
    private var head = 0
    private var completions: [(offset: UInt64, callback: (TransportError?) -> Void)] = []
    private var completionHead = 0
    /// The tail: the newest bytes, after every chunk; `tail[tailStart...]` is pending.
    private var tail: [UInt8] = []
    private var tailStart = 0
    /// Bytes ever enqueued and ever written; their difference is what is pending.
    private(set) var enqueuedTotal: UInt64 = 0
    private(set) var writtenTotal: UInt64 = 0

    static let chunkSize = 16 * 1024
    /// Shared bytes up to this size are copied into the queue instead of referenced: a copy
    /// of a small frame costs less than the reference count and the extra vector it saves
    /// (measured with the fan-out benchmark; see Benchmarks/README.md, WebSocket section).
    static let sharedCopyLimit = 256

    var pendingBytes: Int { Int(enqueuedTotal - writtenTotal) }
    var isEmpty: Bool { enqueuedTotal == writtenTotal }

    /// True while the tail holds bytes not yet written: later bytes must follow them there.
    private var tailIsPending: Bool { tailStart < tail.count }

    /// Copies `bytes` into the queue.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if tailIsPending {
            tail.append(contentsOf: bytes)
        } else {
            appendToChunks(bytes)
        }
        enqueuedTotal += UInt64(bytes.count)
    }

    /// Queues `shared` by reference (bytes above ``sharedCopyLimit``; smaller ones are copied).
    /// The tail must hold no pending bytes (seal it first): later bytes follow this segment.
    mutating func append(shared: ConnectionSharedBytes) {
        let count = shared.count
        guard count > 0 else { return }
        guard count > WriteQueue.sharedCopyLimit, !tailIsPending else {
            append(shared.bytes)
            return
        }
        chunks.append(Chunk(base: shared.base, capacity: count, start: 0, end: count, owner: shared))
        enqueuedTotal += UInt64(count)
    }

    /// True while the tail holds bytes not yet written (``append(shared:)`` needs it sealed).
    var hasPendingTail: Bool { tailIsPending }

    /// Lets `body` append to the tail in place; `spare` lends the storage when the tail is
    /// empty (and takes it back if nothing was appended). Returns how many bytes were appended.
    mutating func appendInPlace(_ body: (inout [UInt8]) -> Void, spare: inout [UInt8]) -> Int {
        let borrowed = tail.isEmpty && tail.capacity == 0
        if borrowed { swap(&tail, &spare) }
        let before = tail.count
        body(&tail)
        let added = max(tail.count - before, 0)
        enqueuedTotal += UInt64(added)
        if borrowed && tail.isEmpty { swap(&tail, &spare) }
        return added
    }

    /// The tail's storage once everything in it was written (nil while it holds pending bytes
    /// or holds no storage), for the loop to lend again.
    mutating func takeWrittenTail() -> [UInt8]? {
        guard !tailIsPending, tail.capacity > 0 else { return nil }
        var taken: [UInt8] = []
        swap(&taken, &tail)
        tailStart = 0
        taken.removeAll(keepingCapacity: true)
        return taken
    }

    /// Moves the tail's pending bytes into chunks (for a send whose vectors the kernel reads
    /// after the call returns); returns the emptied storage for the loop.
    mutating func sealTail() -> [UInt8]? {
        guard tailIsPending else { return takeWrittenTail() }
        tail.withUnsafeBytes { raw in appendToChunks(UnsafeRawBufferPointer(rebasing: raw[tailStart...])) }
        tailStart = tail.count
        return takeWrittenTail()
    }

    /// Copies `bytes` into the chunks (not counted: the caller counts).
    private mutating func appendToChunks(_ bytes: UnsafeRawBufferPointer) {
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
    }

    /// Appends up to `count` bytes that `fill` writes straight into the queue's memory (for a
    /// TLS engine's output: no staging copy). `fill` gets free room in the tail chunk and
    /// returns how many bytes it wrote there; it is called until `count` bytes are in or it
    /// returns 0.
    mutating func append(count: Int, filling fill: (UnsafeMutableRawBufferPointer) -> Int) {
        if tailIsPending {
            // Later bytes follow the tail's: fill room at its end, then trim what was not used.
            let before = tail.count
            tail.append(contentsOf: repeatElement(0, count: count))
            var written = 0
            tail.withUnsafeMutableBytes { raw in
                while written < count {
                    let room = UnsafeMutableRawBufferPointer(rebasing: raw[(before + written)..<(before + count)])
                    let step = min(max(fill(room), 0), room.count)
                    if step == 0 { break }
                    written += step
                }
            }
            tail.removeLast(count - written)
            enqueuedTotal += UInt64(written)
            return
        }
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

    /// Calls `body` with the start and length of up to `limit` pending runs of bytes in the
    /// chunks, oldest first; returns how many. (The OS-neutral form of ``fill(_:capacity:)``:
    /// IOCP's `WSABUF`s.) The tail is not included: seal it first (``sealTail()``).
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
    /// Fills up to `capacity` vectors with pending bytes of the chunks; returns how many (the
    /// tail is not included: seal it first, or use ``withPendingVectors(_:capacity:_:)``).
    func fill(_ vectors: UnsafeMutablePointer<iovec>, capacity: Int) -> Int {
        forEachPending(limit: capacity) { index, base, length in
            vectors[index] = iovec(iov_base: base, iov_len: length)
        }
    }

    /// Fills up to `capacity` vectors with pending bytes, the tail's included, and calls `body`
    /// with their count while they are valid (the tail's vector only during the call).
    func withPendingVectors<R>(_ vectors: UnsafeMutablePointer<iovec>, capacity: Int, _ body: (Int) -> R) -> R {
        let count = fill(vectors, capacity: capacity)
        guard count < capacity, tailIsPending else { return body(count) }
        return tail.withUnsafeBytes { raw in
            let start = UnsafeMutableRawPointer(mutating: raw.baseAddress! + tailStart)
            vectors[count] = iovec(iov_base: start, iov_len: raw.count - tailStart)
            return body(count + 1)
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
                chunks[head].release()
                head += 1
            } else {
                chunks[head].start += remaining
                remaining = 0
            }
        }
        if remaining > 0 {
            // The chunks are all written; the rest came from the tail.
            tailStart = min(tailStart + remaining, tail.count)
            if tailStart == tail.count {
                tail.removeAll(keepingCapacity: true)
                tailStart = 0
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
        for index in head..<chunks.count { chunks[index].release() }
        chunks = []
        head = 0
        tail = []
        tailStart = 0
        writtenTotal = enqueuedTotal
        let failed = completions[completionHead...].map(\.callback)
        completions = []
        completionHead = 0
        return failed
    }
}
