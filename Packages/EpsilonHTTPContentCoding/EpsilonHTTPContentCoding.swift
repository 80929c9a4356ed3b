// EpsilonHTTPContentCoding: HTTP content codings (gzip, deflate) over zlib, sans-IO, for the
// server's response compression and the client's transparent decoding.
