import EpsilonHTTP2

/// What the `Upgrade: h2c` hand-off needs from the owned HTTP/1.1 request
/// (``HTTPServerH2CUpgrade``): the `HTTP2-Settings` payload in the form the machine takes, and
/// the request as the header list of stream 1.
enum HTTP2UpgradeSettings {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The payload as base64url without padding (RFC 7540 §3.2.1), which
    /// `HTTP2Connection(upgradedServerWith:http2Settings:)` decodes again.
    static func base64URL(_ payload: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((payload.count &+ 2) / 3 &* 4)
        var index = 0
        while index < payload.count {
            let remaining = payload.count &- index
            let word = UInt32(payload[index]) << 16
                | (remaining > 1 ? UInt32(payload[index &+ 1]) << 8 : 0)
                | (remaining > 2 ? UInt32(payload[index &+ 2]) : 0)
            output.append(alphabet[Int(word >> 18 & 63)])
            output.append(alphabet[Int(word >> 12 & 63)])
            if remaining > 1 { output.append(alphabet[Int(word >> 6 & 63)]) }
            if remaining > 2 { output.append(alphabet[Int(word & 63)]) }
            index &+= 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The upgraded request as an HTTP/2 header list: pseudo-header fields in RFC 9113
    /// §8.3.1's order, then the fields with lower-case names (the connection-specific ones
    /// were already left out).
    static func headerList(of upgrade: HTTPServerH2CUpgrade) -> HTTP2HeaderList {
        var list = HTTP2HeaderList()
        list.append(name: ":method", value: upgrade.method)
        list.append(name: ":scheme", value: upgrade.scheme)
        if !upgrade.authority.isEmpty { list.append(name: ":authority", value: upgrade.authority) }
        list.append(name: ":path", value: upgrade.target.isEmpty ? "/" : upgrade.target)
        for field in upgrade.fields {
            if field.name.utf8.elementsEqual("host".utf8, by: { $0 | 0x20 == $1 }) { continue }  // it is :authority
            HTTP2ServerSession.appendField(field.name, field.value, to: &list)
        }
        return list
    }
}
