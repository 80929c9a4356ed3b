// Fuzzes a server-side TLSEngine with arbitrary bytes as the client's records.
// Input: a configuration byte (bit 0 the context offering ALPN h2/http/1.1 and a second
// certificate by SNI rather than the plain one, bit 1 end of stream after the last piece,
// bit 2 the server sends application data when the handshake completes, bit 3 close() after
// the last piece), a piece-size byte (0: everything in one call), then the client's bytes,
// fed in pieces of that size, each followed by process(into:) and takeOutput().
// Checks, besides "no crash": no more plaintext than ciphertext received, a failure sticks
// (process throws the same error again), handshakeCompleted is reported once and matches
// isHandshakeComplete, and the output taken stays bounded by a handshake's worth plus a
// multiple of the input.
//
// The certificate and key are made at first use by the `openssl` command-line tool in a
// fresh temporary folder (nothing secret is committed); the contexts are made once.
import EpsilonTLS
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs `openssl` with arguments; traps (a harness set-up failure, not a finding) on failure.
private func openssl(_ arguments: String) {
    let status = system("openssl \(arguments) >/dev/null 2>&1")
    precondition(status == 0, "openssl \(arguments) failed (\(status)); is the openssl CLI installed?")
}

private struct Contexts {
    let plain: TLSContext
    let withALPN: TLSContext

    static let shared = Contexts()

    private init() {
        var template = Array("/tmp/epsilon-fuzz-tls-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        let folder = String(cString: made!)
        var identities: [TLSIdentity] = []
        for name in ["localhost", "example.com"] {
            let key = "\(folder)/\(name).key", certificate = "\(folder)/\(name).pem"
            openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=\(name) "
                    + "-addext subjectAltName=DNS:\(name) -keyout \(key) -out \(certificate)")
            do {
                identities.append(try TLSIdentity(certificateFile: certificate, privateKeyFile: key))
            } catch {
                preconditionFailure("loading the generated \(name) identity: \(error)")
            }
            unlink(key)
            unlink(certificate)
        }
        rmdir(folder)
        do {
            plain = try TLSContext(server: TLSServerConfiguration(identity: identities[0]))
            withALPN = try TLSContext(server: TLSServerConfiguration(
                identity: identities[0], identitiesByName: ["example.com": identities[1]],
                applicationProtocols: ["h2", "http/1.1"], sessionCacheSize: 16))
        } catch {
            preconditionFailure("making the server contexts: \(error)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceSize = Int(input.byte())
    let contexts = Contexts.shared
    let engine: TLSEngine
    do {
        engine = try TLSEngine(context: flags & 1 != 0 ? contexts.withALPN : contexts.plain)
    } catch {
        fuzzCheck(false, "a server engine could not be made: \(error)")
        return 0
    }
    var received = 0
    var plaintext: [UInt8] = []
    var output: [UInt8] = []
    var outputTotal = 0
    var failure: TLSError?
    var completions = 0
    while !input.isAtEnd {
        let piece = input.piece(size: pieceSize)
        engine.receive(piece)
        received += piece.count
        if input.isAtEnd && flags & 2 != 0 { engine.receiveEndOfStream() }
        if input.isAtEnd && flags & 8 != 0 { engine.close() }
        do {
            let events = try engine.process(into: &plaintext)
            fuzzCheck(failure == nil, "a failed engine processed again")
            if events.contains(.handshakeCompleted) {
                completions += 1
                fuzzCheck(engine.isHandshakeComplete, "handshakeCompleted but not complete")
                if flags & 4 != 0 { try engine.send(Array("HTTP/1.1 200 OK\r\n\r\n".utf8)) }
            }
            fuzzCheck(events.contains(.closeNotifyReceived) ? engine.hasReceivedCloseNotify : true, "close_notify event without the flag")
        } catch {
            if let failure {
                fuzzCheck(error == failure, "a failed engine threw \(error), first \(failure)")
            } else {
                failure = error
            }
        }
        fuzzCheck(completions <= 1, "handshakeCompleted reported \(completions) times")
        fuzzCheck(plaintext.count <= received, "\(plaintext.count) octets of plaintext from \(received) received")
        output.removeAll(keepingCapacity: true)
        outputTotal += engine.takeOutput(into: &output)
        fuzzCheck(engine.pendingOutputCount == 0, "output left after takeOutput")
        fuzzCheck(outputTotal <= 16_384 + 4 * received, "\(outputTotal) octets sent for \(received) received")
    }
    if failure != nil {
        var more: [UInt8] = []
        do {
            _ = try engine.process(into: &more)
            fuzzCheck(false, "a failed engine processed again")
        } catch {
            fuzzCheck(error == failure!, "a failed engine threw \(error), first \(failure!)")
        }
    }
    return 0
}
