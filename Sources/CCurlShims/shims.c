// The C shims are header-only (static inline); this file gives SwiftPM a source to compile.
#include "CCurlShims.h"
