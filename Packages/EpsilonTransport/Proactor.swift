#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif os(Windows)
import WinSDK
#endif
#if EPSILON_IOCP_FACSIMILE
// `bash Tests/TypeCheck/run`: the Windows parts below, against Tests/TypeCheck/iocp/WinSDK.swift.
import WinSDK
#endif
import CEpsilonTransportShims

// The completion model (a proactor): the loop asks the OS to *do* an operation (accept, receive,
// send, connect) and later hears that it is done, instead of hearing that a descriptor is ready
// and doing the call itself. io_uring (Linux) and IOCP (Windows) both work this way.
//
// Split between OS-specific and shared code:
// - OS-specific (``Proactor``, thin): queue one operation, cancel one, report completions, lend
//   and take back the loop-owned receive buffers. io_uring: `IOUringPoller` in completion mode;
//   IOCP: `IOCPProactor` (Windows only, not built here).
// - Shared (this file, `Connection`, `Listener`, `LoopCore`): which operations are in flight for
//   which owner (``OperationTable``), who owns which memory until the kernel is done with it
//   (write-queue chunks and the send vectors stay alive until the send completes, even after a
//   close; a receive buffer goes back to the pool after the handler returned, or is parked while
//   reading is paused), write-queue draining, watermarks, half-close, timeouts, shutdown.

/// What an operation does; the low byte of its tag.
enum OperationKind: UInt8 {
    case receive = 1
    case send = 2
    case accept = 3
    case connect = 4
}

/// Identifies one operation: the owner's slot in the loop's ``OperationTable`` and the kind.
/// Bit 62 marks operation tags so a backend that also polls (io_uring) can tell them apart.
struct OperationTag: Hashable {
    let rawValue: UInt64

    static let marker: UInt64 = 1 << 62

    init(slot: Int32, kind: OperationKind) {
        rawValue = OperationTag.marker | UInt64(UInt32(bitPattern: slot)) << 8 | UInt64(kind.rawValue)
    }

    init?(rawValue: UInt64) {
        guard rawValue & OperationTag.marker != 0, rawValue & (1 << 63) == 0 else { return nil }
        self.rawValue = rawValue
    }

    var slot: Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: (rawValue & ~OperationTag.marker) >> 8)) }
    var kind: OperationKind? { OperationKind(rawValue: UInt8(truncatingIfNeeded: rawValue)) }
}

/// A loop-owned receive buffer lent to an owner by a completion.
struct ReceivedBuffer {
    /// The backend's id for the buffer (io_uring: the provided-buffer id).
    let id: UInt16
    /// The bytes received, at the start of the buffer.
    let bytes: UnsafeRawBufferPointer
}

/// One finished operation, as reported by a ``Proactor``.
struct Completion {
    let tag: OperationTag
    /// Bytes moved, an accepted descriptor, 0, or a negated errno.
    let result: Int32
    /// A multishot operation (accept) stays armed and will complete again.
    let more: Bool
    /// The buffer a receive filled, when the backend picked one.
    let buffer: ReceivedBuffer?
}

/// Vectors (and, on POSIX, the `msghdr`) for one gathered send, lent by the loop's pool to a
/// connection while its send is in flight (an idle connection holds none). The kernel reads
/// them until the send completes, so a batch is never refilled or reused before then.
struct SendBatch {
    static let vectorCapacity = 64
    #if os(Windows) || EPSILON_IOCP_FACSIMILE
    private static let headerSize = 0
    private static let vectorSize = MemoryLayout<WSABUF>.stride
    #else
    private static let headerSize = (MemoryLayout<msghdr>.stride + 15) & ~15
    private static let vectorSize = MemoryLayout<iovec>.stride
    #endif
    let base: UnsafeMutableRawPointer
    /// How many vectors the last ``fill(from:)`` set.
    private(set) var count = 0

    init() {
        base = UnsafeMutableRawPointer.allocate(
            byteCount: SendBatch.headerSize + SendBatch.vectorCapacity * SendBatch.vectorSize, alignment: 16)
    }

    func deallocate() { base.deallocate() }

    #if os(Windows) || EPSILON_IOCP_FACSIMILE
    /// The `WSABUF`s for `WSASend`.
    var vectors: UnsafeMutablePointer<WSABUF> {
        base.bindMemory(to: WSABUF.self, capacity: SendBatch.vectorCapacity)
    }

    /// Points the vectors at the queue's pending bytes.
    mutating func fill(from queue: WriteQueue) {
        let vectors = self.vectors
        count = queue.forEachPending(limit: SendBatch.vectorCapacity) { index, start, length in
            vectors[index] = WSABUF(len: ULONG(length), buf: start.assumingMemoryBound(to: CHAR.self))
        }
    }
    #else
    var vectors: UnsafeMutablePointer<iovec> {
        (base + SendBatch.headerSize).bindMemory(to: iovec.self, capacity: SendBatch.vectorCapacity)
    }

    /// The `msghdr` pointing at the vectors (filled by ``fill(from:)``).
    var header: UnsafeMutablePointer<msghdr> { base.bindMemory(to: msghdr.self, capacity: 1) }

