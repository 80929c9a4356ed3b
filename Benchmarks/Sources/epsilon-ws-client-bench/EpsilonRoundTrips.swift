import EpsilonWebSocketClient

/// Our client (EpsilonWebSocketClient, on its shared one-loop group), as its documentation uses
/// it: `WebSocketClient.connect(to:) { inbound, outbound in … }`; no compression offered and no
/// heartbeat, as on the other sides.
let epsilonRoundTrips: RoundTripClient = { url, text, tally in
    do {
        try await WebSocketClient.connect(to: url) { inbound, outbound in
            var messages = inbound.makeAsyncIterator()
            let clock = ContinuousClock()
            while true {
                let start = clock.now
                try await outbound.send(text: text)
                guard case .text(let echo) = try await messages.next() else {
                    tally.fail("connection ended or a binary reply")
                    return
                }
                guard echo == text else {
                    tally.fail("echo differs")
                    return
                }
                if !tally.record(nanoseconds: Int(start.duration(to: clock.now) / .nanoseconds(1))) { break }
            }
        }
    } catch {
        tally.fail("\(error)")
    }
}
