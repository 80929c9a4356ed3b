// Fuzzes HTTPRouteTable (EpsilonHTTPServer routing) against a slow reference matcher.
// Input: a text for HTTPRoutePattern (length-prefixed; parsed for crashes only), a route count
// byte, then per route a method byte, a segment count byte and a byte per segment (literal
// "a", "b", "ab" or "", `:param`, `*`, `**`); then lookups until the end: a method byte and a
// length-prefixed path whose bytes below 0x80 map to "/", "a", "b", "ab" and others stay raw.
// Checks, besides "no crash": a match is the route the reference ranks first (literal >
// :param > * > ** per segment, then the exact method over HEAD-from-GET), its parameters are
// the reference's byte ranges; 405 only when some route has the path and none the method;
// 404 only when no route has the path; the percent-decoding accessor never crashes.
import EpsilonHTTPServer
import FuzzSupport

enum Shape: Equatable {
    case literal([UInt8]), parameter, wildcard, catchAll
    var rank: Int {
        switch self {
        case .literal: 0
        case .parameter: 1
        case .wildcard: 2
        case .catchAll: 3
        }
    }
}

struct Route {
    let method: [UInt8]
    let shapes: [Shape]
}

let methods: [[UInt8]] = ["GET", "HEAD", "POST", "PUT"].map { Array($0.utf8) }
let literals: [[UInt8]] = ["a", "b", "ab", ""].map { Array($0.utf8) }
let pathPieces: [[UInt8]] = ["/", "a", "b", "ab"].map { Array($0.utf8) }

/// The reference: whether `route` matches `path`, with the captured ranges and the catch-all.
func reference(_ route: Route, _ path: UnsafeRawBufferPointer) -> (captures: [Range<Int>], catchAll: Range<Int>?)? {
    guard path.first == UInt8(ascii: "/") else { return nil }
    var segments: [Range<Int>] = []
    var start = 1
    for index in 1...path.count where index == path.count || path[index] == UInt8(ascii: "/") {
        segments.append(start..<index)
        start = index + 1
    }
    var captures: [Range<Int>] = []
    for (position, shape) in route.shapes.enumerated() {
        if shape == .catchAll {
            guard position < segments.count else { return nil }
            return (captures, segments[position].lowerBound..<path.count)
        }
        guard position < segments.count else { return nil }
        let segment = segments[position]
        switch shape {
        case .literal(let bytes): guard path[segment].elementsEqual(bytes) else { return nil }
        case .parameter: guard !segment.isEmpty else { return nil }; captures.append(segment)
        case .wildcard: guard !segment.isEmpty else { return nil }
        case .catchAll: break
        }
    }
    return route.shapes.count == segments.count ? (captures, nil) : nil
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let text = String(decoding: input.lengthPrefixed(), as: UTF8.self)
    if let pattern = try? HTTPRoutePattern(text) { fuzzCheck(pattern.description == text, "description of \(text)") }

    var table = HTTPRouteTable<Int>()
    var routes: [Route] = []
    for _ in 0..<Int(input.byte() % 16) {
        let method = methods[Int(input.byte() % 4)]
        let count = Int(input.byte() % 5)
        var shapes: [Shape] = []
        var text = ""
        for position in 0..<max(count, 1) {
            let choice = count == 0 ? 3 : input.byte() % 7
            switch choice {
            case 0...3: shapes.append(.literal(literals[Int(choice)])); text += "/" + String(decoding: literals[Int(choice)], as: UTF8.self)
            case 4: shapes.append(.parameter); text += "/:p\(position)"
            case 5: shapes.append(.wildcard); text += "/*"
            default:
                if position == count - 1 { shapes.append(.catchAll); text += "/**" } else { shapes.append(.wildcard); text += "/*" }
            }
        }
        let route = Route(method: method, shapes: shapes)
        let duplicate = routes.contains { $0.method == method && $0.shapes == shapes }
        do {
            try table.add(method: String(decoding: method, as: UTF8.self), pattern: HTTPRoutePattern(text), value: routes.count)
            fuzzCheck(!duplicate, "duplicate \(text) accepted")
            routes.append(route)
        } catch {
            fuzzCheck(duplicate, "\(text) refused: \(error)")
        }
    }

    while !input.isAtEnd {
        let method = methods[Int(input.byte() % 4)]
        var path: [UInt8] = []
        for byte in input.lengthPrefixed() {
            if byte < 0x80 { path += pathPieces[Int(byte % 4)] } else { path.append(byte) }
        }
        path.withUnsafeBytes { path in
            let isHead = method == methods[1]
            // Routes the method may use, with their reference match.
            var best: (route: Int, ranks: [Int], exact: Bool)?
            var anyPath = false
            for (index, route) in routes.enumerated() where reference(route, path) != nil {
                anyPath = true
                let exact = route.method == method
                guard exact || (isHead && route.method == methods[0]) else { continue }
                let ranks = route.shapes.map(\.rank)
                if let current = best {
                    if ranks.lexicographicallyPrecedes(current.ranks) || (ranks == current.ranks && exact) { best = (index, ranks, exact) }
                } else {
                    best = (index, ranks, exact)
                }
            }
            let result = method.withUnsafeBytes { table.lookup(method: $0, path: path) }
            switch result {
            case .matched(let value, let parameters, let isHeadFromGet):
                guard let best else { fuzzCheck(false, "matched \(value) where the reference finds none"); return }
                fuzzCheck(value == best.route, "matched route \(value), reference \(best.route)")
                fuzzCheck(isHeadFromGet == !best.exact, "isHeadFromGet \(isHeadFromGet)")
                let expected = reference(routes[value], path)!
                fuzzCheck(parameters.count == expected.captures.count, "parameter count")
                for index in 0..<parameters.count {
                    fuzzCheck(parameters.range(at: index) == expected.captures[index], "parameter \(index) range")
                    _ = parameters.string(of: parameters.name(at: index), in: path)
                }
                fuzzCheck(parameters.catchAll == expected.catchAll, "catch-all range")
                _ = parameters.string(of: "**", in: path)
            case .methodNotAllowed(let allow):
                fuzzCheck(best == nil && anyPath && !allow.isEmpty, "405 with best \(String(describing: best)) anyPath \(anyPath)")
            case .notFound:
                fuzzCheck(!anyPath, "404 where a route has the path")
            }
        }
    }
    return 0
}
