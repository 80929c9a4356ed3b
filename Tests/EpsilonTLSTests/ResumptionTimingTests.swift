import EpsilonTLS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Full versus resumed handshake time, in memory: both engines run on this thread, so each
/// figure is the work of both sides together. Median of 100 each, as wall-clock time and as
/// this thread's CPU time (the assertions use CPU time, which other processes on a shared
/// machine do not inflate). The seed's target is a resumed handshake under 5 ms.
@Suite struct ResumptionTiming {
    struct Sample { var wall: Duration; var cpu: Duration }

    static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    @Test(arguments: [TLSVersion.tls13, .tls12])
    func resumedHandshakeIsFasterThanFull(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let warmUp = try Link(client, server)
        warmUp.run()
        let firstSession = try #require(warmUp.client.session)

        func measure(resuming first: TLSSession?) throws -> (median: Sample, resumed: Int) {
            // TLS 1.3 tickets are single use (RFC 8446 §C.4; OpenSSL retires one once the
            // resumed connection brings new tickets), so each connection resumes the newest one.
            var session = first
            var wall: [Duration] = []
            var cpu: [Duration] = []
            var resumed = 0
            let clock = ContinuousClock()
            for _ in 0..<100 {
                let startCPU = Self.threadCPUTime()
                let start = clock.now
                let link = try Link(client, server, resuming: session)
                link.run()
                wall.append(clock.now - start)
                cpu.append(Self.threadCPUTime() - startCPU)
                guard link.bothEstablished else { throw TestFailure("handshake failed") }
                if link.client.isResumed { resumed += 1 }
                if first != nil { session = link.client.session ?? session }
            }
            return (Sample(wall: wall.sorted()[50], cpu: cpu.sorted()[50]), resumed)
        }
        let full = try measure(resuming: nil)
        let resumed = try measure(resuming: firstSession)
        print("TLS resumption timing (\(version), in memory, median of 100): "
              + "full \(full.median.wall) wall / \(full.median.cpu) CPU, "
              + "resumed \(resumed.median.wall) wall / \(resumed.median.cpu) CPU")
        #expect(full.resumed == 0)
        #expect(resumed.resumed == 100)
        #expect(resumed.median.cpu < full.median.cpu)
        #expect(resumed.median.cpu < .milliseconds(5))
    }

    /// The same measurement with the bytes travelling over a loopback TCP connection
    /// (TCP_NODELAY, both engines still on this thread, TCP setup not counted).
    @Test(arguments: [TLSVersion.tls13, .tls12])
    func resumedHandshakeOnLoopback(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let (listener, port) = try Loopback.listen()
        defer { close(listener) }

        /// One handshake over a fresh TCP connection; returns its wall time and the client engine.
        func handshake(resuming session: TLSSession?) throws -> (Duration, TLSEngine) {
            let clientFD = try Loopback.connect(port: port)
            let serverFD = try Loopback.accept(listener)
            defer { close(clientFD); close(serverFD) }
            var on: Int32 = 1
            setsockopt(clientFD, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(serverFD, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            let clock = ContinuousClock()
            let start = clock.now
            let clientEngine = try TLSEngine(context: client, serverName: "localhost", resuming: session)
            let serverEngine = try TLSEngine(context: server)
            var plaintext: [UInt8] = []
            func move(_ from: TLSEngine, _ fromFD: Int32, to: TLSEngine, _ toFD: Int32) throws -> Bool {
                let bytes = from.takeOutput()
                guard !bytes.isEmpty else { return false }
                try Loopback.write(fromFD, bytes)
                var received = 0
                while received < bytes.count {
                    guard let chunk = try Loopback.read(toFD) else { throw TestFailure("connection closed") }
                    to.receive(chunk)
                    received += chunk.count
                }
                return true
            }
            while true {
                try clientEngine.process(into: &plaintext)
                let sent = try move(clientEngine, clientFD, to: serverEngine, serverFD)
                try serverEngine.process(into: &plaintext)
                let answered = try move(serverEngine, serverFD, to: clientEngine, clientFD)
                if !sent && !answered { break }
            }
            let time = clock.now - start
            guard clientEngine.isHandshakeComplete && serverEngine.isHandshakeComplete else { throw TestFailure("handshake failed") }
            return (time, clientEngine)
        }

        let (_, warmUp) = try handshake(resuming: nil)
        var session = try #require(warmUp.session)
        var full: [Duration] = []
        var resumed: [Duration] = []
        var resumedCount = 0
        for _ in 0..<100 {
            let (time, engine) = try handshake(resuming: nil)
            full.append(time)
            #expect(!engine.isResumed)
        }
        for _ in 0..<100 {
            let (time, engine) = try handshake(resuming: session)
            resumed.append(time)
            if engine.isResumed { resumedCount += 1 }
            session = engine.session ?? session
        }
        let fullMedian = full.sorted()[50], resumedMedian = resumed.sorted()[50]
        print("TLS resumption timing (\(version), loopback TCP, median of 100): full \(fullMedian), resumed \(resumedMedian)")
        #expect(resumedCount == 100)
        #expect(resumedMedian < fullMedian)
    }
}
