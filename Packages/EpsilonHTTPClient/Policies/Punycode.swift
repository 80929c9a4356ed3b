// RFC 3492 Punycode, encoding only: the public-suffix list writes internationalized rules in
// Unicode, while hosts reach the client in their ASCII (A-label, `xn--`) form.

/// Punycode (RFC 3492 §6.3) encoding of one domain label.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128
    /// Labels longer than this are not DNS labels; refusing them bounds the work.
    private static let maxLabelScalars = 63

    /// The A-label of `label` (`xn--` + Punycode) when it has non-ASCII characters, `label` itself
    /// when it is ASCII, nil when it is too long to be a DNS label.
    static func asciiLabel(_ label: Substring) -> String? {
        let scalars = label.unicodeScalars.map(\.value)
        guard scalars.count <= maxLabelScalars else { return nil }
        guard scalars.contains(where: { $0 >= 0x80 }) else { return String(label) }
        return "xn--" + encode(scalars)
    }

    /// RFC 3492 §6.3: basic code points first, then the deltas of the others in generalized
    /// variable-length integers.
    private static func encode(_ input: [UInt32]) -> String {
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = initialN, delta = 0, bias = initialBias, handled = basicCount
        while handled < input.count {
            let m = Int(input.filter { Int($0) >= n }.min() ?? 0)
            delta += (m - n) * (handled + 1)
            n = m
            for scalar in input.map(Int.init) {
                if scalar < n { delta += 1 }
                guard scalar == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, points: handled + 1, first: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func adapt(_ delta: Int, points: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ value: Int) -> UInt8 {
        value < 26 ? UInt8(ascii: "a") + UInt8(value) : UInt8(ascii: "0") + UInt8(value - 26)
    }
}
