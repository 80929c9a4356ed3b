import EpsilonTransport

// Zero-copy file regions through the server's seams (see Connection+FileRegion.swift in the
// transport): the socket side says whether it can, the HTTP/1.1 session accounts the bytes in
// its machine and hands the region down; everything else answers no and the static-file
// transfer copies the bytes in bounded reads instead.

extension HTTPServerIO {
    var canSendFiles: Bool { false }

    func sendFile(descriptor: Int32, offset: UInt64, count: UInt64, progress: @escaping () -> Void,
                  completion: @escaping (_ sent: Bool) -> Void) -> Bool {
        false
    }
}

extension HTTPResponseSink {
    func canSendFileRegion(_ exchange: HTTPExchangeID) -> Bool { false }

    func sendFileRegion(_ exchange: HTTPExchangeID, descriptor: Int32, offset: UInt64, count: UInt64,
                        completion: @escaping (_ sent: Bool) -> Void) -> Bool {
        false
    }
}

extension HTTPServerConnectionHandler {
    var canSendFiles: Bool { connection?.canSendFiles ?? false }

    func sendFile(descriptor: Int32, offset: UInt64, count: UInt64, progress: @escaping () -> Void,
                  completion: @escaping (_ sent: Bool) -> Void) -> Bool {
        guard let connection else { return false }
        return connection.sendFile(descriptor: descriptor, offset: offset, count: count,
                                   progress: { _ in progress() }, completion: { error in completion(error == nil) })
    }
}
