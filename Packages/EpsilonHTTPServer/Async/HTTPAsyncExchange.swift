import Synchronization

/// One request served by an async handler: the loop side of the seam (``HTTPServerExchange``)
/// and what the handler's task reaches through ``HTTPRequestBody`` and
/// ``HTTPServerResponseWriter``.
///
/// Thread rules: `sink`, `writeWaiter`, `task` and the `loop…` flags are touched only on the
/// loop thread (seam calls, and closures run by the sink's executor); everything the task
/// reads directly sits in `shared` under a mutex. That is why the class may be
/// `@unchecked Sendable`.
final class HTTPAsyncExchange: HTTPServerExchange, @unchecked Sendable {
    /// Body pieces waiting for the handler, and the handler waiting for them.
    struct Shared {
        var chunks: [[UInt8]] = []
        var first = 0
        var ended = false
        var aborted = false
        var bodyWaiter: CheckedContinuation<[UInt8]?, any Error>?
    }

    let shared = Mutex(Shared())
    let id: HTTPExchangeID
    let executor: HTTPServerLoopExecutor
    // Loop thread only:
    private var sink: (any HTTPResponseSink)?
    private var writeWaiter: CheckedContinuation<Void, any Error>?
    private var task: Task<Void, Never>?
    private var timeoutTask: Task<Void, Never>?
    private var loopHeadSent = false
    private var loopEnded = false
    private var loopAborted = false
    private var bodyBytesDelivered: UInt64 = 0

    /// Largest piece a body chunk grows to by coalescing small reads.
    private static let coalesceLimit = 16 * 1024

    init(sink: any HTTPResponseSink, id: HTTPExchangeID) {
        self.sink = sink
        self.id = id
        executor = sink.executor
    }

