#if os(Windows) || EPSILON_IOCP_FACSIMILE
// NOT BUILT OR RUN HERE: this file compiles only on Windows, which this project's Linux machines
// cannot build, and the rest of EpsilonTransport is not yet ported to Winsock (it calls
// POSIX `read`/`close`/`setsockopt` on `Int32` descriptors and wakes its loop through a pipe).
// `bash Tests/TypeCheck/run` type-checks it on Linux (with the shared code it plugs into)
// against a facsimile of the Win32 declarations it uses (Tests/TypeCheck/iocp/WinSDK.swift,
// EPSILON_IOCP_FACSIMILE).
// What it shows is that IOCP fits the completion seam in `Proactor.swift` with only this much
// OS-specific code: everything above it (operation table, buffer ownership, write-queue
// draining, back-pressure, half-close, timeouts, shutdown) is the shared Swift code that the
// io_uring backend runs and the Linux test suite exercises.
import WinSDK

/// IOCP as a proactor: each operation is an `OVERLAPPED` record posted with `WSARecv`,
/// `WSASend`, `AcceptEx` or `ConnectEx`; `GetQueuedCompletionStatusEx` reports them done.
///
/// Receive buffers come from a loop-owned pool, as io_uring's provided-buffer ring does. IOCP
/// needs the buffer when the receive is posted (not when data arrives), so a connection waiting
/// for data holds one pool buffer; the pool lends up to `bufferCount` and refuses beyond that
/// with `-ENOBUFS`, which the shared code already handles (retry once buffers come back).
/// Socket handles are carried as `Int32`, like POSIX descriptors: Winsock `SOCKET`s are kernel
/// handles, whose significant bits fit in 32 bits (the guarantee 32/64-bit interop relies on).
final class IOCPProactor: Poller, Proactor {
    /// One in-flight operation; `overlapped` comes first so the `LPOVERLAPPED` the port returns
    /// is the record's address.
    private struct Operation {
        var overlapped = OVERLAPPED()
        var tag: UInt64 = 0
        var socket: Int32 = -1
        var buffer: Int32 = -1
        var vector = WSABUF()
        var flags: DWORD = 0
        /// AcceptEx: the new socket, and room for both addresses.
        var accepted: SOCKET = INVALID_SOCKET
        var addresses: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }

    private let port: HANDLE
    private var associated: Set<Int32> = []
    private var inFlight: [UInt64: UnsafeMutablePointer<Operation>] = [:]
    private var collected: [Completion] = []
    private let bufferCount = 128
    private let bufferSize = 32 * 1024
    private let bufferMemory: UnsafeMutableRawPointer
    private var freeBuffers: [Int32]
    private var entries = [OVERLAPPED_ENTRY](repeating: OVERLAPPED_ENTRY(), count: 256)
    private var acceptEx: LPFN_ACCEPTEX?
    private var connectEx: LPFN_CONNECTEX?
    /// Completion key of `PostQueuedCompletionStatus` wake-ups (the loop's wake-up).
    static let wakeKey: ULONG_PTR = 1
    // Spelled out here because Swift does not import them from the headers: `WSAID_ACCEPTEX`
    // and `WSAID_CONNECTEX` are brace initializers, `SIO_GET_EXTENSION_FUNCTION_POINTER` is
    // `_WSAIORW(IOC_WS2, 6)` (IOC_INOUT | IOC_WS2 | 6).
    /// `WSAID_ACCEPTEX` {b5367df1-cbac-11cf-95ca-00805f48a192}.
    static var acceptExID: GUID {
        GUID(Data1: 0xb536_7df1, Data2: 0xcbac, Data3: 0x11cf, Data4: (0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92))
    }
    /// `WSAID_CONNECTEX` {25a207b9-ddf3-4660-8ee9-76e58c74063e}.
    static var connectExID: GUID {
        GUID(Data1: 0x25a2_07b9, Data2: 0xddf3, Data3: 0x4660, Data4: (0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e))
    }
    /// `SIO_GET_EXTENSION_FUNCTION_POINTER`.
    static let getExtensionFunctionPointer: DWORD = 0xC800_0006

    var backend: PollerBackend { .iocp }
    var isEdgeTriggered: Bool { true }
    var proactor: (any Proactor)? { self }

