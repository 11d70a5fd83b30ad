// Typed wrappers for libcurl's variadic functions, which Swift cannot call directly.
// One wrapper per argument type, so that every call site says what it passes.
#ifndef FTA_CCURL_SHIM_H
#define FTA_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*fta_curl_write_callback)(char *data, size_t size, size_t nmemb, void *userdata);

static inline CURLcode fta_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode fta_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode fta_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode fta_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode fta_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode fta_curl_setopt_write_function(CURL *handle, fta_curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

typedef size_t (*fta_curl_read_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

static inline CURLcode fta_curl_setopt_read_function(CURL *handle, fta_curl_read_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

static inline CURLcode fta_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif
