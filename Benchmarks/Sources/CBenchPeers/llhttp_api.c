// llhttp's api.c, compiled from the httptools sdist that Benchmarks/setup.sh unpacks.
#if !__has_include("../../.peers/llhttp/api.c")
#error "llhttp missing: run bash Benchmarks/setup.sh first"
#endif
#include "../../.peers/llhttp/api.c"
