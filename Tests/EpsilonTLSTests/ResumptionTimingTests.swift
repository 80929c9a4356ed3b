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
}
