import Synchronization

/// Gives every request an id: the client's `X-Request-Id` when it is a short token, else a
/// new one (a per-process random prefix and a counter); the id goes back on the response
/// and into ``HTTPMiddlewareContext/requestID`` for the handler and the access log.
public struct HTTPRequestIDMiddleware: HTTPMiddleware {
    /// The request's id, once seen.
    public typealias State = String?

    /// The field carrying the id, both ways.
    public let fieldName: String

    /// Uses `X-Request-Id` (or `fieldName`).
    public init(fieldName: String = "X-Request-Id") {
        self.fieldName = fieldName
    }

    /// Nothing yet.
    public func makeState() -> String? { nil }

    /// Takes the client's id or makes one.
    public func receive(_ request: HTTPRequestHeadView, state: inout String?, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        if let given = request.firstValue(of: fieldName), given.count > 0, given.count <= 64,
           given.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            state = request.string(given)
        } else {
            state = HTTPRequestIDGenerator.next()
        }
        context.requestID = state
        return nil
    }

    /// Puts the id on the response.
    public func responseHead(_ head: inout HTTPResponseHeadParts, state: inout String?) {
        if let id = state { head.fields.append((name: fieldName, value: id)) }
    }
}

/// Process-wide request ids: 8 random hex digits, a dash, a counter.
enum HTTPRequestIDGenerator {
    private static let counter = Atomic<UInt64>(0)
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        let value = UInt32.random(in: 0...UInt32.max, using: &generator)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }()

    static func next() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(number)
    }
}
