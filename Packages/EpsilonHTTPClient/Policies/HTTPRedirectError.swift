// Why a redirect was not followed.

/// Why ``HTTPRedirectPolicy/redirect(status:location:request:visited:)`` refused to follow a redirect.
public enum HTTPRedirectError: Error, Sendable, Equatable {
    /// More redirects than ``HTTPRedirectPolicy/maxRedirects`` (the limit is the payload).
    case tooManyRedirects(Int)
    /// The target (the payload) was already visited in this chain.
    case loop(String)
    /// An https URL redirected to the http URL in the payload, and the policy does not allow it.
    case insecureRedirect(String)
    /// The Location field value (the payload, control characters escaped) is not a usable URL:
    /// control characters, no http or https scheme, no host, a bad port or credentials.
    case invalidLocation(String)
}
