// libfuse 3's low-level API (inode numbers, not paths: a revision index's node ids are its inodes). The API
// version must be chosen before the header is read; 3.12 gives the loop configuration quilt mount sets.
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <errno.h>
#include <sys/stat.h>
