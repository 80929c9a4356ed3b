@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonWebSocket

/// The permessage-deflate parameters both ends agreed on (RFC 7692 §7.1).
public struct WebSocketDeflateParameters: Hashable, Sendable {
    /// The server resets its compression context after each message.
    public var serverNoContextTakeover = false
    /// The client resets its compression context after each message.
    public var clientNoContextTakeover = false
    /// The largest LZ77 window (as log2) the server compresses with, 8–15.
    public var serverMaxWindowBits = 15
    /// The largest LZ77 window (as log2) the client compresses with, 8–15.
    public var clientMaxWindowBits = 15

    /// Creates parameters (defaults: context takeover both ways, 15-bit windows).
    public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false, serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// Whether the end playing `role` resets its compressor after each message.
    public func sendsWithoutContextTakeover(as role: WebSocketRole) -> Bool {
        role == .server ? serverNoContextTakeover : clientNoContextTakeover
    }

    /// Whether the peer of `role` resets its compressor after each message.
    public func receivesWithoutContextTakeover(as role: WebSocketRole) -> Bool {
        role == .server ? clientNoContextTakeover : serverNoContextTakeover
    }

    /// The window bits the end playing `role` compresses with.
    public func sendingWindowBits(as role: WebSocketRole) -> Int {
        role == .server ? serverMaxWindowBits : clientMaxWindowBits
    }
}

/// Why a permessage-deflate offer or response was refused (RFC 7692 §7.1).
public enum WebSocketDeflateNegotiationError: Error, Hashable, Sendable {
    /// The response names permessage-deflate more than once, or is not permessage-deflate.
    case notPermessageDeflate
    /// A parameter the RFC does not define (§7.1: the client fails the connection).
    case unknownParameter(String)
    /// A parameter given twice (§7.1).
    case duplicateParameter(String)
    /// A parameter with a value where none is allowed, or a missing or invalid value.
    case invalidValue(String)
    /// The server's parameters do not answer the client's offer (§7.1.1.1, §7.1.2).
    case responseBreaksOffer(String)
}

/// The token for the extension.
public let permessageDeflateToken = "permessage-deflate"

/// Parses "8"…"15" with no leading zero or sign (RFC 7692 §7.1.2.1).
func windowBits(_ value: String?) -> Int? {
    guard let value, let first = value.utf8.first, first != UInt8(ascii: "0"),
          value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
          value.utf8.count <= 2, let n = Int(value), (8...15).contains(n)
    else { return nil }
    return n
}

/// The parameters of one permessage-deflate element, checked for duplicates and values.
struct ParsedParameters {
    var serverNoContextTakeover = false
    var clientNoContextTakeover = false
    var serverMaxWindowBits: Int?
    // Outer nil: absent; inner nil: present without value (offers only).
    var clientMaxWindowBits: Int??

    init(_ element: WebSocketExtensionOffer, clientWindowMayBeEmpty: Bool) throws(WebSocketDeflateNegotiationError) {
        var seen: Set<String> = []
        for p in element.parameters {
            let name = String(decoding: p.name.utf8.map(ASCII.lowercased), as: UTF8.self)
            guard seen.insert(name).inserted else { throw .duplicateParameter(name) }
            switch name {
            case "server_no_context_takeover":
                guard p.value == nil else { throw .invalidValue(name) }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard p.value == nil else { throw .invalidValue(name) }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let bits = windowBits(p.value) else { throw .invalidValue(name) }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                if p.value == nil {
                    guard clientWindowMayBeEmpty else { throw .invalidValue(name) }
                    clientMaxWindowBits = .some(nil)
                } else {
                    guard let bits = windowBits(p.value) else { throw .invalidValue(name) }
                    clientMaxWindowBits = .some(bits)
                }
            default:
                throw .unknownParameter(name)
            }
        }
    }
}

/// What a client offers for permessage-deflate, and its check of the server's answer.
public struct WebSocketDeflateClientOffer: Hashable, Sendable {
    /// Ask the server to reset its context after each message.
    public var requestServerNoContextTakeover = false
    /// Announce that this client resets its context after each message.
    public var clientNoContextTakeover = false
    /// Ask the server to use at most this window (8–15), or nil to leave it to the server.
    public var serverMaxWindowBits: Int? = nil
    /// Announce `client_max_window_bits`: nil omits it, 0 sends it without value (the server
    /// may then limit the client's window), 8–15 limits our own window to that value.
    public var clientMaxWindowBits: Int? = 0

