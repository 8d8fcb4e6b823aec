/* Bearer-token authentication of the HTTP APIs (DESIGN §12).
 *
 * A tokens file (`auth.tokens.file`) has one `TOKEN ROLE[:INSTANCE]` per line; blank lines and
 * lines starting with '#' are skipped. Roles:
 *   admin            everything: tables, pushes, lineage, force commit, pause, and every read
 *   instance:<id>    the completion RPCs and commit uploads as <id> only, and every read
 *   reader           reads (GET and HEAD)
 * A token is RFC 6750's b64token ([A-Za-z0-9-._~+/] then any '='), at most AUTH_TOKEN_MAX
 * bytes; a token listed twice, an unknown role or an instance that is not an identifier fails
 * the whole file, naming the line, so a typo never silently locks a client out or in.
 *
 * A request's `Authorization: Bearer <token>` is compared with every listed token in time that
 * depends only on the presented token's length and the number of tokens (never on where they
 * first differ). Tokens are never logged or copied into messages. The table can be re-read
 * (auth_reload, on SIGHUP): a file that fails keeps the previous table.
 * @locality any thread: lookups take a read lock, a reload the write lock. */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_TOKEN_MAX 512
#define AUTH_INSTANCE_MAX 129 /* an identifier (common/ident.h) and its NUL */

typedef enum auth_role {
    AUTH_ROLE_READER = 0,
    AUTH_ROLE_INSTANCE,
    AUTH_ROLE_ADMIN,
    AUTH_ROLE__COUNT
} auth_role;

/* "reader", "instance", "admin". */
const char *auth_role_name(auth_role r);

/* Who a request is, once its token matched. */
typedef struct auth_principal {
    auth_role role;
    char instance[AUTH_INSTANCE_MAX]; /* AUTH_ROLE_INSTANCE: its id; else "" */
} auth_principal;

typedef struct auth auth;

/* Read the tokens file at path. Returns the table (caller frees with auth_close), or NULL with
 * "<path>:<line>: <reason>" in err (an unreadable file, a bad line, no token at all). A file
 * others may read is accepted with a warning. */
auth *auth_open(const char *path, char *err, size_t errlen);

/* Re-read the file auth_open was given. Returns 0 once the new table is in place, or a negative
 * SL_E* with the reason in err, the old table kept. */
int auth_reload(auth *a, char *err, size_t errlen);

/* Tokens in the table now. */
size_t auth_count(auth *a);

/* The principal of an Authorization header value ("Bearer <token>", scheme case-insensitive).
 * False for NULL, another scheme or an unknown token; *out is filled only on true. */
bool auth_check(auth *a, const char *authorization, auth_principal *out);

/* SIGHUP's reload: auth_reload, logged (how many tokens now, or why the old table stays).
 * NULL (no tokens file) logs that there is nothing to re-read. */
void auth_sighup(auth *a);

/* Free the table. NULL is a no-op. */
void auth_close(auth *a);

/* A client's own token: the first line of path that is not blank or a comment, trimmed, which
 * must be a b64token. Returns 0 with *token (caller frees) or a negative SL_E* with the reason
 * in err. */
int auth_token_read(const char *path, char **token, char *err, size_t errlen);

/* A command-line client's credentials (sluice table, push, audit, replay), from its options
 * "--token-file F", "--ca-file F", "--cert F", "--key F" (or "--opt=F"), else the environment's
 * $SLUICE_TOKEN_FILE, $SLUICE_CA_FILE, $SLUICE_CERT_FILE, $SLUICE_KEY_FILE. */
typedef struct auth_cli {
    char *token;           /* the token file's token (auth_token_read), or NULL */
    const char *ca_file;   /* PEM bundle https:// controllers are verified against */
    const char *cert_file; /* the certificate presented to an mTLS server, and its key */
    const char *key_file;
} auth_cli;

/* Take those options out of argv[1..] (*argc updated) into *out and read the token file.
 * Returns 0, or a negative SL_E* with the reason in err. Free with auth_cli_free. */
int auth_cli_parse(int *argc, char **argv, auth_cli *out, char *err, size_t errlen);
void auth_cli_free(auth_cli *a);

/* Give c the credentials: its bearer token and its TLS files (httpc_set_bearer, _set_tls). */
struct httpc;
void auth_cli_apply(const auth_cli *a, struct httpc *c);

/* A command's main with its credentials: fn(argc, argv, cred) after auth_cli_parse (cred
 * borrowed for the call). A bad option is exit 2, "<cmd>: <reason>" on stderr. */
typedef int (*auth_cli_fn)(int argc, char **argv, const auth_cli *cred);
int auth_cli_main(int argc, char **argv, const char *cmd, auth_cli_fn fn);

/* Whether a and b (lengths alen, blen) are equal, in time that depends on alen only. */
bool auth_equal(const char *a, size_t alen, const char *b, size_t blen);

/* Whether an HTTP bind address only takes connections from this host (127.0.0.0/8, ::1,
 * "localhost"). NULL, "", "0.0.0.0" and "::" are every address: false. */
bool auth_bind_is_loopback(const char *bind);

/* The token table a server at bind starts with (default-deny, DESIGN §12): the tokens file's
 * when tokens_file is set; none when the address is loopback or disabled (auth.disabled) is
 * set; otherwise a refusal. Returns 0 with *out (NULL: no checks; caller frees with
 * auth_close), or SL_EINVAL with the config key and reason in err. */
int auth_server_open(const char *bind, const char *tokens_file, bool disabled, auth **out,
                     char *err, size_t errlen);

#endif
