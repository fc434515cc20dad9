// The libcurl loader (see CCurlShims.h for why it is loaded, not linked) and the typed wrappers over its entry
// points. The pointers are written once, under pthread_once, before any wrapper can be reached.
#include "CCurlShims.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    void (*easy_reset)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static CURLcode load_result = CURLE_FAILED_INIT;
static char load_error[512];

static int resolve(void *library, void **slot, const char *name) {
    *slot = dlsym(library, name);
    if (*slot) return 1;
    snprintf(load_error, sizeof load_error, "libcurl.so.4 has no %s", name);
    return 0;
}

static void load(void) {
    // The soname of libcurl 7 and 8 (Debian's libcurl4, the OpenSSL build the headers came from).
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load libcurl: %s", reason ? reason : "unknown error");
        return;
    }
    if (!resolve(library, (void **)&curl.global_init, "curl_global_init") ||
        !resolve(library, (void **)&curl.easy_init, "curl_easy_init") ||
        !resolve(library, (void **)&curl.easy_cleanup, "curl_easy_cleanup") ||
        !resolve(library, (void **)&curl.easy_reset, "curl_easy_reset") ||
        !resolve(library, (void **)&curl.easy_perform, "curl_easy_perform") ||
        !resolve(library, (void **)&curl.easy_strerror, "curl_easy_strerror") ||
        !resolve(library, (void **)&curl.easy_setopt, "curl_easy_setopt") ||
        !resolve(library, (void **)&curl.slist_append, "curl_slist_append") ||
        !resolve(library, (void **)&curl.slist_free_all, "curl_slist_free_all")) {
        return;
    }
    // curl_global_init is not thread-safe itself; here it runs once, under the once.
    load_result = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (load_result != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s", curl.easy_strerror(load_result));
    }
}

CURLcode quilt_curl_load(void) {
    pthread_once(&load_once, load);
    return load_result;
}

const char *quilt_curl_load_error(void) {
    pthread_once(&load_once, load);
    return load_error[0] ? load_error : NULL;
}

CURL *quilt_curl_easy_init(void) { return curl.easy_init(); }
void quilt_curl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
void quilt_curl_easy_reset(CURL *handle) { curl.easy_reset(handle); }
CURLcode quilt_curl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }
const char *quilt_curl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
struct curl_slist *quilt_curl_slist_append(struct curl_slist *list, const char *text) {
    return curl.slist_append(list, text);
}
void quilt_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }

CURLcode quilt_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode quilt_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode quilt_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode quilt_curl_setopt_data_callback(CURL *handle, CURLoption option, quilt_curl_data_callback value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode quilt_curl_setopt_seek_callback(CURL *handle, CURLoption option, quilt_curl_seek_callback value) {
    return curl.easy_setopt(handle, option, value);
}