    /// Starts the handler's task (on the loop, right after the head was dispatched).
    func start(timeout: Duration?, _ body: @escaping @Sendable (HTTPServerResponseWriter) async throws -> Void) {
        let writer = HTTPServerResponseWriter(exchange: self)
        task = Task { [self] in
            do {
                try await body(writer)
                await self.onLoop { exchange in exchange.handlerReturned(failed: false) }
            } catch {
                await self.onLoop { exchange in exchange.handlerReturned(failed: true) }
            }
        }
        if let timeout {
            let executor = self.executor
            timeoutTask = Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil, let self else { return }
                _ = executor.execute { self.timedOut() }
            }
        }
    }

    // MARK: Seam (loop thread)

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        guard !loopAborted else { return }
        bodyBytesDelivered &+= UInt64(bytes.count)
        let handedOver: Int? = shared.withLock { state in
            if let waiter = state.bodyWaiter {
                state.bodyWaiter = nil
                waiter.resume(returning: Array(bytes))
                return bytes.count
            }
            if let last = state.chunks.indices.last, last >= state.first,
               state.chunks[last].count + bytes.count <= Self.coalesceLimit {
                state.chunks[last].append(contentsOf: bytes)
            } else {
                state.chunks.append(Array(bytes))
            }
            return nil
        }
        if let handedOver { sink?.bodyConsumed(id, count: handedOver) }
    }

    func receiveEnd(trailers: HTTPRequestFieldLines?) {
        shared.withLock { state in
            state.ended = true
            if let waiter = state.bodyWaiter, state.first == state.chunks.count {
                state.bodyWaiter = nil
                waiter.resume(returning: nil)
            }
        }
    }

    func abort() {
        guard !loopAborted else { return }
        loopAborted = true
        sink = nil
        shared.withLock { state in
            state.aborted = true
            state.chunks = []
            state.first = 0
            if let waiter = state.bodyWaiter {
                state.bodyWaiter = nil
                waiter.resume(throwing: HTTPServerHandlerError(.cancelled))
            }
        }
        if let waiter = writeWaiter {
            writeWaiter = nil
            waiter.resume(throwing: HTTPServerHandlerError(.cancelled))
        }
        task?.cancel()
        timeoutTask?.cancel()
        timeoutTask = nil
    }

    func responseWritable() {
        guard let waiter = writeWaiter, let sink, sink.writableBytes(id) > 0 else { return }
        writeWaiter = nil
        waiter.resume()
    }

    // MARK: From the handler's task

    /// Runs `body` on the loop thread (nothing when the loop is gone).
    func onLoop(_ body: @escaping @Sendable (HTTPAsyncExchange) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = executor.execute { [self] in
                body(self)
                continuation.resume()
            }
            if !accepted { continuation.resume() }
        }
    }

    /// Runs a write on the loop thread; suspends until the session can take more.
    func write(_ operation: @escaping @Sendable (HTTPAsyncExchange) throws(HTTPServerHandlerError) -> Bool) async throws(HTTPServerHandlerError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let accepted = executor.execute { [self] in
                    do throws(HTTPServerHandlerError) {
                        guard !loopAborted, sink != nil else { throw HTTPServerHandlerError(.cancelled) }
                        let mustWait = try operation(self)
                        if mustWait {
                            writeWaiter = continuation
                        } else {
                            continuation.resume()
                        }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                if !accepted { continuation.resume(throwing: HTTPServerHandlerError(.cancelled)) }
            }
        } catch let error as HTTPServerHandlerError {
            throw error
        } catch {
            throw HTTPServerHandlerError(.cancelled)
        }
    }

    /// Loop: sends the head.
    func loopSendHead(status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?) throws(HTTPServerHandlerError) -> Bool {
        guard let sink else { throw HTTPServerHandlerError(.cancelled) }
        if status >= 200 {
            guard !loopHeadSent else { throw HTTPServerHandlerError(.invalidOrder) }
            loopHeadSent = true
        }
        sink.sendHead(id, status: status, fields: fields, bodyLength: bodyLength)
        return false
    }

    /// Loop: sends body bytes; true when the writer must wait for room.
    func loopSendBody(_ bytes: [UInt8]) throws(HTTPServerHandlerError) -> Bool {
        guard let sink else { throw HTTPServerHandlerError(.cancelled) }
        guard loopHeadSent, !loopEnded else { throw HTTPServerHandlerError(.invalidOrder) }
        bytes.withUnsafeBytes { sink.sendBody(id, $0) }
        return sink.writableBytes(id) == 0
    }

    /// Loop: ends the response.
    func loopSendEnd(trailers: [(name: String, value: String)]) throws(HTTPServerHandlerError) -> Bool {
        guard let sink else { throw HTTPServerHandlerError(.cancelled) }
        guard loopHeadSent, !loopEnded else { throw HTTPServerHandlerError(.invalidOrder) }
        loopEnded = true
        sink.sendEnd(id, trailers: trailers)
        return false
    }

    /// Loop: the handler returned (or threw): finish what it left open.
    private func handlerReturned(failed: Bool) {
        task = nil
        timeoutTask?.cancel()
        timeoutTask = nil
        guard !loopAborted, let sink, !loopEnded else { return }
        loopEnded = true
        if !loopHeadSent {
            // 500 without the error's text; also for a handler that returned without answering.
            sink.sendHead(id, status: 500, fields: [], bodyLength: 0)
            sink.sendEnd(id, trailers: [])
        } else if failed {
            sink.reset(id)
        } else {
            sink.sendEnd(id, trailers: [])
        }
    }

    /// Loop: the request timeout passed.
    private func timedOut() {
        guard !loopAborted, !loopEnded, let sink else { return }
        let headSent = loopHeadSent
        loopEnded = true
        if !headSent {
            sink.sendHead(id, status: 503, fields: [], bodyLength: 0)
            sink.sendEnd(id, trailers: [])
        } else {
            sink.reset(id)
        }
        abort()
    }

    /// Loop: the handler took `count` body bytes.
    func loopConsumed(_ count: Int) {
        guard !loopAborted else { return }
        sink?.bodyConsumed(id, count: count)
    }

    /// Task: the next body piece; nil at the end.
    func nextBodyChunk() async throws(HTTPServerHandlerError) -> [UInt8]? {
        enum Immediate { case chunk([UInt8]), end, aborted, wait }
        let immediate: Immediate = shared.withLock { state in
            if state.aborted { return .aborted }
            if state.first < state.chunks.count {
                let chunk = state.chunks[state.first]
                state.chunks[state.first] = []
                state.first += 1
                if state.first == state.chunks.count {
                    state.chunks.removeAll(keepingCapacity: true)
                    state.first = 0
                }
                return .chunk(chunk)
            }
            return state.ended ? .end : .wait
        }
        switch immediate {
        case .chunk(let chunk):
            let count = chunk.count
            _ = executor.execute { [self] in loopConsumed(count) }
            return chunk
        case .end:
            return nil
        case .aborted:
            throw HTTPServerHandlerError(.cancelled)
        case .wait:
            break
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
                    shared.withLock { state in
                        if state.aborted || Task.isCancelled {
                            continuation.resume(throwing: HTTPServerHandlerError(.cancelled))
                        } else if state.first < state.chunks.count {
                            let chunk = state.chunks[state.first]
                            state.chunks[state.first] = []
                            state.first += 1
                            let count = chunk.count
                            _ = executor.execute { [self] in loopConsumed(count) }
                            continuation.resume(returning: chunk)
                        } else if state.ended {
                            continuation.resume(returning: nil)
                        } else {
                            state.bodyWaiter = continuation
                        }
                    }
                }
            } onCancel: {
                shared.withLock { state in
                    if let waiter = state.bodyWaiter {
                        state.bodyWaiter = nil
                        waiter.resume(throwing: HTTPServerHandlerError(.cancelled))
                    }
                }
            }
        } catch let error as HTTPServerHandlerError {
            throw error
        } catch {
            throw HTTPServerHandlerError(.cancelled)
        }
    }
}
