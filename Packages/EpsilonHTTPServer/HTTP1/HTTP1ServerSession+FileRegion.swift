import EpsilonHTTP1

// The HTTP/1.1 session's zero-copy body: the machine counts the bytes as sent, the output
// produced so far (the head) goes to the socket's queue, then the file region follows it.

extension HTTP1ServerSession {
    func sendFileRegion(_ id: HTTPExchangeID, descriptor: Int32, offset: UInt64, count: UInt64,
                        completion: @escaping (_ sent: Bool) -> Void) -> Bool {
        // Inside `receive` the machine's output waits for the end of the call: the region
        // would overtake the head.
        guard activeMachine == nil, io.canSendFiles, !closing, let current, current.id == id,
              current.headSent, !current.bodyless, !current.responseEnded else { return false }
        do throws(HTTP1UsageError) {
            try http.recordBodySentExternally(count: count)
        } catch {
            return false
        }
        flushMachine()
        guard io.sendFile(descriptor: descriptor, offset: offset, count: count, completion: completion) else {
            // The machine counted bytes that will not be sent: the message cannot be finished.
            reset(id)
            return false
        }
        return true
    }
}
