import EpsilonHTTPServer
import Testing

/// Fields as a dictionary (names are unique in these answers) for comparisons.
func fieldMap(_ fields: [(name: String, value: String)]?) -> [String: String]? {
    guard let fields else { return nil }
    var map: [String: String] = [:]
    for field in fields {
        #expect(map[field.name] == nil, "field \(field.name) twice")
        #expect(field.name == field.name.lowercased())
        map[field.name] = field.value
    }
    return map
}

/// The CORS protocol (Fetch standard §3.2): preflight and actual-request answers.
@Suite struct FetchCORSProtocol {
    let site = "https://app.example"

    @Test func defaultPolicyAllowsAnyOriginWithAWildcard() {
        let policy = HTTPCORSPolicy()
        #expect(fieldMap(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: nil)) == [
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, HEAD, POST",
            "vary": "access-control-request-method, access-control-request-headers",
        ])
        #expect(fieldMap(policy.responseFields(origin: site)) == ["access-control-allow-origin": "*"])
        #expect(!policy.variesByOrigin)
    }

    @Test func aMethodNotAllowedRefusesThePreflight() {
        let policy = HTTPCORSPolicy()
        #expect(policy.preflightFields(origin: site, requestMethod: "DELETE", requestHeaders: nil) == nil)
        #expect(policy.preflightFields(origin: site, requestMethod: "post", requestHeaders: nil) == nil)  // case-sensitive
        #expect(policy.preflightFields(origin: site, requestMethod: "PO ST", requestHeaders: nil) == nil)
        #expect(policy.preflightFields(origin: site, requestMethod: "", requestHeaders: nil) == nil)
    }

    @Test func requestedHeadersMustAllBeAllowed() {
        let policy = HTTPCORSPolicy(allowedHeaders: ["Content-Type", "X-Request-ID"])
        let fields = fieldMap(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: "content-type, x-request-id"))
        #expect(fields?["access-control-allow-headers"] == "content-type, x-request-id")
        #expect(fieldMap(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: " Content-Type ,,\tX-REQUEST-ID "))?[
            "access-control-allow-headers"] == "content-type, x-request-id")
        #expect(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: "content-type, authorization") == nil)
        #expect(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: "content type") == nil)
        #expect(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: "x\r\nset-cookie: a=b") == nil)
        // An empty list asks for nothing.
        #expect(fieldMap(policy.preflightFields(origin: site, requestMethod: "POST", requestHeaders: ""))?["access-control-allow-headers"] == nil)
    }

    @Test func listedOriginsAreEchoedAndVaryByOrigin() {
        let policy = HTTPCORSPolicy(allowedOrigins: .list(["https://App.Example", "http://localhost:8080"]))
        #expect(fieldMap(policy.responseFields(origin: site)) == ["access-control-allow-origin": site, "vary": "origin"])
        #expect(fieldMap(policy.responseFields(origin: "http://localhost:8080"))?["access-control-allow-origin"] == "http://localhost:8080")
        #expect(policy.responseFields(origin: "https://evil.example").isEmpty)
        #expect(policy.responseFields(origin: "https://app.example.evil").isEmpty)
        #expect(policy.responseFields(origin: "http://localhost:8081").isEmpty)
        #expect(policy.preflightFields(origin: "https://evil.example", requestMethod: "GET", requestHeaders: nil) == nil)
        #expect(fieldMap(policy.preflightFields(origin: site, requestMethod: "GET", requestHeaders: nil))?["vary"]
            == "origin, access-control-request-method, access-control-request-headers")
        #expect(policy.variesByOrigin)
    }

    @Test func credentialsNeverGoWithAWildcardOrigin() {
        let policy = HTTPCORSPolicy(allowedMethods: ["*"], allowedHeaders: ["*"], allowsCredentials: true)
        #expect(fieldMap(policy.responseFields(origin: site)) == [
            "access-control-allow-origin": site, "access-control-allow-credentials": "true", "vary": "origin",
        ])
        // `*` is no wildcard with credentials: the method and the headers asked for are echoed.
        #expect(fieldMap(policy.preflightFields(origin: site, requestMethod: "PATCH", requestHeaders: "Authorization, X-Custom")) == [
            "access-control-allow-origin": site,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": "PATCH",
            "access-control-allow-headers": "authorization, x-custom",
            "vary": "origin, access-control-request-method, access-control-request-headers",
        ])
        #expect(policy.variesByOrigin)
    }

    @Test func theOpaqueOriginNeedsToBeListed() {
        #expect(HTTPCORSPolicy(allowsCredentials: true).responseFields(origin: "null").isEmpty)
        #expect(fieldMap(HTTPCORSPolicy().responseFields(origin: "null")) == ["access-control-allow-origin": "*"])
        let listed = HTTPCORSPolicy(allowedOrigins: .list(["null"]), allowsCredentials: true)
        #expect(fieldMap(listed.responseFields(origin: "null"))?["access-control-allow-origin"] == "null")
    }

    @Test(arguments: ["", "https://a.example\r\nSet-Cookie: x=y", "https://a.example extra", "https://é.example", "\0"])
    func malformedOriginsAreNeverEchoed(origin: String) {
        for policy in [HTTPCORSPolicy(), HTTPCORSPolicy(allowsCredentials: true), HTTPCORSPolicy(allowedOrigins: .list([origin]))] {
            #expect(policy.responseFields(origin: origin).isEmpty)
            #expect(policy.preflightFields(origin: origin, requestMethod: "GET", requestHeaders: nil) == nil)
        }
    }

    @Test func exposedHeadersAndMaxAge() {
        let policy = HTTPCORSPolicy(allowedOrigins: .list([site]), exposedHeaders: ["X-Total-Count", "ETag"], maxAge: 600)
        #expect(fieldMap(policy.responseFields(origin: site))?["access-control-expose-headers"] == "X-Total-Count, ETag")
        let preflight = fieldMap(policy.preflightFields(origin: site, requestMethod: "HEAD", requestHeaders: nil))
        #expect(preflight?["access-control-max-age"] == "600")
        #expect(preflight?["access-control-expose-headers"] == nil)  // only on actual responses
        #expect(fieldMap(HTTPCORSPolicy(maxAge: -5).preflightFields(origin: site, requestMethod: "GET", requestHeaders: nil))?[
            "access-control-max-age"] == "0")
    }
}