    /// Creates an offer (default: context takeover, `client_max_window_bits` without value).
    public init(requestServerNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false, serverMaxWindowBits: Int? = nil, clientMaxWindowBits: Int? = 0) {
        self.requestServerNoContextTakeover = requestServerNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// The offer as an element of Sec-WebSocket-Extensions.
    public var extensionOffer: WebSocketExtensionOffer {
        var offer = WebSocketExtensionOffer(name: permessageDeflateToken)
        if requestServerNoContextTakeover { offer.parameters.append(WebSocketExtensionParameter("server_no_context_takeover")) }
        if clientNoContextTakeover { offer.parameters.append(WebSocketExtensionParameter("client_no_context_takeover")) }
        if let bits = serverMaxWindowBits { offer.parameters.append(WebSocketExtensionParameter("server_max_window_bits", String(bits))) }
        if let bits = clientMaxWindowBits {
            offer.parameters.append(WebSocketExtensionParameter("client_max_window_bits", bits == 0 ? nil : String(bits)))
        }
        return offer
    }

    /// Checks the server's response element and returns the agreed parameters (RFC 7692 §7.1).
    public func accept(response: WebSocketExtensionOffer) throws(WebSocketDeflateNegotiationError) -> WebSocketDeflateParameters {
        guard ASCII.equalsIgnoringCase(response.name, permessageDeflateToken) else { throw .notPermessageDeflate }
        let parsed = try ParsedParameters(response, clientWindowMayBeEmpty: false)
        // §7.1.1.1: a server that accepts server_no_context_takeover must echo it.
        if requestServerNoContextTakeover && !parsed.serverNoContextTakeover {
            throw .responseBreaksOffer("server_no_context_takeover")
        }
        var result = WebSocketDeflateParameters()
        result.serverNoContextTakeover = parsed.serverNoContextTakeover
        result.clientNoContextTakeover = parsed.clientNoContextTakeover || clientNoContextTakeover
        if let asked = serverMaxWindowBits {
            // §7.1.2.1: the server answers a limit with the same or a smaller value.
            guard let bits = parsed.serverMaxWindowBits, bits <= asked else { throw .responseBreaksOffer("server_max_window_bits") }
            result.serverMaxWindowBits = bits
        } else if let bits = parsed.serverMaxWindowBits {
            result.serverMaxWindowBits = bits
        }
        switch parsed.clientMaxWindowBits {
        case .none:
            if let own = clientMaxWindowBits, own != 0 { result.clientMaxWindowBits = own }
        case .some(let value):
            // §7.1.2.2: only if the client offered it, never above the client's own value.
            guard let own = clientMaxWindowBits, let bits = value else { throw .responseBreaksOffer("client_max_window_bits") }
            if own != 0 && bits > own { throw .responseBreaksOffer("client_max_window_bits") }
            result.clientMaxWindowBits = bits
        }
        return result
    }

    /// Finds the permessage-deflate element among the accepted extensions and checks it.
    ///
    /// - Returns: nil if the server did not accept permessage-deflate.
    public func accept(extensions: [WebSocketExtensionOffer]) throws(WebSocketDeflateNegotiationError) -> WebSocketDeflateParameters? {
        let matches = extensions.filter { ASCII.equalsIgnoringCase($0.name, permessageDeflateToken) }
        guard matches.count <= 1 else { throw .notPermessageDeflate }
        guard let element = matches.first else { return nil }
        return try accept(response: element)
    }
}

/// How a server answers permessage-deflate offers.
public struct WebSocketDeflateServerPolicy: Hashable, Sendable {
    /// Reset the server's own context after each message even if the client did not ask.
    public var serverNoContextTakeover = false
    /// Ask the client to reset its context after each message.
    public var requestClientNoContextTakeover = false
    /// The largest window the server compresses with (8–15).
    public var serverMaxWindowBits = 15
    /// The largest window the client may compress with, when the client allows a limit (8–15).
    public var clientMaxWindowBits = 15

    /// Creates a policy (default: keep context, 15-bit windows).
    public init(serverNoContextTakeover: Bool = false, requestClientNoContextTakeover: Bool = false, serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.requestClientNoContextTakeover = requestClientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// Accepts the first acceptable permessage-deflate offer (RFC 7692 §5, §7.1).
    ///
    /// Offers with unknown or duplicate parameters or invalid values are declined and the next
    /// one is tried, as §5.1 allows.
    /// - Returns: the response element and the agreed parameters, or nil to decline them all.
    public func accept(offers: [WebSocketExtensionOffer]) -> (response: WebSocketExtensionOffer, parameters: WebSocketDeflateParameters)? {
        for offer in offers where ASCII.equalsIgnoringCase(offer.name, permessageDeflateToken) {
            guard let parsed = try? ParsedParameters(offer, clientWindowMayBeEmpty: true) else { continue }
            var parameters = WebSocketDeflateParameters()
            var response = WebSocketExtensionOffer(name: permessageDeflateToken)
            if parsed.serverNoContextTakeover || serverNoContextTakeover {
                parameters.serverNoContextTakeover = true
                response.parameters.append(WebSocketExtensionParameter("server_no_context_takeover"))
            }
            if parsed.clientNoContextTakeover || requestClientNoContextTakeover {
                parameters.clientNoContextTakeover = true
                response.parameters.append(WebSocketExtensionParameter("client_no_context_takeover"))
            }
            let serverBits = min(serverMaxWindowBits, parsed.serverMaxWindowBits ?? 15)
            if parsed.serverMaxWindowBits != nil || serverBits < 15 {
                parameters.serverMaxWindowBits = serverBits
                response.parameters.append(WebSocketExtensionParameter("server_max_window_bits", String(serverBits)))
            }
            switch parsed.clientMaxWindowBits {
            case .none:
                // The client cannot take a limit: it will use up to 15, which we must accept.
                parameters.clientMaxWindowBits = 15
            case .some(let offered):
                let bits = min(clientMaxWindowBits, offered ?? 15)
                parameters.clientMaxWindowBits = bits
                if bits < 15 || offered != nil {
                    response.parameters.append(WebSocketExtensionParameter("client_max_window_bits", String(bits)))
                }
            }
            return (response, parameters)
        }
        return nil
    }
}
