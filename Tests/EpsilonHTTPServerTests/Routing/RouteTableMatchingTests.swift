import EpsilonHTTPServer
import Testing

/// Route matching: captures, precedence, backtracking, 404/405, HEAD.
@Suite struct HTTPRouteTableMatching {
    @Test func capturesNamedParameters() throws {
        let table = try HTTPRouteTable<String>([("GET", "/users/:id"), ("GET", "/users/:uid/posts/:pid")])
        #expect(table.outcome("GET", "/users/42") == .matched("GET /users/:id", ["id": "42"], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/users/7/posts/x%20y")
            == .matched("GET /users/:uid/posts/:pid", ["uid": "7", "pid": "x%20y"], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/users") == .notFound)
        #expect(table.outcome("GET", "/users/") == .notFound)        // a parameter is never empty
        #expect(table.outcome("GET", "/users/42/posts") == .notFound)
    }

    @Test func precedenceIsLiteralThenParameterThenWildcardThenCatchAll() throws {
        let table = try HTTPRouteTable<String>([
            ("GET", "/files/special"), ("GET", "/files/:name"), ("GET", "/files/*"), ("GET", "/files/**"),
            ("GET", "/any/*"), ("GET", "/any/**"),
        ])
        #expect(table.outcome("GET", "/files/special") == .matched("GET /files/special", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/files/other") == .matched("GET /files/:name", ["name": "other"], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/files/a/b") == .matched("GET /files/**", [:], catchAll: "a/b", headFromGet: false))
        #expect(table.outcome("GET", "/any/x") == .matched("GET /any/*", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/any/x/") == .matched("GET /any/**", [:], catchAll: "x/", headFromGet: false))
        #expect(table.outcome("GET", "/any/") == .matched("GET /any/**", [:], catchAll: "", headFromGet: false))
        #expect(table.outcome("GET", "/any") == .notFound)
    }

    @Test func backtracksWhenTheBetterBranchLeadsNowhere() throws {
        let table = try HTTPRouteTable<String>([
            ("GET", "/a/b/d"), ("GET", "/a/:x/c"), ("GET", "/a/*/e"), ("GET", "/a/**"),
        ])
        #expect(table.outcome("GET", "/a/b/d") == .matched("GET /a/b/d", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/a/b/c") == .matched("GET /a/:x/c", ["x": "b"], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/a/b/e") == .matched("GET /a/*/e", [:], catchAll: nil, headFromGet: false))
        // The parameter captured on a failed branch is dropped.
        #expect(table.outcome("GET", "/a/b/f") == .matched("GET /a/**", [:], catchAll: "b/f", headFromGet: false))
    }

    @Test func methodDecidesBetweenBranches() throws {
        let table = try HTTPRouteTable<String>([("GET", "/users/me"), ("POST", "/users/:id")])
        #expect(table.outcome("POST", "/users/me") == .matched("POST /users/:id", ["id": "me"], catchAll: nil, headFromGet: false))
        #expect(table.outcome("DELETE", "/users/me") == .methodNotAllowed("GET, HEAD"))
        #expect(table.outcome("DELETE", "/users/you") == .methodNotAllowed("POST"))
    }

    @Test func methodNotAllowedListsTheNodesMethodsSorted() throws {
        let table = try HTTPRouteTable<String>([("PATCH", "/items"), ("GET", "/items"), ("DELETE", "/items"), ("POST", "/other")])
        #expect(table.outcome("PUT", "/items") == .methodNotAllowed("DELETE, GET, HEAD, PATCH"))
        #expect(table.outcome("get", "/items") == .methodNotAllowed("DELETE, GET, HEAD, PATCH"))  // methods are case-sensitive
        #expect(table.outcome("GET", "/other") == .methodNotAllowed("POST"))
        #expect(table.outcome("HEAD", "/other") == .methodNotAllowed("POST"))
        #expect(table.outcome("GET", "/nothing") == .notFound)
    }

    @Test func headIsAnsweredFromGetUnlessAHeadRouteExists() throws {
        var table = try HTTPRouteTable<String>([("GET", "/items"), ("GET", "/files/**")])
        #expect(table.outcome("HEAD", "/items") == .matched("GET /items", [:], catchAll: nil, headFromGet: true))
        #expect(table.outcome("HEAD", "/files/a") == .matched("GET /files/**", [:], catchAll: "a", headFromGet: true))
        try table.add(method: "HEAD", pattern: HTTPRoutePattern("/items"), value: "HEAD /items")
        #expect(table.outcome("HEAD", "/items") == .matched("HEAD /items", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/items") == .matched("GET /items", [:], catchAll: nil, headFromGet: false))
    }

    @Test func trailingSlashAndEmptySegmentsAreSignificant() throws {
        let table = try HTTPRouteTable<String>([("GET", "/users"), ("GET", "/docs/"), ("GET", "/a//b"), ("GET", "/p/:x/q")])
        #expect(table.outcome("GET", "/users") == .matched("GET /users", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/users/") == .notFound)
        #expect(table.outcome("GET", "/docs/") == .matched("GET /docs/", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/docs") == .notFound)
        #expect(table.outcome("GET", "/a//b") == .matched("GET /a//b", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/a/b") == .notFound)
        #expect(table.outcome("GET", "/p//q") == .notFound)
    }

    @Test func rootMatchesOnlySlash() throws {
        let table = try HTTPRouteTable<String>([("GET", "/")])
        #expect(table.outcome("GET", "/") == .matched("GET /", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "//") == .notFound)
        #expect(table.outcome("GET", "/x") == .notFound)
    }

    @Test func catchAllAtTheRootTakesEverything() throws {
        let table = try HTTPRouteTable<String>([("GET", "/**")])
        #expect(table.outcome("GET", "/") == .matched("GET /**", [:], catchAll: "", headFromGet: false))
        #expect(table.outcome("GET", "/a/b/c") == .matched("GET /**", [:], catchAll: "a/b/c", headFromGet: false))
    }

    @Test(arguments: ["", "*", "users", "http://example.com/users"])
    func aTargetThatIsNotAPathIsNotFound(path: String) throws {
        let table = try HTTPRouteTable<String>([("GET", "/**"), ("OPTIONS", "/**")])
        #expect(table.outcome("GET", path) == .notFound)
        #expect(table.outcome("OPTIONS", path) == .notFound)
    }

    @Test func literalsCompareRawBytesExactly() throws {
        let table = try HTTPRouteTable<String>([("GET", "/caf%C3%A9"), ("GET", "/Users")])
        #expect(table.outcome("GET", "/caf%C3%A9") == .matched("GET /caf%C3%A9", [:], catchAll: nil, headFromGet: false))
        #expect(table.outcome("GET", "/caf%c3%a9") == .notFound)
        #expect(table.outcome("GET", "/café") == .notFound)
        #expect(table.outcome("GET", "/users") == .notFound)
    }

    @Test func aThousandRoutesStayCorrect() throws {
        var table = HTTPRouteTable<Int>()
        for index in 0..<1000 {
            try table.add(method: "GET", pattern: HTTPRoutePattern("/r\(index)/items/:id"), value: index)
            try table.add(method: "POST", pattern: HTTPRoutePattern("/flat/\(index * 7919 % 100_003)"), value: 10_000 + index)
        }
        #expect(table.count == 2000)
        for index in 0..<1000 {
            let path = Array("/r\(index)/items/\(index * 3)".utf8)
            let result = Array("GET".utf8).withUnsafeBytes { method in path.withUnsafeBytes { table.lookup(method: method, path: $0) } }
            guard case .matched(let value, let parameters, false) = result else {
                Issue.record("no match for \(index)")
                continue
            }
            #expect(value == index)
            #expect(parameters.range(of: "id").map { String(decoding: path[$0], as: UTF8.self) } == "\(index * 3)")

            let flat = Array("/flat/\(index * 7919 % 100_003)".utf8)
            let flatResult = Array("POST".utf8).withUnsafeBytes { method in flat.withUnsafeBytes { table.lookup(method: method, path: $0) } }
            guard case .matched(let flatValue, _, false) = flatResult else {
                Issue.record("no flat match for \(index)")
                continue
            }
            #expect(flatValue == 10_000 + index)
        }
        let miss = Array("/flat/100004".utf8)
        let missResult = Array("POST".utf8).withUnsafeBytes { method in miss.withUnsafeBytes { table.lookup(method: method, path: $0) } }
        guard case .notFound = missResult else {
            Issue.record("expected 404, got \(missResult)")
            return
        }
    }
}
