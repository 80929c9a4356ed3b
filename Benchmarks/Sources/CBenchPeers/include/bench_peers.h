// The C parsers the HTTP/1.1 benchmarks compare against, behind one small interface.
// Each function parses every message in `buf` (pipelined messages one after the other) and adds
// what it saw to `summary`, so the harness can check that all parsers saw the same messages.
// Sources: picohttpparser and llhttp are compiled from Benchmarks/.peers (bash Benchmarks/setup.sh);
// http-parser is Debian's libhttp-parser (linked).
#ifndef BENCH_PEERS_H
#define BENCH_PEERS_H
#include <stddef.h>
#include <stdint.h>

typedef struct bench_summary {
    uint64_t messages;     // complete messages
    uint64_t fields;       // header field lines
    uint64_t field_bytes;  // name + value bytes of those fields
    uint64_t body_bytes;   // decoded body bytes
} bench_summary;

/// picohttpparser: phr_parse_request on each request in `buf` (64 header slots).
int bench_pico_requests(const uint8_t *buf, size_t len, bench_summary *summary);
/// picohttpparser: phr_parse_response, then the body by Content-Length or, when chunked,
/// phr_decode_chunked on a copy in `scratch` (its decoder works in place), as a user must.
int bench_pico_responses(const uint8_t *buf, size_t len, uint8_t *scratch, size_t scratch_len, bench_summary *summary);

/// llhttp: one parser per connection, reused; callbacks record spans like the others.
void *bench_llhttp_new(int response);
int bench_llhttp_parse(void *parser, const uint8_t *buf, size_t len, bench_summary *summary);
void bench_llhttp_free(void *parser);
/// The llhttp version compiled in, as major*10000 + minor*100 + patch.
int bench_llhttp_version(void);

/// http-parser (Debian's libhttp-parser): one parser per connection, reused.
void *bench_http_parser_new(int response);
int bench_http_parser_parse(void *parser, const uint8_t *buf, size_t len, bench_summary *summary);
void bench_http_parser_free(void *parser);
/// The http-parser version linked, as major*10000 + minor*100 + patch.
unsigned long bench_http_parser_version(void);

#endif