    /// Points the vectors at the queue's pending bytes.
    mutating func fill(from queue: WriteQueue) {
        count = queue.fill(vectors, capacity: SendBatch.vectorCapacity)
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = numericCast(count)
        header.pointee = message
    }
    #endif
}

/// The OS-specific half of the completion model. One per loop, used only on its thread.
///
/// Operations queue until the loop's next wait (one system call submits them all); their
/// completions are collected during that wait and handed out by ``takeCompletions(into:)``.
/// Every submitted operation completes exactly once (a multishot accept: until `more` is false),
/// including cancelled ones (with `-ECANCELED`).
protocol Proactor: AnyObject {
    /// Receives into a loop-owned buffer the backend picks when data arrives (so a connection
    /// waiting for data holds no buffer); the completion carries it.
    func submitReceive(_ fd: Int32, tag: OperationTag) throws(TransportError)
    /// Sends the batch's vectors; the batch must stay allocated until the completion.
    func submitSend(_ fd: Int32, batch: SendBatch, tag: OperationTag) throws(TransportError)
    /// Accepts connections; completions carry the new descriptor. With `multishot` (where the
    /// OS can) the operation stays armed; without it, it completes once (a listener that bounds
    /// its accepts asks for each one).
    func submitAccept(_ fd: Int32, multishot: Bool, tag: OperationTag) throws(TransportError)
    /// Connects `fd`; `address` must stay valid until the completion.
    func submitConnect(_ fd: Int32, address: UnsafePointer<sockaddr_storage>, length: socklen_t,
                       tag: OperationTag) throws(TransportError)
    /// Asks for the operation to end early; it then completes (with `-ECANCELED` if it had not
    /// finished).
    func cancel(_ tag: OperationTag)
    /// Gives a receive buffer back to the pool.
    func recycle(_ buffer: ReceivedBuffer)
    /// Hands queued operations to the OS now (before a descriptor they name is closed).
    func submitNow()
    /// Moves the completions collected by the last wait into `completions`.
    func takeCompletions(into completions: inout [Completion])
}

/// An owner of operations: a connection or a listener driven by completions.
protocol CompletionTarget: AnyObject {
    /// One of this owner's operations finished. Returns true when it keeps `completion.buffer`
    /// (it must then ``LoopCore/recycle(_:)`` it later); otherwise the loop recycles it.
    func complete(_ completion: Completion) -> Bool
    /// The loop is stopping: close and tell whoever listens.
    func loopWillStop()
}

/// Which owner each in-flight operation belongs to.
///
/// An owner takes a slot when it opens and gives it up (``retire(_:)``) when it closes; the slot
/// keeps a strong reference to the owner until its last operation has completed, because the
/// kernel may still be reading the owner's memory (send vectors, write-queue chunks, a connect
/// address). Only then is the slot reused, so a late completion never reaches a new owner.
struct OperationTable {
    private struct Slot {
        var owner: (any CompletionTarget)?
        var inFlight = 0
        var retired = false
    }

    private var slots: [Slot] = []
    private var free: [Int32] = []
    /// Operations submitted and not yet completed, over all owners.
    private(set) var inFlight = 0
    /// Owners that have not retired.
    private(set) var liveOwners = 0

    mutating func open(_ owner: any CompletionTarget) -> Int32 {
        liveOwners += 1
        if let slot = free.popLast() {
            slots[Int(slot)] = Slot(owner: owner)
            return slot
        }
        slots.append(Slot(owner: owner))
        return Int32(slots.count - 1)
    }

    mutating func submitted(_ slot: Int32) {
        slots[Int(slot)].inFlight += 1
        inFlight += 1
    }

    /// The owner of a completion; the operation stops counting as in flight unless `more`.
    /// The slot is released when a retired owner's last operation completes.
    mutating func owner(completing completion: Completion) -> (any CompletionTarget)? {
        let index = Int(completion.tag.slot)
        guard index >= 0, index < slots.count, let owner = slots[index].owner else { return nil }
        if !completion.more {
            slots[index].inFlight -= 1
            inFlight -= 1
            if slots[index].retired && slots[index].inFlight == 0 { release(index) }
        }
        return owner
    }

    /// Whether the owner of `slot` has not retired (completions for retired owners only free memory).
    func isLive(_ slot: Int32) -> Bool {
        let index = Int(slot)
        return index >= 0 && index < slots.count && slots[index].owner != nil && !slots[index].retired
    }

    mutating func retire(_ slot: Int32) {
        let index = Int(slot)
        guard index >= 0, index < slots.count, slots[index].owner != nil, !slots[index].retired else { return }
        slots[index].retired = true
        liveOwners -= 1
        if slots[index].inFlight == 0 { release(index) }
    }

    private mutating func release(_ index: Int) {
        slots[index] = Slot()
        free.append(Int32(index))
    }

    /// Every owner that has not retired.
    var liveTargets: [any CompletionTarget] {
        slots.compactMap { $0.retired ? nil : $0.owner }
    }

    mutating func removeAll() {
        slots = []
        free = []
        inFlight = 0
        liveOwners = 0
    }
}
