import EpsilonTLS

extension Connection {
    /// Puts a TLS engine made from `options` between the socket and the handler of this open
    /// plaintext connection: TLS inside an HTTP `CONNECT` tunnel, or a STARTTLS upgrade.
    ///
    /// A client engine queues its ClientHello at once; the handshake deadline
    /// (``TLSOptions/handshakeTimeout``) starts now, and
    /// ``ConnectionHandler/connectionDidCompleteTLSHandshake(_:)`` runs when it is done. Bytes
    /// the handler already read stay plaintext; everything read and written from now on goes
    /// through the engine. Loop thread only.
    ///
    /// - Throws: ``TransportError/closed`` when the connection is not open,
    ///   ``TransportError/tls(_:)`` when it already runs TLS or the engine cannot be made.
    public func startTLS(_ options: TLSOptions) throws(TransportError) {
        guard state == .active else { throw closingError ?? .closed }
        guard tls == nil else { throw .tls(.invalidConfiguration(reason: "the connection already runs TLS")) }
        let engine: TLSEngine
        do { engine = try options.makeEngine() } catch { throw .tls(error) }
        let stream = TLSStream(engine: engine, options: options)
        tls = stream
        stream.startDeadline(on: self)
        stream.process(on: self)
        if state == .active && !queue.isEmpty { flush() }
    }
}
