// Typed wrappers for the libcurl entry points Swift cannot call directly. Imported by QuiltHTTP only.
#ifndef CCURL_SHIMS_H
#define CCURL_SHIMS_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: Swift cannot call them, so each argument kind gets a wrapper.
static inline CURLcode quilt_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode quilt_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode quilt_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*quilt_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode quilt_curl_setopt_data_callback(CURL *handle, CURLoption option, quilt_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode quilt_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode quilt_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode quilt_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
// CURLOPT_SEEKFUNCTION takes a callback of another shape than the data callbacks; curl calls it to rewind an
// upload body when it must resend a request on a fresh connection.
typedef int (*quilt_curl_seek_callback)(void *context, curl_off_t offset, int origin);
static inline CURLcode quilt_curl_setopt_seek_callback(CURL *handle, CURLoption option, quilt_curl_seek_callback value) {
    return curl_easy_setopt(handle, option, value);
}
// CURL_GLOBAL_DEFAULT is a compound macro Swift does not import.
static inline CURLcode quilt_curl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}
// CURL_READFUNC_ABORT is a macro; the read callback returns it to abort an upload when the file cannot be read.
static inline size_t quilt_curl_readfunc_abort(void) {
    return CURL_READFUNC_ABORT;
}

#endif
