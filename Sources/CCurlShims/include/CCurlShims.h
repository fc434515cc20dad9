// libcurl as QuiltHTTP calls it: loaded with dlopen at the first request, and typed wrappers for the entry points
// Swift cannot call itself. Imported by QuiltHTTP only.
//
// Why not link it: libcurl.so.4 brings some 30 libraries with it (TLS, Kerberos, LDAP, SSH, IDN, nghttp2, ...),
// and the dynamic loader maps and relocates every one of them at each process start, whether or not the program
// goes near the network. On this project's machine that was 3.4 ms of every start (`perf stat -r 50` of an empty C
// `main` linked with -lcurl against the same unlinked: 4.6 ms against 1.2 ms), a tenth of a second `quilt status`
// of 20,000 files and most of a plumbing program's run. So only a program that makes a request pays for it.
#ifndef CCURL_SHIMS_H
#define CCURL_SHIMS_H

#include <curl/curl.h>

// Loads libcurl.so.4 once (thread-safe) and runs curl_global_init; CURLE_OK, or CURLE_FAILED_INIT with the reason
// in quilt_curl_load_error().
CURLcode quilt_curl_load(void);
// Why the load failed (the loader's message, or the entry point it lacked); NULL if it did not.
const char *quilt_curl_load_error(void);

// The entry points used, through the loaded library. Each needs quilt_curl_load() to have returned CURLE_OK.
CURL *quilt_curl_easy_init(void);
void quilt_curl_easy_cleanup(CURL *handle);
void quilt_curl_easy_reset(CURL *handle);
CURLcode quilt_curl_easy_perform(CURL *handle);
const char *quilt_curl_easy_strerror(CURLcode code);
struct curl_slist *quilt_curl_slist_append(struct curl_slist *list, const char *text);
void quilt_curl_slist_free_all(struct curl_slist *list);

// curl_easy_setopt is variadic: Swift cannot call it, so each argument kind gets a wrapper.
CURLcode quilt_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode quilt_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode quilt_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
typedef size_t (*quilt_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
CURLcode quilt_curl_setopt_data_callback(CURL *handle, CURLoption option, quilt_curl_data_callback value);
// CURLOPT_SEEKFUNCTION takes a callback of another shape than the data callbacks; curl calls it to rewind an
// upload body when it must resend a request on a fresh connection.
typedef int (*quilt_curl_seek_callback)(void *context, curl_off_t offset, int origin);
CURLcode quilt_curl_setopt_seek_callback(CURL *handle, CURLoption option, quilt_curl_seek_callback value);
// CURL_READFUNC_ABORT is a macro; the read callback returns it to abort an upload when the file cannot be read.
static inline size_t quilt_curl_readfunc_abort(void) {
    return CURL_READFUNC_ABORT;
}

#endif
