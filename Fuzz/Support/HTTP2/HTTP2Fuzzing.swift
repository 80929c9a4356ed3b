// What the two HTTP/2 connection harnesses (HTTP2ServerConnection, HTTP2ClientConnection) share:
// the configuration their flag byte selects, and the checks after every receive call.
import EpsilonHTTP2
import FuzzSupport

/// A connection harness's event recorder: what the shared checks read back.
public protocol HTTP2FuzzRecording: HTTP2EventHandler {
    /// Events handled.
    var events: Int { get }
    /// DATA octets reported.
    var dataBytes: Int { get }
    /// DATA per stream, to give back when the window is replenished by hand.
    var data: [(UInt32, Int)] { get }
}

/// The configuration selected by the low bits of a harness's flag byte: bit 0 small limits (so
/// short inputs reach every limit: table, streams, header list and block, CONTINUATION count,
/// flood windows, pending ACKs, a 100-octet window), bit 1 manual window replenishment.
/// `streamsPerConnection` caps the streams a server accepts over the connection's life.
public func fuzzHTTP2Configuration(flags: UInt8, streamsPerConnection: Int? = nil) -> HTTP2Configuration {
    var configuration = HTTP2Configuration()
    if flags & 1 != 0 {
        configuration.headerTableSize = 256
        configuration.maxConcurrentStreams = 4
        configuration.maxHeaderListSize = 512
        configuration.maxHeaderBlockSize = 1024
        configuration.maxContinuationFrames = 2
        configuration.maxResetsPerWindow = 8
        configuration.maxEmptyFramesPerWindow = 8
        configuration.maxPriorityFramesPerWindow = 8
        configuration.maxPendingSettingsAcks = 4
        configuration.maxPendingPingAcks = 4
        if let streamsPerConnection { configuration.maxStreamsPerConnection = streamsPerConnection }
        configuration.initialWindowSize = 100
    }
    if flags & 2 != 0 { configuration.windowReplenishment = .manual }
    return configuration
}

/// Feeds a connection the harness's pieces and checks, after each, what holds whatever the
/// bytes: output queued stays within a small multiple of the bytes received (no amplification,
/// bounded buffering), DATA events carry no more than their frames, and a connection error
/// sticks (later calls throw the same error with no events; the connection is closed and has
/// queued GOAWAY). With manual replenishment it gives back every DATA octet it saw.
public struct HTTP2ReceiveChecker {
    /// The first connection error, once there is one.
    public private(set) var failure: HTTP2ConnectionError?

    public init() {}

    /// Receives `piece` on `connection` into `recorder` and runs the checks.
    public mutating func receive<Recorder: HTTP2FuzzRecording>(
        _ piece: UnsafeRawBufferPointer, now: UInt64, on connection: inout HTTP2Connection,
        configuration: HTTP2Configuration, into recorder: inout Recorder
    ) {
        let before = connection.pendingOutputCount
        do {
            try connection.receive(piece, now: now, handler: &recorder)
            fuzzCheck(failure == nil, "a closed connection accepted bytes")
        } catch {
            if let failure {
                fuzzCheck(error == failure, "a closed connection threw \(error), first \(failure)")
                fuzzCheck(recorder.events == 0, "events after the connection error")
            } else {
                failure = error
            }
            fuzzCheck(connection.isClosed && connection.connectionError == failure,
                      "closed \(connection.isClosed), error \(String(describing: connection.connectionError))")
            fuzzCheck(connection.goawaySentLastStreamID != nil, "no GOAWAY after \(error)")
        }
        let queued = connection.pendingOutputCount - before
        fuzzCheck(queued <= 2 * piece.count + 512, "\(queued) octets queued for \(piece.count) received")
        fuzzCheck(recorder.dataBytes <= piece.count + 16_384 * 2,
                  "\(recorder.dataBytes) DATA octets from \(piece.count) received")
        if configuration.windowReplenishment == .manual {
            for (stream, count) in recorder.data { connection.consume(streamID: stream, count: count) }
        }
    }
}
