#ifndef THREETOFU_CSSH2_SHIM_H
#define THREETOFU_CSSH2_SHIM_H
#include <libssh2.h>

/* Function-like macros of libssh2.h that Swift cannot import, as typed inline functions. */

static inline LIBSSH2_SESSION *tofu_ssh_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline LIBSSH2_CHANNEL *tofu_ssh_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int tofu_ssh_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

static inline int tofu_ssh_knownhost_type_plain(void) { return LIBSSH2_KNOWNHOST_TYPE_PLAIN; }
static inline int tofu_ssh_knownhost_keyenc_raw(void) { return LIBSSH2_KNOWNHOST_KEYENC_RAW; }

/* The known_hosts key-type bits for a LIBSSH2_HOSTKEY_TYPE_* value (0 when unknown). */
static inline int tofu_ssh_knownhost_key_for_hostkey_type(int type) {
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
#ifdef LIBSSH2_KNOWNHOST_KEY_ECDSA_256
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
#endif
#ifdef LIBSSH2_KNOWNHOST_KEY_ED25519
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
#endif
    default: return 0;
    }
}
#endif
