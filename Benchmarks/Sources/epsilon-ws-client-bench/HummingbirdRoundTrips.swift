import HummingbirdWSClient
import Logging

/// hummingbird-websocket's client (WSClient from swift-websocket 1.6.2, on the NIO singleton
/// event loop group), as its README uses it: `WebSocketClient.connect(url:…) { inbound, outbound, _ in … }`.
let hummingbirdRoundTrips: RoundTripClient = { url, text, tally in
    let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    do {
        try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 16), logger: logger) { inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
            let clock = ContinuousClock()
            while true {
                let start = clock.now
                try await outbound.write(.text(text))
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
            try await outbound.close(.normalClosure, reason: nil)
        }
    } catch {
        tally.fail("\(error)")
    }
}
