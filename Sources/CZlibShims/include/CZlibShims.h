// Typed wrappers for the zlib entry points Swift cannot call directly. Imported by QuiltArchive only.
#ifndef CZLIB_SHIMS_H
#define CZLIB_SHIMS_H

#include <zlib.h>

// deflateInit2 and inflateInit2 are macros that pass the library version and struct size.
static inline int quilt_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
static inline int quilt_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

#endif
