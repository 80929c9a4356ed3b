/// A trie node of ``HTTPRouteTable``: children by segment kind, and the routes ending here.
/// Not generic over the table's value (the values live apart), so lookups run concrete code.
struct RouteNode: Sendable {
    /// Literal children, sorted by their bytes for binary search.
    var literals: [RouteLiteralEdge] = []
    var parameter: Int?
    var wildcard: Int?
    var catchAll: Int?
    var endpoints: [RouteEndpoint] = []
    /// The `Allow` value for a 405 at this node.
    var allow = ""

    /// Where `bytes` is or would be inserted among the literals.
    func literalPosition(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { literalPosition(of: $0) }
    }

    func literalPosition(of bytes: UnsafeRawBufferPointer) -> Int {
        var low = 0
        var high = literals.count
        while low < high {
            let middle = (low + high) / 2
            if literals[middle].bytes.withUnsafeBytes({ Self.isOrdered($0, before: bytes) }) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// The node a literal segment leads to, if any.
    func literalChild(_ segment: UnsafeRawBufferPointer) -> Int? {
        if literals.isEmpty { return nil }
        let position = literalPosition(of: segment)
        guard position < literals.count else { return nil }
        let edge = literals[position]
        return edge.bytes.withUnsafeBytes { $0.elementsEqual(segment) } ? edge.node : nil
    }

    /// Lexicographic byte order, shorter first on a common prefix.
    static func isOrdered(_ a: UnsafeRawBufferPointer, before b: UnsafeRawBufferPointer) -> Bool {
        let common = min(a.count, b.count)
        for index in 0..<common where a[index] != b[index] { return a[index] < b[index] }
        return a.count < b.count
    }

    /// RFC 9110 §10.2.1: the methods of this node, sorted, HEAD included when GET is.
    mutating func computeAllow() {
        var methods = Set(endpoints.map { String(decoding: $0.method, as: UTF8.self) })
        if methods.contains("GET") { methods.insert("HEAD") }
        allow = methods.sorted().joined(separator: ", ")
    }
}

/// A literal segment and the node it leads to.
struct RouteLiteralEdge: Sendable {
    var bytes: [UInt8]
    var node: Int
}

/// A route ending at a node: its method, the index of its value and its parameter names.
struct RouteEndpoint: Sendable {
    var method: [UInt8]
    var value: Int
    var names: [String]
}
