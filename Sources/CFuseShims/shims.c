#include "CFuseShims.h"

struct fuse_session *quilt_fuse_session_new(const char *options, int debug, const struct fuse_lowlevel_ops *ops,
                                            size_t ops_size, void *userdata) {
    struct fuse_args args = FUSE_ARGS_INIT(0, 0);
    struct fuse_session *session = 0;
    if (fuse_opt_add_arg(&args, "quilt") == 0 && fuse_opt_add_arg(&args, "-o") == 0
        && fuse_opt_add_arg(&args, options) == 0 && (!debug || fuse_opt_add_arg(&args, "-d") == 0)) {
        session = fuse_session_new(&args, ops, ops_size, userdata);
    }
    fuse_opt_free_args(&args);
    return session;
}

int quilt_fuse_session_loop_mt(struct fuse_session *session, unsigned max_threads) {
    struct fuse_loop_config *config = fuse_loop_cfg_create();
    if (config == 0) return -1;
    fuse_loop_cfg_set_max_threads(config, max_threads);
    fuse_loop_cfg_set_clone_fd(config, 0);
    int result = fuse_session_loop_mt(session, config);
    fuse_loop_cfg_destroy(config);
    return result;
}

void quilt_fuse_file_info_set_keep_cache(struct fuse_file_info *info, int keep) {
    info->keep_cache = keep ? 1 : 0;
}
