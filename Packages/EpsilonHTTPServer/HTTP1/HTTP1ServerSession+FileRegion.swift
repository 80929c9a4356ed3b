import EpsilonHTTP1

// The HTTP/1.1 session's zero-copy body: the machine counts the bytes as sent, the output
// produced so far (the head) goes to the socket's queue, then the file region follows it.
// Loop thread only, like the rest of the session.

extension HTTP1ServerSession {
    func canSendFileRegion(_ id: HTTPExchangeID) -> Bool {
        // Inside `receive` the machine's output waits for the end of the call: the region
        // would overtake the head.
        guard activeMachine == nil, io.canSendFiles, !closing, let current, current.id == id,
              current.headSent, !current.bodyless, !current.responseEnded else { return false }
        return true
    }

    func sendFileRegion(_ id: HTTPExchangeID, descriptor: Int32, offset: UInt64, count: UInt64,
                        completion: @escaping (_ sent: Bool) -> Void) -> Bool {
        guard canSendFileRegion(id) else { return false }
        do throws(HTTP1UsageError) {
            try http.recordBodySentExternally(count: count)
        } catch {
            return false
        }
        flushMachine()
        // While the region is under way the writer counts as stalled: a client that reads
        // nothing is cut at the idle timeout, as on the copying path. Every partial send the
        // transport reports is progress: the stall's time starts again, so a slow reader is
        // not cut however large the region.
        writerStalled = true
        updatePhase()
        let queued = io.sendFile(descriptor: descriptor, offset: offset, count: count, progress: { [weak self] in
            self?.writerProgressed()
        }, completion: { [weak self] sent in
            if let self, !self.closing, self.current?.id == id, self.writerStalled {
                self.writerStalled = false
                self.updatePhase()
            }
            completion(sent)
        })
        guard queued else {
            // The machine counted bytes that will not be sent: the message cannot be finished.
            writerStalled = false
            reset(id)
            return false
        }
        return true
    }
}
