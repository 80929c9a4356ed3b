// Drives llhttp with span-recording callbacks, as a user that keeps offsets would.
#include "../../.peers/llhttp/llhttp.h"
#include "bench_peers.h"
#include <stdlib.h>

typedef struct {
    llhttp_t parser;
    llhttp_settings_t settings;
    bench_summary *summary;
} bench_llhttp;

static int on_field(llhttp_t *p, const char *at, size_t length) {
    ((bench_llhttp *)p)->summary->field_bytes += length;
    return 0;
}
static int on_field_complete(llhttp_t *p) {
    ((bench_llhttp *)p)->summary->fields += 1;
    return 0;
}
static int on_body(llhttp_t *p, const char *at, size_t length) {
    ((bench_llhttp *)p)->summary->body_bytes += length;
    return 0;
}
static int on_complete(llhttp_t *p) {
    ((bench_llhttp *)p)->summary->messages += 1;
    return 0;
}

void *bench_llhttp_new(int response) {
    bench_llhttp *b = calloc(1, sizeof(bench_llhttp));
    llhttp_settings_init(&b->settings);
    b->settings.on_header_field = on_field;
    b->settings.on_header_value = on_field;
    b->settings.on_header_value_complete = on_field_complete;
    b->settings.on_body = on_body;
    b->settings.on_message_complete = on_complete;
    llhttp_init(&b->parser, response ? HTTP_RESPONSE : HTTP_REQUEST, &b->settings);
    return b;  // the llhttp_t is the first member: callbacks cast it back
}

int bench_llhttp_parse(void *parser, const uint8_t *buf, size_t len, bench_summary *summary) {
    bench_llhttp *b = parser;
    b->summary = summary;
    return llhttp_execute(&b->parser, (const char *)buf, len) == HPE_OK ? 0 : -1;
}

void bench_llhttp_free(void *parser) { free(parser); }

int bench_llhttp_version(void) {
    return LLHTTP_VERSION_MAJOR * 10000 + LLHTTP_VERSION_MINOR * 100 + LLHTTP_VERSION_PATCH;
}
