/* A TLS server's certificate and key (DESIGN §12: http.tls.cert, http.tls.key), reloadable, and
 * the client-certificate check of mTLS (http.tls.client.ca), on GnuTLS for libmicrohttpd.
 *
 * The server hands each handshake the credentials in force at that moment (tlscred_retrieve,
 * libmicrohttpd's certificate callback); tlscred_reload swaps in the files again. A swapped-out
 * set stays allocated until tlscred_free: a handshake that took it may still be using it, and
 * reloads are rare (SIGHUP).
 * @locality any thread: the current set is under a read-write lock. */
#ifndef SL_TLSCRED_H
#define SL_TLSCRED_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

#define TLSCRED_CN_MAX 129

typedef struct tlscred tlscred;

/* Load the PEM certificate chain at cert_path (the server's first) and its private key at
 * key_path. NULL with "<key>: <file>: <reason>" in err (the config key named). Caller frees with
 * tlscred_free. */
tlscred *tlscred_open(const char *cert_path, const char *key_path, char *err, size_t errlen);

/* Load both files again; on failure the current set stays, with the reason in err. Returns 0 or
 * a negative SL_E*. */
int tlscred_reload(tlscred *t, char *err, size_t errlen);

/* The certificate's subject CN into cn (for the log line at start). */
void tlscred_subject(tlscred *t, char *cn, size_t cap);

/* Fill a handshake's certificate and key from the current set (gnutls retrieve function's
 * outputs). Returns 0, or -1 when nothing is loaded. */
int tlscred_retrieve(tlscred *t, gnutls_pcert_st **pcert, unsigned int *npcert,
                     gnutls_privkey_t *key);

/* Free t and every set it ever held. NULL is a no-op. */
void tlscred_free(tlscred *t);

/* mTLS: whether the session's peer sent a certificate that verifies against the server's trust
 * (libmicrohttpd's MHD_OPTION_HTTPS_MEM_TRUST), and its subject CN into cn. False with the
 * reason in why. */
bool tlscred_peer(gnutls_session_t s, char *cn, size_t cap, char *why, size_t whylen);

#endif
