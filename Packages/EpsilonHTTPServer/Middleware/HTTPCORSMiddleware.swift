/// Cross-origin resource sharing by an ``HTTPCORSPolicy``: answers preflight requests
/// (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) itself with `204` and the
/// policy's fields (`403` when the policy refuses), and adds the policy's fields to the
/// responses of actual requests that carry `Origin`. Requests without `Origin` pass untouched.
public struct HTTPCORSMiddleware: HTTPMiddleware {
    /// The request's origin, when it had one.
    public typealias State = String?

    /// The rules.
    public let policy: HTTPCORSPolicy

    /// Applies `policy`.
    public init(policy: HTTPCORSPolicy = HTTPCORSPolicy()) {
        self.policy = policy
    }

    /// No origin yet.
    public func makeState() -> String? { nil }

    /// Answers preflights; notes the origin of actual requests.
    public func receive(_ request: HTTPRequestHeadView, state: inout String?, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        guard let origin = request.firstValue(of: "origin") else { return nil }
        let originText = request.string(origin)
        if request.isMethod("OPTIONS"), let method = request.firstValue(of: "access-control-request-method") {
            let headers = request.firstValue(of: "access-control-request-headers").map { request.string($0) }
            guard let fields = policy.preflightFields(origin: originText, requestMethod: request.string(method),
                                                      requestHeaders: headers) else {
                return HTTPFixedResponse(status: 403)
            }
            return HTTPFixedResponse(status: 204, fields: fields)
        }
        state = originText
        return nil
    }

    /// Adds the policy's fields for the request's origin.
    public func responseHead(_ head: inout HTTPResponseHeadParts, state: inout String?) {
        guard let origin = state else { return }
        head.fields.append(contentsOf: policy.responseFields(origin: origin))
    }
}
