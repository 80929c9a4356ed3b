import EpsilonHTTPServer
import Testing

/// Pattern syntax and the table's refusals.
@Suite struct HTTPRoutePatternSyntax {
    @Test(arguments: ["/", "/users", "/users/", "/users/:id", "/files/*", "/static/**", "/a//b", "/:a/:b/*/**",
                      "/%C3%A9t%C3%A9", "/a:b", "/~user/file.txt"])
    func accepts(text: String) throws {
        let pattern = try HTTPRoutePattern(text)
        #expect(pattern.description == text)
    }

    @Test(arguments: ["", "users", "*", "/a/**/b", "/:", "/:a/:a", "/a*", "/**x", "/:i-d", "/a?b", "/a#b", "/a b",
                      "/é", "/a\tb", "/:a/:b/:c/:d/:e/:f/:g/:h/:i"])
    func refuses(text: String) {
        #expect(throws: HTTPRoutePatternError.self) { _ = try HTTPRoutePattern(text) }
    }

    @Test func eightParametersAreTheLimit() throws {
        _ = try HTTPRoutePattern("/:a/:b/:c/:d/:e/:f/:g/:h")
        #expect(HTTPRoutePattern.maximumParameters == 8)
    }

    @Test func errorNamesThePatternAndTheReason() {
        do {
            _ = try HTTPRoutePattern("/a/**/b")
            Issue.record("accepted")
        } catch {
            #expect(error.pattern == "/a/**/b")
            #expect(error.description.contains("last"))
        }
    }

    @Test func patternsAreEqualWhenWrittenAlike() throws {
        #expect(try HTTPRoutePattern("/a/:id") == HTTPRoutePattern("/a/:id"))
        #expect(try HTTPRoutePattern("/a/:id") != HTTPRoutePattern("/a/:name"))
        #expect(try Set([HTTPRoutePattern("/a"), HTTPRoutePattern("/a"), HTTPRoutePattern("/a/")]).count == 2)
    }

    @Test func theSameMethodAndPatternTwiceIsRefused() throws {
        var table = HTTPRouteTable<Int>()
        try table.add(method: "GET", pattern: HTTPRoutePattern("/u/:id"), value: 1)
        try table.add(method: "POST", pattern: HTTPRoutePattern("/u/:id"), value: 2)
        #expect(throws: HTTPRoutePatternError.self) { try table.add(method: "GET", pattern: HTTPRoutePattern("/u/:id"), value: 3) }
        // Only the parameter name differs: the same route.
        #expect(throws: HTTPRoutePatternError.self) { try table.add(method: "GET", pattern: HTTPRoutePattern("/u/:name"), value: 4) }
        #expect(table.count == 2)
    }

    @Test(arguments: ["", "G T", "GET\r\n", "GÉT"])
    func aMethodMustBeAToken(method: String) throws {
        var table = HTTPRouteTable<Int>()
        #expect(throws: HTTPRoutePatternError.self) { try table.add(method: method, pattern: HTTPRoutePattern("/"), value: 1) }
    }
}

/// The copying, percent-decoding parameter accessor.
@Suite struct HTTPRouteParametersAccess {
    func parameter(_ path: String) throws -> (raw: String?, decoded: String?) {
        var table = HTTPRouteTable<Int>()
        try table.add(method: "GET", pattern: HTTPRoutePattern("/files/:name/**"), value: 1)
        let bytes = Array(path.utf8)
        return try Array("GET".utf8).withUnsafeBytes { method in
            try bytes.withUnsafeBytes { path in
                guard case .matched(_, let parameters, _) = table.lookup(method: method, path: path) else {
                    throw HTTPRoutePatternError(reason: "no match", pattern: "")
                }
                #expect(parameters.value(of: "missing", in: path) == nil)
                #expect(parameters.string(of: "missing", in: path) == nil)
                return (parameters.value(of: "name", in: path).map { String(decoding: $0, as: UTF8.self) },
                        parameters.string(of: "name", in: path))
            }
        }
    }

    @Test func decodesPercentEscapesIntoACopy() throws {
        let (raw, decoded) = try parameter("/files/hello%20w%C3%B6rld/x")
        #expect(raw == "hello%20w%C3%B6rld")
        #expect(decoded == "hello wörld")
        #expect(try parameter("/files/a+b%2Fc/").decoded == "a+b/c")
        #expect(try parameter("/files/%e2%82%ac/").decoded == "€")
    }

    @Test(arguments: ["/files/%00/", "/files/a%ff/", "/files/%C3/", "/files/%2/", "/files/%zz/", "/files/a%/"])
    func refusesWhatDoesNotDecodeToUTF8WithoutNUL(path: String) throws {
        let (raw, decoded) = try parameter(path)
        #expect(raw != nil)
        #expect(decoded == nil)
    }

    @Test func catchAllIsReachableByName() throws {
        var table = HTTPRouteTable<Int>()
        try table.add(method: "GET", pattern: HTTPRoutePattern("/static/**"), value: 1)
        let path = Array("/static/css/site%20main.css".utf8)
        let result = Array("GET".utf8).withUnsafeBytes { method in path.withUnsafeBytes { table.lookup(method: method, path: $0) } }
        guard case .matched(_, let parameters, _) = result else {
            Issue.record("no match")
            return
        }
        #expect(parameters.count == 0)
        #expect(parameters.catchAll == 8..<path.count)
        #expect(parameters.range(of: "**") == parameters.catchAll)
        path.withUnsafeBytes { #expect(parameters.string(of: "**", in: $0) == "css/site main.css") }
    }
}
