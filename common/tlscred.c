/* TLS server credentials (see tlscred.h). */
#include "common/tlscred.h"

#include "common/sl_err.h"
#include "common/xalloc.h"

#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLSCRED_CHAIN_MAX 16

typedef struct tlscred__set {
    gnutls_pcert_st pcert[TLSCRED_CHAIN_MAX];
    unsigned npcert;
    gnutls_privkey_t key;
    struct tlscred__set *older; /* the sets swapped out before this one */
} tlscred__set;

struct tlscred {
    char *cert_path, *key_path;
    pthread_rwlock_t lock;
    tlscred__set *cur; /* under lock; cur->older: every earlier set */
};

static void tlscred__set_free(tlscred__set *s)
{
    while (s) {
        tlscred__set *o = s->older;
        for (unsigned i = 0; i < s->npcert; i++)
            gnutls_pcert_deinit(&s->pcert[i]);
        if (s->key) gnutls_privkey_deinit(s->key);
        free(s);
        s = o;
    }
}

static void tlscred__cn_of(const gnutls_datum_t *der, char *cn, size_t cap)
{
    cn[0] = '\0';
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return;
    size_t n = cap;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0 ||
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &n) < 0)
        cn[0] = '\0';
    gnutls_x509_crt_deinit(crt);
}

/* Both files into a new set; NULL with the reason. */
static tlscred__set *tlscred__load(const char *cert_path, const char *key_path, char *err,
                                   size_t errlen)
{
    gnutls_datum_t cd = {0}, kd = {0};
    tlscred__set *s = sl_xcalloc(1, sizeof *s);
    int rc;
    if ((rc = gnutls_load_file(cert_path, &cd)) < 0) {
        snprintf(err, errlen, "http.tls.cert: %s: %s", cert_path, gnutls_strerror(rc));
        goto fail;
    }
    s->npcert = TLSCRED_CHAIN_MAX;
    if ((rc = gnutls_pcert_list_import_x509_raw(s->pcert, &s->npcert, &cd, GNUTLS_X509_FMT_PEM,
                                                0)) < 0) {
        s->npcert = 0;
        snprintf(err, errlen, "http.tls.cert: %s: not a PEM certificate chain: %s", cert_path,
                 gnutls_strerror(rc));
        goto fail;
    }
    if ((rc = gnutls_load_file(key_path, &kd)) < 0) {
        snprintf(err, errlen, "http.tls.key: %s: %s", key_path, gnutls_strerror(rc));
        goto fail;
    }
    if (gnutls_privkey_init(&s->key) < 0 ||
        (rc = gnutls_privkey_import_x509_raw(s->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        snprintf(err, errlen, "http.tls.key: %s: not a PEM private key (unencrypted): %s", key_path,
                 gnutls_strerror(rc));
        goto fail;
    }
    /* the pair must belong together: a handshake would fail on every connection otherwise */
    gnutls_certificate_credentials_t probe;
    if (gnutls_certificate_allocate_credentials(&probe) >= 0) {
        rc = gnutls_certificate_set_x509_key_mem(probe, &cd, &kd, GNUTLS_X509_FMT_PEM);
        gnutls_certificate_free_credentials(probe);
        if (rc < 0) {
            snprintf(err, errlen, "http.tls.key: %s does not go with %s: %s", key_path, cert_path,
                     gnutls_strerror(rc));
            goto fail;
        }
    }
    gnutls_memset(kd.data, 0, kd.size);
    gnutls_free(kd.data);
    gnutls_free(cd.data);
    return s;
fail:
    if (kd.data) {
        gnutls_memset(kd.data, 0, kd.size);
        gnutls_free(kd.data);
    }
    gnutls_free(cd.data);
    tlscred__set_free(s);
    return NULL;
}

tlscred *tlscred_open(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    tlscred__set *s = tlscred__load(cert_path, key_path, err, errlen);
    if (!s) return NULL;
    tlscred *t = sl_xcalloc(1, sizeof *t);
    t->cert_path = sl_xstrdup(cert_path);
    t->key_path = sl_xstrdup(key_path);
    pthread_rwlock_init(&t->lock, NULL);
    t->cur = s;
    return t;
}

int tlscred_reload(tlscred *t, char *err, size_t errlen)
{
    tlscred__set *s = tlscred__load(t->cert_path, t->key_path, err, errlen);
    if (!s) return SL_EINVAL;
    pthread_rwlock_wrlock(&t->lock);
    s->older = t->cur;
    t->cur = s;
    pthread_rwlock_unlock(&t->lock);
    return 0;
}

void tlscred_subject(tlscred *t, char *cn, size_t cap)
{
    pthread_rwlock_rdlock(&t->lock);
    tlscred__cn_of(&t->cur->pcert[0].cert, cn, cap);
    pthread_rwlock_unlock(&t->lock);
}

int tlscred_retrieve(tlscred *t, gnutls_pcert_st **pcert, unsigned int *npcert,
                     gnutls_privkey_t *key)
{
    pthread_rwlock_rdlock(&t->lock);
    tlscred__set *s = t->cur;
    pthread_rwlock_unlock(&t->lock); /* s stays allocated until tlscred_free */
    if (!s || !s->npcert) return -1;
    *pcert = s->pcert;
    *npcert = s->npcert;
    *key = s->key;
    return 0;
}

void tlscred_free(tlscred *t)
{
    if (!t) return;
    tlscred__set_free(t->cur);
    pthread_rwlock_destroy(&t->lock);
    free(t->cert_path);
    free(t->key_path);
    free(t);
}

bool tlscred_peer(gnutls_session_t s, char *cn, size_t cap, char *why, size_t whylen)
{
    cn[0] = '\0';
    unsigned status = 0;
    int rc = gnutls_certificate_verify_peers2(s, &status);
    if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND) {
        snprintf(why, whylen, "no client certificate");
        return false;
    }
    if (rc < 0) {
        snprintf(why, whylen, "client certificate: %s", gnutls_strerror(rc));
        return false;
    }
    if (status) {
        gnutls_datum_t out = {0};
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >= 0) {
            snprintf(why, whylen, "client certificate: %s", (const char *)out.data);
            gnutls_free(out.data);
        } else {
            snprintf(why, whylen, "client certificate not trusted");
        }
        return false;
    }
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(s, &n);
    if (!peers || n == 0) {
        snprintf(why, whylen, "no client certificate");
        return false;
    }
    tlscred__cn_of(&peers[0], cn, cap);
    if (!cn[0]) {
        snprintf(why, whylen, "the client certificate has no subject CN");
        return false;
    }
    return true;
}
