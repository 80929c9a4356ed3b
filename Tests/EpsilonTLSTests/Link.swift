import EpsilonTLS

/// Two engines wired back to back in memory: each one's output is the other's input.
final class Link {
    let client: TLSEngine
    let server: TLSEngine
    var clientPlaintext: [UInt8] = []
    var serverPlaintext: [UInt8] = []
    var clientError: TLSError?
    var serverError: TLSError?
    var clientEvents: TLSEngine.Events = []
    var serverEvents: TLSEngine.Events = []
    /// Deliver ciphertext in pieces of at most this many bytes (to prove any split works).
    var chunkSize = Int.max

    init(client: TLSEngine, server: TLSEngine) {
        self.client = client
        self.server = server
    }

    convenience init(_ client: TLSContext, _ server: TLSContext, serverName: String? = "localhost",
                     resuming session: TLSSession? = nil) throws {
        self.init(client: try TLSEngine(context: client, serverName: serverName, resuming: session),
                  server: try TLSEngine(context: server))
    }

    /// Moves bytes both ways until neither side has anything more to say.
    func run() {
        for _ in 0..<10_000 {
            var moved = false
            if clientError == nil {
                do { clientEvents.formUnion(try client.process(into: &clientPlaintext)) } catch { clientError = error }
            }
            moved = deliver(client.takeOutput(), to: server, error: &serverError, plaintext: &serverPlaintext, events: &serverEvents) || moved
            if serverError == nil {
                do { serverEvents.formUnion(try server.process(into: &serverPlaintext)) } catch { serverError = error }
            }
            moved = deliver(server.takeOutput(), to: client, error: &clientError, plaintext: &clientPlaintext, events: &clientEvents) || moved
            if !moved { return }
        }
    }

    private func deliver(_ bytes: [UInt8], to engine: TLSEngine, error: inout TLSError?, plaintext: inout [UInt8],
                         events: inout TLSEngine.Events) -> Bool {
        guard !bytes.isEmpty else { return false }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunkSize)
            engine.receive(Array(bytes[start..<end]))
            if chunkSize != Int.max, error == nil {
                do { events.formUnion(try engine.process(into: &plaintext)) } catch let thrown { error = thrown }
            }
            start = end
        }
        return true
    }

    var bothEstablished: Bool { client.isHandshakeComplete && server.isHandshakeComplete }
}
