// picohttpparser, compiled from the pycohttpparser sdist that Benchmarks/setup.sh unpacks.
#if !__has_include("../../.peers/picohttpparser/picohttpparser.c")
#error "picohttpparser missing: run bash Benchmarks/setup.sh first"
#endif
#include "../../.peers/picohttpparser/picohttpparser.c"
#include "bench_peers.h"
#include <string.h>
#include <strings.h>

int bench_pico_requests(const uint8_t *buf, size_t len, bench_summary *summary) {
    size_t offset = 0;
    while (offset < len) {
        const char *method, *path;
        size_t method_len, path_len, num_headers = 64;
        int minor_version;
        struct phr_header headers[64];
        int n = phr_parse_request((const char *)buf + offset, len - offset, &method, &method_len, &path, &path_len,
                                  &minor_version, headers, &num_headers, 0);
        if (n <= 0) return -1;
        summary->fields += num_headers;
        for (size_t i = 0; i < num_headers; i++) summary->field_bytes += headers[i].name_len + headers[i].value_len;
        summary->messages += 1;
        offset += (size_t)n;
    }
    return 0;
}

static int name_is(const struct phr_header *h, const char *name, size_t len) {
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

int bench_pico_responses(const uint8_t *buf, size_t len, uint8_t *scratch, size_t scratch_len, bench_summary *summary) {
    size_t offset = 0;
    while (offset < len) {
        const char *msg;
        size_t msg_len, num_headers = 64;
        int minor_version, status;
        struct phr_header headers[64];
        int n = phr_parse_response((const char *)buf + offset, len - offset, &minor_version, &status, &msg, &msg_len,
                                   headers, &num_headers, 0);
        if (n <= 0) return -1;
        offset += (size_t)n;
        summary->fields += num_headers;
        long long content_length = -1;
        int chunked = 0;
        for (size_t i = 0; i < num_headers; i++) {
            summary->field_bytes += headers[i].name_len + headers[i].value_len;
            if (name_is(&headers[i], "content-length", 14)) {
                content_length = 0;
                for (size_t j = 0; j < headers[i].value_len; j++) {
                    char c = headers[i].value[j];
                    if (c < '0' || c > '9') return -1;
                    content_length = content_length * 10 + (c - '0');
                }
            } else if (name_is(&headers[i], "transfer-encoding", 17)) {
                chunked = headers[i].value_len == 7 && strncasecmp(headers[i].value, "chunked", 7) == 0;
            }
        }
        if (chunked) {
            size_t size = len - offset;
            if (size > scratch_len) return -1;
            memcpy(scratch, buf + offset, size);
            struct phr_chunked_decoder decoder = {0};
            decoder.consume_trailer = 1;
            ssize_t rest = phr_decode_chunked(&decoder, (char *)scratch, &size);
            if (rest < 0) return -1;
            summary->body_bytes += size;
            offset = len - (size_t)rest;
        } else if (content_length >= 0) {
            if ((size_t)content_length > len - offset) return -1;
            summary->body_bytes += (uint64_t)content_length;
            offset += (size_t)content_length;
        }
        summary->messages += 1;
    }
    return 0;
}
