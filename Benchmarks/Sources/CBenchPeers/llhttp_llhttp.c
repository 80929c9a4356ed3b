// llhttp's llhttp.c, compiled from the httptools sdist that Benchmarks/setup.sh unpacks.
#if !__has_include("../../.peers/llhttp/llhttp.c")
#error "llhttp missing: run bash Benchmarks/setup.sh first"
#endif
#include "../../.peers/llhttp/llhttp.c"
