/// What every session on one loop shares: the server's configuration and dispatcher, and a
/// `Date` field value formatted at most once per second. Loop thread only (one per loop).
final class HTTPServerLoopContext {
    let configuration: HTTPServerConfiguration
    let dispatcher: any HTTPServerDispatcher
    private var dateSecond = -1
    private var dateValue = ""

    init(configuration: HTTPServerConfiguration, dispatcher: any HTTPServerDispatcher) {
        self.configuration = configuration
        self.dispatcher = dispatcher
    }

    /// The IMF-fixdate of the current second (RFC 9110 §5.6.7), reformatted when the second changes.
    var date: String {
        let second = HTTPServerDate.currentSecond()
        if second != dateSecond {
            dateSecond = second
            dateValue = HTTPServerDate.format(secondsSince1970: second)
        }
        return dateValue
    }
}