    init() throws(TransportError) {
        guard let port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nil, 0, 1) else {
            throw .backendUnavailable("CreateIoCompletionPort: error \(GetLastError())")
        }
        self.port = port
        bufferMemory = UnsafeMutableRawPointer.allocate(byteCount: bufferCount * bufferSize, alignment: 16)
        freeBuffers = (0..<Int32(bufferCount)).reversed()
    }

    private func associate(_ fd: Int32) -> Bool {
        if associated.contains(fd) { return true }
        let handle = HANDLE(bitPattern: UInt(UInt32(bitPattern: fd)))
        guard CreateIoCompletionPort(handle, port, 0, 0) != nil else { return false }
        // A completion is queued even when the call finishes at once; one path for both.
        associated.insert(fd)
        return true
    }

    private func record(_ tag: OperationTag, _ fd: Int32) -> UnsafeMutablePointer<Operation> {
        let operation = UnsafeMutablePointer<Operation>.allocate(capacity: 1)
        operation.initialize(to: Operation())
        operation.pointee.tag = tag.rawValue
        operation.pointee.socket = fd
        inFlight[tag.rawValue] = operation
        return operation
    }

    /// `WSA_IO_PENDING` or success: the port reports it. Anything else: post the failure so it
    /// still completes exactly once.
    private func posted(_ ok: Bool, _ operation: UnsafeMutablePointer<Operation>) {
        let error = WSAGetLastError()
        if ok || error == WSA_IO_PENDING { return }
        operation.pointee.overlapped.Internal = ULONG_PTR(UInt32(bitPattern: error))
        PostQueuedCompletionStatus(port, 0, 0, &operation.pointee.overlapped)
    }

    // MARK: Proactor

    func submitReceive(_ fd: Int32, tag: OperationTag) throws(TransportError) {
        guard associate(fd) else { throw .system(call: "CreateIoCompletionPort", errno: Int32(GetLastError())) }
        let operation = record(tag, fd)
        guard let buffer = freeBuffers.popLast() else {
            operation.pointee.overlapped.Internal = ULONG_PTR(WSAENOBUFS)
            PostQueuedCompletionStatus(port, 0, 0, &operation.pointee.overlapped)
            return
        }
        operation.pointee.buffer = buffer
        operation.pointee.vector = WSABUF(len: ULONG(bufferSize),
                                          buf: (bufferMemory + Int(buffer) * bufferSize).assumingMemoryBound(to: CHAR.self))
        let result = WSARecv(SOCKET(UInt32(bitPattern: fd)), &operation.pointee.vector, 1, nil,
                             &operation.pointee.flags, &operation.pointee.overlapped, nil)
        posted(result == 0, operation)
    }

    func submitSend(_ fd: Int32, batch: SendBatch, tag: OperationTag) throws(TransportError) {
        guard associate(fd) else { throw .system(call: "CreateIoCompletionPort", errno: Int32(GetLastError())) }
        let operation = record(tag, fd)
        let result = WSASend(SOCKET(UInt32(bitPattern: fd)), batch.vectors, DWORD(batch.count), nil, 0,
                             &operation.pointee.overlapped, nil)
        posted(result == 0, operation)
    }

    /// `AcceptEx` accepts one connection per call: `multishot` is not available.
    func submitAccept(_ fd: Int32, multishot: Bool, tag: OperationTag) throws(TransportError) {
        guard associate(fd), let acceptEx = try loadExtensions(fd).accept else {
            throw .system(call: "AcceptEx", errno: Int32(WSAGetLastError()))
        }
        let operation = record(tag, fd)
        // The family of the listener decides the family of the accepting socket.
        var family = WSAPROTOCOL_INFOW()
        var length = Int32(MemoryLayout<WSAPROTOCOL_INFOW>.size)
        // `optval` is a `char *` in Winsock.
        withUnsafeMutableBytes(of: &family) { raw in
            _ = getsockopt(SOCKET(UInt32(bitPattern: fd)), SOL_SOCKET, SO_PROTOCOL_INFOW,
                           raw.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
        }
        operation.pointee.accepted = WSASocketW(family.iAddressFamily, SOCK_STREAM, 0, nil, 0, DWORD(WSA_FLAG_OVERLAPPED))
        let addressLength = DWORD(MemoryLayout<SOCKADDR_STORAGE>.size + 16)
        let ok = withUnsafeMutableBytes(of: &operation.pointee.addresses) { room in
            acceptEx(SOCKET(UInt32(bitPattern: fd)), operation.pointee.accepted, room.baseAddress, 0,
                     addressLength, addressLength, nil, &operation.pointee.overlapped)
        }
        posted(ok, operation)
    }

    func submitConnect(_ fd: Int32, address: UnsafePointer<sockaddr_storage>, length: socklen_t,
                       tag: OperationTag) throws(TransportError) {
        guard associate(fd), let connectEx = try loadExtensions(fd).connect else {
            throw .system(call: "ConnectEx", errno: Int32(WSAGetLastError()))
        }
        // ConnectEx wants a bound socket.
        var any = sockaddr_storage()
        any.ss_family = address.pointee.ss_family
        _ = withUnsafePointer(to: &any) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(SOCKET(UInt32(bitPattern: fd)), $0, length) }
        }
        let operation = record(tag, fd)
        let ok = address.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
            connectEx(SOCKET(UInt32(bitPattern: fd)), target, Int32(length), nil, 0, nil, &operation.pointee.overlapped)
        }
        posted(ok, operation)
    }

    func cancel(_ tag: OperationTag) {
        guard let operation = inFlight[tag.rawValue] else { return }
        // The operation then completes with ERROR_OPERATION_ABORTED (reported as -ECANCELED).
        CancelIoEx(HANDLE(bitPattern: UInt(UInt32(bitPattern: operation.pointee.socket))), &operation.pointee.overlapped)
    }

    func recycle(_ buffer: ReceivedBuffer) { freeBuffers.append(Int32(buffer.id)) }

    /// IOCP starts every operation when it is posted: nothing waits for a later system call.
    func submitNow() {}

    func takeCompletions(into completions: inout [Completion]) {
        swap(&completions, &collected)
        collected.removeAll(keepingCapacity: true)
    }

    private func loadExtensions(_ fd: Int32) throws(TransportError) -> (accept: LPFN_ACCEPTEX?, connect: LPFN_CONNECTEX?) {
        if acceptEx == nil {
            var acceptGUID = IOCPProactor.acceptExID
            var connectGUID = IOCPProactor.connectExID
            var returned: DWORD = 0
            WSAIoctl(SOCKET(UInt32(bitPattern: fd)), IOCPProactor.getExtensionFunctionPointer, &acceptGUID,
                     DWORD(MemoryLayout<GUID>.size), &acceptEx, DWORD(MemoryLayout<LPFN_ACCEPTEX>.size), &returned, nil, nil)
            WSAIoctl(SOCKET(UInt32(bitPattern: fd)), IOCPProactor.getExtensionFunctionPointer, &connectGUID,
                     DWORD(MemoryLayout<GUID>.size), &connectEx, DWORD(MemoryLayout<LPFN_CONNECTEX>.size), &returned, nil, nil)
        }
        return (acceptEx, connectEx)
    }

    // MARK: Poller (wake-ups only: IOCP has no readiness for the loop's other registrations)

    func register(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {}
    func reregister(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {}
    func deregister(_ fd: Int32, token: UInt64) {}

    func wait(timeoutMilliseconds: Int32, into events: inout [PollerEvent]) throws(TransportError) {
        var count: ULONG = 0
        let ok = entries.withUnsafeMutableBufferPointer { buffer in
            GetQueuedCompletionStatusEx(port, buffer.baseAddress, ULONG(buffer.count), &count,
                                        timeoutMilliseconds < 0 ? INFINITE : DWORD(timeoutMilliseconds), false)
        }
        guard ok else { return }  // WAIT_TIMEOUT
        for index in 0..<Int(count) {
            let entry = entries[index]
            if entry.lpCompletionKey == IOCPProactor.wakeKey {
                events.append(PollerEvent(token: LoopCore.wakeToken, readable: true, writable: false, hangup: false, error: false))
                continue
            }
            guard let raw = entry.lpOverlapped else { continue }
            let operation = UnsafeMutableRawPointer(raw).assumingMemoryBound(to: Operation.self)
            let status = UInt32(truncatingIfNeeded: operation.pointee.overlapped.Internal)
            let tag = OperationTag(rawValue: operation.pointee.tag)!
            var result = Int32(bitPattern: entry.dwNumberOfBytesTransferred)
            if status != 0 { result = -IOCPProactor.errno(fromStatus: status) }
            var buffer: ReceivedBuffer?
            if operation.pointee.buffer >= 0 {
                let id = UInt16(operation.pointee.buffer)
                buffer = ReceivedBuffer(id: id, bytes: UnsafeRawBufferPointer(
                    start: bufferMemory + Int(id) * bufferSize, count: max(Int(result), 0)))
            }
            if tag.kind == .accept && result >= 0 {
                result = Int32(truncatingIfNeeded: operation.pointee.accepted)
            }
            inFlight[tag.rawValue] = nil
            operation.deinitialize(count: 1)
            operation.deallocate()
            collected.append(Completion(tag: tag, result: result, more: false, buffer: buffer))
        }
    }

    /// NTSTATUS / Winsock codes to the POSIX errno values the shared code switches on.
    private static func errno(fromStatus status: UInt32) -> Int32 {
        switch Int32(bitPattern: status) {
        case Int32(WSAENOBUFS): return ENOBUFS
        case Int32(bitPattern: 0xC000_0120) /* STATUS_CANCELLED */: return ECANCELED
        case Int32(bitPattern: 0xC000_020D) /* STATUS_CONNECTION_RESET */: return ECONNRESET
        case Int32(bitPattern: 0xC000_0236) /* STATUS_CONNECTION_REFUSED */: return ECONNREFUSED
        default: return EIO
        }
    }

    func close() {
        CloseHandle(port)
        bufferMemory.deallocate()
    }
}
#endif
