#ifndef THREETOFU_CCURL_SHIM_H
#define THREETOFU_CCURL_SHIM_H
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Typed wrappers around libcurl's variadic curl_easy_setopt / curl_easy_getinfo,
 * which Swift cannot call directly (the same approach as swift-corelibs-foundation).
 */

typedef size_t (*tofu_data_cb)(char *buffer, size_t size, size_t nitems, void *userdata);
typedef int (*tofu_xferinfo_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode tofu_global_init(void) {
    return curl_global_init(CURL_GLOBAL_ALL);
}

static inline size_t tofu_error_buffer_size(void) {
    return CURL_ERROR_SIZE;
}

/* setopt */

static inline CURLcode tofu_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tofu_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/* libcurl copies string arguments (except where documented otherwise). */
static inline CURLcode tofu_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tofu_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/* The list must stay alive until the transfer has finished. */
static inline CURLcode tofu_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(handle, option, list);
}

/* libcurl copies the bytes (CURL_BLOB_COPY). */
static inline CURLcode tofu_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = length;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(handle, option, &blob);
}

static inline CURLcode tofu_setopt_write_cb(CURL *handle, tofu_data_cb callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode tofu_setopt_header_cb(CURL *handle, tofu_data_cb callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode tofu_setopt_xferinfo_cb(CURL *handle, tofu_xferinfo_cb callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

/* getinfo */

static inline CURLcode tofu_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/* The string belongs to the handle; copy it before the next transfer. */
static inline CURLcode tofu_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    char *result = NULL;
    CURLcode code = curl_easy_getinfo(handle, info, &result);
    *value = result;
    return code;
}

static inline CURLcode tofu_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode tofu_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode tofu_getinfo_certinfo(CURL *handle, struct curl_certinfo **value) {
    return curl_easy_getinfo(handle, CURLINFO_CERTINFO, value);
}

/*
 * The TCP connections one easy handle has open (its connection cache, at most
 * TOFU_TRACKED_SOCKETS of them tracked), recorded through libcurl's socket callbacks, since
 * CURLINFO_ACTIVESOCKET answers only after a transfer.
 */
#define TOFU_TRACKED_SOCKETS 8

typedef struct {
    curl_socket_t sockets[TOFU_TRACKED_SOCKETS];
    /* Held to change the set and by tofu_socket_set_interrupt (another thread): a socket is
       closed only with it held, so an interrupt never reaches a descriptor number reused since. */
    pthread_mutex_t lock;
    /* Set by tofu_socket_set_interrupt until the lane's next transfer: a connection libcurl
       opens meanwhile (a retry on a fresh connection) is refused too. */
    int interrupted;
} tofu_socket_set;

static inline void tofu_socket_set_init(tofu_socket_set *set) {
    for (int index = 0; index < TOFU_TRACKED_SOCKETS; index++) {
        set->sockets[index] = CURL_SOCKET_BAD;
    }
    set->interrupted = 0;
    pthread_mutex_init(&set->lock, NULL);
}

/* Before each transfer, on the lane's thread: an earlier transfer's interrupt no longer applies. */
static inline void tofu_socket_set_rearm(tofu_socket_set *set) {
    pthread_mutex_lock(&set->lock);
    set->interrupted = 0;
    pthread_mutex_unlock(&set->lock);
}

static inline void tofu_socket_set_destroy(tofu_socket_set *set) {
    pthread_mutex_destroy(&set->lock);
}

static int tofu_socket_opened(void *userdata, curl_socket_t socket, curlsocktype purpose) {
    tofu_socket_set *set = userdata;
    if (purpose == CURLSOCKTYPE_IPCXN) {
        pthread_mutex_lock(&set->lock);
        if (set->interrupted) {
            pthread_mutex_unlock(&set->lock);
            return CURL_SOCKOPT_ERROR;
        }
        for (int index = 0; index < TOFU_TRACKED_SOCKETS; index++) {
            if (set->sockets[index] == CURL_SOCKET_BAD) {
                set->sockets[index] = socket;
                break;
            }
        }
        pthread_mutex_unlock(&set->lock);
    }
    return CURL_SOCKOPT_OK;
}

static int tofu_socket_closing(void *userdata, curl_socket_t socket) {
    tofu_socket_set *set = userdata;
    pthread_mutex_lock(&set->lock);
    for (int index = 0; index < TOFU_TRACKED_SOCKETS; index++) {
        if (set->sockets[index] == socket) {
            set->sockets[index] = CURL_SOCKET_BAD;
        }
    }
    int result = close(socket);
    pthread_mutex_unlock(&set->lock);
    return result;
}

/*
 * From any thread: shuts every connection of the handle down (not closed: libcurl closes them),
 * so a transfer blocked waiting for bytes wakes at once and fails, and refuses any connection
 * opened until the next transfer. libcurl's progress callback, which sees a cancellation, runs
 * only when bytes move or at libcurl's idle tick while none do (~0.1 s with 7.88).
 */
static inline void tofu_socket_set_interrupt(tofu_socket_set *set) {
    pthread_mutex_lock(&set->lock);
    set->interrupted = 1;
    for (int index = 0; index < TOFU_TRACKED_SOCKETS; index++) {
        if (set->sockets[index] != CURL_SOCKET_BAD) {
            (void)shutdown(set->sockets[index], SHUT_RDWR);
        }
    }
    pthread_mutex_unlock(&set->lock);
}

/* The set must outlive the handle: libcurl closes cached connections in curl_easy_cleanup. */
static inline CURLcode tofu_setopt_socket_set(CURL *handle, tofu_socket_set *set) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, tofu_socket_opened);
    if (code == CURLE_OK) code = curl_easy_setopt(handle, CURLOPT_SOCKOPTDATA, set);
    if (code == CURLE_OK) code = curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, tofu_socket_closing);
    if (code == CURLE_OK) code = curl_easy_setopt(handle, CURLOPT_CLOSESOCKETDATA, set);
    return code;
}

/*
 * Acknowledges what the handle's connections receive right away, for the rest of the current
 * response (until the next request is sent). Without it, a relay that writes a response in small
 * pieces with Nagle on (microsocks relays 1 KiB at a time) waits for our delayed ACK, 40 ms,
 * before each piece after the first. Best effort: failures are ignored.
 */
static inline void tofu_acknowledge_promptly(const tofu_socket_set *set) {
    int on = 1;
    for (int index = 0; index < TOFU_TRACKED_SOCKETS; index++) {
        if (set->sockets[index] != CURL_SOCKET_BAD) {
            (void)setsockopt(set->sockets[index], IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
        }
    }
}

/*
 * Wakes the transfer only once `bytes` have arrived (SO_RCVLOWAT; 1 is the default), on every
 * connection of the handle. For a large body whose end is known: a relay that forwards in small
 * pieces (microsocks: 1 KiB) otherwise wakes libcurl for every few KiB. Best effort.
 */
static inline void tofu_set_receive_low_water(const tofu_socket_set *set, int bytes) {
    for (int index = 0; index < TOFU_TRACKED_SOCKETS; index++) {
        if (set->sockets[index] != CURL_SOCKET_BAD) {
            (void)setsockopt(set->sockets[index], SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
        }
    }
}

/* Certificate chain access without pointer-to-pointer juggling in Swift. */

static inline int tofu_certinfo_count(const struct curl_certinfo *info) {
    return info == NULL ? 0 : info->num_of_certs;
}

static inline const struct curl_slist *tofu_certinfo_fields(const struct curl_certinfo *info, int index) {
    if (info == NULL || index < 0 || index >= info->num_of_certs) {
        return NULL;
    }
    return info->certinfo[index];
}

#endif
