// What to send after a redirect.

import HTTPTypes

/// The request a redirect leads to, from ``HTTPRedirectPolicy/redirect(status:location:request:visited:)``.
public struct HTTPRedirect: Sendable {
    /// The next request: method, scheme, authority and path rewritten, credentials dropped when
    /// the origin changed, body fields dropped when the body is.
    public var request: HTTPRequest
    /// Whether the body of the previous request is sent again (307/308, and 301/302 except
    /// after POST); when false the next request has no body.
    public var keepsBody: Bool
    /// The absolute URL of the next request, with the fragment it inherits (RFC 9110 §10.2.2);
    /// append it to `visited` for the next call.
    public var url: String

    /// A redirect to `url` with `request`.
    public init(request: HTTPRequest, keepsBody: Bool, url: String) {
        self.request = request
        self.keepsBody = keepsBody
        self.url = url
    }
}
