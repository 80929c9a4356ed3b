import EpsilonTLS
import Testing

/// Full versus resumed handshake time, in memory (both engines on this thread, so each figure
/// is the CPU time of both sides together). Median of 100 each; the seed's target is a
/// resumed handshake under 5 ms.
@Suite struct ResumptionTiming {
    @Test(arguments: [TLSVersion.tls13, .tls12])
    func resumedHandshakeIsFasterThanFull(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let warmUp = try Link(client, server)
        warmUp.run()
        let session = try #require(warmUp.client.session)

        func measure(resuming first: TLSSession?) throws -> (median: Duration, resumed: Int) {
            // TLS 1.3 tickets are single use (RFC 8446 §C.4; OpenSSL retires one once the
            // resumed connection brings new tickets), so each connection resumes the newest one.
            var session = first
            var times: [Duration] = []
            var resumed = 0
            let clock = ContinuousClock()
            for _ in 0..<100 {
                var link: Link?
                let time = try clock.measure {
                    let pair = try Link(client, server, resuming: session)
                    pair.run()
                    link = pair
                }
                guard let link, link.bothEstablished else { throw TestFailure("handshake failed") }
                if link.client.isResumed { resumed += 1 }
                if first != nil { session = link.client.session ?? session }
                times.append(time)
            }
            return (times.sorted()[times.count / 2], resumed)
        }
        let full = try measure(resuming: nil)
        let resumed = try measure(resuming: session)
        print("TLS resumption timing (\(version), in memory, median of 100): full \(full.median), resumed \(resumed.median)")
        #expect(full.resumed == 0)
        #expect(resumed.resumed == 100)
        #expect(resumed.median < full.median)
        #expect(resumed.median < .milliseconds(5))
    }
}
