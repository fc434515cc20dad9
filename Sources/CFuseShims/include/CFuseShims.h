// Typed wrappers for the parts of libfuse's low-level API Swift cannot call: macros (FUSE_ARGS_INIT, the
// versioned fuse_session_loop_mt) and the bit fields of struct fuse_file_info. Imported by QuiltMount only.
#ifndef CFUSE_SHIMS_H
#define CFUSE_SHIMS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

// A session for `ops`, its arguments built here (fuse_args is made with a macro): the program name, then `-o
// options` (a comma-separated mount option list, e.g. "ro,fsname=quilt,subtype=quilt"), and -d when `debug`.
struct fuse_session *quilt_fuse_session_new(const char *options, int debug, const struct fuse_lowlevel_ops *ops,
                                            size_t ops_size, void *userdata);

// fuse_session_loop_mt is a macro choosing the symbol of the API version; at most `max_threads` workers.
int quilt_fuse_session_loop_mt(struct fuse_session *session, unsigned max_threads);

// struct fuse_file_info's flags are bit fields.
void quilt_fuse_file_info_set_keep_cache(struct fuse_file_info *info, int keep);

#endif
