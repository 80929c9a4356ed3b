// HTTP/1.1 inputs: picohttpparser's benchmark request, browser requests, pipelined batches,
// and responses framed by Content-Length and by chunked coding.

enum HTTP1Inputs {
    /// The request picohttpparser's bench.c parses (703 bytes, 9 fields).
    static let picoBenchmark = bytes(
        "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
            + "Host: www.kittyhell.com\r\n"
            + "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
            + "Accept-Encoding: gzip,deflate\r\n"
            + "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
            + "Keep-Alive: 115\r\n"
            + "Connection: keep-alive\r\n"
            + "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n"
            + "\r\n")

    /// A Firefox navigation with 10 fields.
    static let browser10 = bytes(
        "GET /search?q=epsilon+swift+networking&ie=UTF-8 HTTP/1.1\r\n"
            + "Host: www.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Connection: keep-alive\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "Sec-Fetch-Dest: document\r\n"
            + "Sec-Fetch-Mode: navigate\r\n"
            + "Sec-Fetch-Site: none\r\n"
            + "\r\n")

    /// A Chrome request with 30 fields, client hints and 2 KB of cookies (about 3.3 KB).
    static let browser30: [UInt8] = {
        func cookie(_ name: String, _ length: Int) -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            var state: UInt32 = UInt32(truncatingIfNeeded: name.utf8.count &* 2_654_435_761)
            var value = ""
            for _ in 0..<length {
                state = state &* 1_103_515_245 &+ 12_345
                value.append(alphabet[Int((state >> 16) & 63)])
            }
            return "\(name)=\(value)"
        }
        let cookies = [cookie("SID", 150), cookie("HSID", 17), cookie("SSID", 17), cookie("APISID", 34),
                       cookie("SAPISID", 34), cookie("__Secure-1PSID", 151), cookie("__Secure-3PSID", 151),
                       cookie("NID", 400), cookie("__Secure-1PSIDTS", 90), cookie("__Secure-3PSIDTS", 90),
                       cookie("AEC", 60), cookie("1P_JAR", 13), cookie("__Secure-ENID", 240),
                       cookie("SIDCC", 80), cookie("__Secure-1PSIDCC", 80), cookie("__Secure-3PSIDCC", 80)]
        return bytes(
            "GET /api/v2/timeline/home.json?include_profile=1&count=20&cursor=HBaAgLydwMre%2BSgAAA%3D%3D HTTP/1.1\r\n"
                + "Host: app.example.com\r\n"
                + "Connection: keep-alive\r\n"
                + "sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\", \"Google Chrome\";v=\"131\"\r\n"
                + "sec-ch-ua-mobile: ?0\r\n"
                + "sec-ch-ua-platform: \"Linux\"\r\n"
                + "sec-ch-ua-platform-version: \"6.1.0\"\r\n"
                + "sec-ch-ua-arch: \"x86\"\r\n"
                + "sec-ch-ua-bitness: \"64\"\r\n"
                + "sec-ch-ua-full-version-list: \"Chromium\";v=\"131.0.6778.85\", \"Not_A Brand\";v=\"24.0.0.0\", \"Google Chrome\";v=\"131.0.6778.85\"\r\n"
                + "sec-ch-ua-model: \"\"\r\n"
                + "sec-ch-ua-wow64: ?0\r\n"
                + "DNT: 1\r\n"
                + "Upgrade-Insecure-Requests: 1\r\n"
                + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n"
                + "Accept: application/json, text/plain, */*\r\n"
                + "Origin: https://app.example.com\r\n"
                + "X-Requested-With: XMLHttpRequest\r\n"
                + "X-CSRF-Token: 5f2b8c0e9a7d4e1f8b3c6a2d9e0f1a4b7c8d2e5f6a9b0c3d\r\n"
                + "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkVwc2lsb24iLCJpYXQiOjE1MTYyMzkwMjJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\r\n"
                + "Sec-Fetch-Site: same-origin\r\n"
                + "Sec-Fetch-Mode: cors\r\n"
                + "Sec-Fetch-User: ?1\r\n"
                + "Sec-Fetch-Dest: empty\r\n"
                + "Referer: https://app.example.com/home?utm_source=newsletter&utm_medium=email&utm_campaign=2026-11\r\n"
                + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
                + "Accept-Language: en-GB,en-US;q=0.9,en;q=0.8,de;q=0.7,fr;q=0.6\r\n"
                + "Priority: u=1, i\r\n"
                + "If-None-Match: W/\"5e2a-1f3c9b7d0a8e4c6b2d1f\"\r\n"
                + "If-Modified-Since: Wed, 25 Nov 2026 18:42:07 GMT\r\n"
                + "Cookie: \(cookies.joined(separator: "; "))\r\n"
                + "\r\n")
    }()

    /// 32 small pipelined GETs, as a load generator sends them.
    static let pipelined32: [UInt8] = (0..<32).flatMap { i in
        bytes("GET /api/v1/items/\(1000 + i) HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\nUser-Agent: wrk\r\n\r\n")
    }

    static let responseHead =
        "HTTP/1.1 200 OK\r\n"
        + "Server: nginx/1.22.1\r\n"
        + "Date: Thu, 26 Nov 2026 11:30:00 GMT\r\n"
        + "Content-Type: text/html; charset=utf-8\r\n"
        + "Connection: keep-alive\r\n"
        + "Cache-Control: private, max-age=0\r\n"
        + "ETag: \"6745a1b2-1000\"\r\n"
        + "Vary: Accept-Encoding\r\n"

    static func body(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(97 + $0 % 26) } }

    /// A 200 response with a 4 KiB body framed by Content-Length.
    static let contentLength4K = bytes(responseHead + "Content-Length: 4096\r\n\r\n") + body(4096)

    /// A 200 response with a 16 KiB body in 16 chunks of 1 KiB.
    static let chunked16x1K: [UInt8] = {
        var out = bytes(responseHead + "Transfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<16 { out += bytes("400\r\n") + body(1024) + bytes("\r\n") }
        return out + bytes("0\r\n\r\n")
    }()

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
}
