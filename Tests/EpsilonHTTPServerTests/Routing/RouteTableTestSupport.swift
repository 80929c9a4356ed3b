import EpsilonHTTPServer
import Testing

/// A lookup result flattened for comparisons in tests.
enum RouteOutcome: Equatable, CustomStringConvertible {
    case matched(String, [String: String], catchAll: String?, headFromGet: Bool)
    case methodNotAllowed(String)
    case notFound

    var description: String {
        switch self {
        case .matched(let value, let parameters, let catchAll, let head):
            "matched \(value) \(parameters.sorted { $0.key < $1.key }) catchAll \(catchAll ?? "nil") head \(head)"
        case .methodNotAllowed(let allow): "405 \(allow)"
        case .notFound: "404"
        }
    }
}

extension HTTPRouteTable where Value == String {
    /// Adds each `(method, pattern)` with the value "METHOD pattern".
    init(_ routes: [(String, String)]) throws {
        self.init()
        for (method, pattern) in routes {
            try add(method: method, pattern: HTTPRoutePattern(pattern), value: "\(method) \(pattern)")
        }
    }

    /// Looks `path` up with `method` and flattens the answer (raw parameter bytes as strings).
    func outcome(_ method: String, _ path: String, names: [String] = []) -> RouteOutcome {
        let methodBytes = Array(method.utf8)
        let pathBytes = Array(path.utf8)
        return methodBytes.withUnsafeBytes { method in
            pathBytes.withUnsafeBytes { path in
                switch lookup(method: method, path: path) {
                case .matched(let value, let parameters, let head):
                    var captured: [String: String] = [:]
                    for index in 0..<parameters.count {
                        let range = parameters.range(at: index)
                        captured[parameters.name(at: index)] = String(decoding: path[range], as: UTF8.self)
                        #expect(parameters.range(of: parameters.name(at: index)) == range)
                    }
                    let rest = parameters.catchAll.map { String(decoding: path[$0], as: UTF8.self) }
                    return .matched(value, captured, catchAll: rest, headFromGet: head)
                case .methodNotAllowed(let allow):
                    return .methodNotAllowed(allow)
                case .notFound:
                    return .notFound
                }
            }
        }
    }
}
