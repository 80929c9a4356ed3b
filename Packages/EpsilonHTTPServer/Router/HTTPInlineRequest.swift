/// What an inline handler is given: the borrowed request head and the route's parameters
/// (views into the path). Valid only during the handler call; copy what you keep.
public struct HTTPInlineRequest {
    /// The request head.
    public let head: HTTPRequestHeadView
    /// The parameters the route captured, as ranges in ``HTTPRequestHeadView/path``.
    public let parameters: HTTPRouteParameters

    init(head: HTTPRequestHeadView, parameters: HTTPRouteParameters) {
        self.head = head
        self.parameters = parameters
    }

    /// The raw (percent-encoded) bytes of a parameter (`"id"` for `:id`, `"**"` for the catch-all).
    public func parameter(_ name: String) -> UnsafeRawBufferPointer? {
        parameters.value(of: name, in: head.path)
    }

    /// A percent-decoded copy of a parameter; nil when absent or not valid UTF-8.
    public func parameterString(_ name: String) -> String? {
        parameters.string(of: name, in: head.path)
    }
}
