// Drives Debian's http-parser (libhttp-parser) with span-recording callbacks.
#include <http_parser.h>
#include "bench_peers.h"
#include <stdlib.h>

typedef struct {
    http_parser parser;
    http_parser_settings settings;
    bench_summary *summary;
} bench_http_parser;

static int on_field(http_parser *p, const char *at, size_t length) {
    bench_http_parser *b = (bench_http_parser *)p;
    b->summary->field_bytes += length;
    b->summary->fields += 1;
    return 0;
}
static int on_value(http_parser *p, const char *at, size_t length) {
    ((bench_http_parser *)p)->summary->field_bytes += length;
    return 0;
}
static int on_body(http_parser *p, const char *at, size_t length) {
    ((bench_http_parser *)p)->summary->body_bytes += length;
    return 0;
}
static int on_complete(http_parser *p) {
    ((bench_http_parser *)p)->summary->messages += 1;
    return 0;
}

void *bench_http_parser_new(int response) {
    bench_http_parser *b = calloc(1, sizeof(bench_http_parser));
    http_parser_settings_init(&b->settings);
    b->settings.on_header_field = on_field;
    b->settings.on_header_value = on_value;
    b->settings.on_body = on_body;
    b->settings.on_message_complete = on_complete;
    http_parser_init(&b->parser, response ? HTTP_RESPONSE : HTTP_REQUEST);
    return b;
}

int bench_http_parser_parse(void *parser, const uint8_t *buf, size_t len, bench_summary *summary) {
    bench_http_parser *b = parser;
    b->summary = summary;
    size_t n = http_parser_execute(&b->parser, &b->settings, (const char *)buf, len);
    return n == len && HTTP_PARSER_ERRNO(&b->parser) == HPE_OK ? 0 : -1;
}

void bench_http_parser_free(void *parser) { free(parser); }

unsigned long bench_http_parser_version(void) {
    unsigned long v = http_parser_version();
    return ((v >> 16) & 255) * 10000 + ((v >> 8) & 255) * 100 + (v & 255);
}
