/* Entry points of the `sluice` subcommands; each returns the process exit code and owns
 * nothing it was given (argv belongs to main). argv[0] is the subcommand name. */
#ifndef SL_CMDS_H
#define SL_CMDS_H

int cmd_segment_main(int argc, char **argv);
int cmd_kafka_mock_main(int argc, char **argv);
int cmd_loadgen_main(int argc, char **argv);
int cmd_sidecar_main(int argc, char **argv);
int cmd_controller_main(int argc, char **argv);
int cmd_table_main(int argc, char **argv);
int cmd_replay_main(int argc, char **argv);
int cmd_audit_main(int argc, char **argv);
int cmd_chaos_main(int argc, char **argv);
int cmd_zk_main(int argc, char **argv);
int cmd_push_main(int argc, char **argv);

/* Config-table rows of the HTTP server's connection limits, the same in every process that
 * serves HTTP (controller, sidecar). The including file's OFF(m) must name its fields
 * http_max_conns, http_max_conns_per_ip and http_header_timeout. */
#define CMD_HTTP_LIMIT_ROWS                                                                        \
    {"http.max.connections", CONFIG_INT64, OFF(http_max_conns), 16, 100000, "1024",               \
     "Most HTTP connections open at once; at the limit a new one replaces the oldest that has "  \
     "not sent a complete request header, or is refused when every one is inside a request",    \
     0, NULL},                                                                                     \
    {"http.max.connections.per.ip", CONFIG_INT64, OFF(http_max_conns_per_ip), 0, 100000, "512",  \
     "Most HTTP connections from one client address (0 = no limit); long-polls count, one per "  \
     "partition completing on each sidecar of that host",                                        \
     0, NULL},                                                                                     \
    {"http.header.timeout", CONFIG_DURATION_MS, OFF(http_header_timeout), 100, 600000, "10s",    \
     "A connection that has not sent a complete request header this long after connecting "     \
     "(or after its previous reply) is closed, however slowly it trickles bytes",                \
     0, NULL}

/* Config-table rows of the segment fetchers (DESIGN §10), the same in every process that
 * downloads segments from a pushed URI (controller, sidecar). The including file's OFF(m)
 * must name its fields fetch_ca and fetch_netrc. */
#define CMD_FETCHER_ROWS                                                                           \
    {"fetcher.https.ca.file",                                                                      \
     CONFIG_STRING,                                                                                \
     OFF(fetch_ca),                                                                                \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "PEM bundle of the CAs that https:// and swebhdfs:// segment URIs are verified against "      \
     "(default: the system's)",                                                                    \
     CONFIG_FILE,                                                                                  \
     NULL},                                                                                        \
    {                                                                                              \
        "fetcher.netrc.file", CONFIG_STRING, OFF(fetch_netrc), 0, 0, NULL,                         \
            "netrc file whose entry for a host gives the credentials sent when a segment is "      \
            "fetched "                                                                             \
            "from it (http, https, webhdfs): no password goes into a URI that ZooKeeper records",  \
            CONFIG_FILE, NULL                                                                      \
    }

/* Config-table rows of authentication (DESIGN §12), the same in the controller and the sidecar.
 * The including file's OFF(m) must name its fields auth_tokens, auth_token and auth_disabled. */
#define CMD_AUTH_ROWS                                                                              \
    {"auth.tokens.file",                                                                           \
     CONFIG_STRING,                                                                                \
     OFF(auth_tokens),                                                                             \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "Bearer tokens this process accepts, one 'TOKEN ROLE[:INSTANCE]' per line (roles admin, "     \
     "reader, instance:<id>): every route but /health then needs one (401 without, 403 for "       \
     "the wrong role or instance); re-read on SIGHUP",                                             \
     CONFIG_FILE,                                                                                  \
     NULL},                                                                                        \
        {"auth.token.file",                                                                        \
         CONFIG_STRING,                                                                            \
         OFF(auth_token),                                                                          \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "This process's own bearer token (the first line of the file), sent with its calls to "   \
         "the "                                                                                    \
         "controllers and to the sidecars (RPCs, uploads, downloads, peer fetches)",               \
         CONFIG_FILE,                                                                              \
         NULL},                                                                                    \
    {                                                                                              \
        "auth.disabled", CONFIG_BOOL, OFF(auth_disabled), 0, 0, "false",                           \
            "Serve without tokens on an address other hosts reach: without it a process whose "    \
            "http.bind is not a loopback address and that has no auth.tokens.file refuses to "     \
            "start",                                                                               \
            0, NULL                                                                                \
    }

/* Config-table rows of TLS (DESIGN §12), the same in the controller and the sidecar. The
 * including file's OFF(m) must name its fields tls_cert, tls_key, tls_client_ca and tls_ca. */
#define CMD_TLS_ROWS                                                                               \
    {"http.tls.cert",                                                                              \
     CONFIG_STRING,                                                                                \
     OFF(tls_cert),                                                                                \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "PEM certificate chain (the server's first): serve HTTPS; also the client certificate "       \
     "this process presents to the cluster's mTLS servers (its CN the instance id); re-read on "   \
     "SIGHUP",                                                                                     \
     CONFIG_FILE,                                                                                  \
     NULL},                                                                                        \
        {"http.tls.key",                                                                           \
         CONFIG_STRING,                                                                            \
         OFF(tls_key),                                                                             \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "PEM private key of http.tls.cert (unencrypted); re-read on SIGHUP",                      \
         CONFIG_FILE,                                                                              \
         NULL},                                                                                    \
        {"http.tls.client.ca",                                                                     \
         CONFIG_STRING,                                                                            \
         OFF(tls_client_ca),                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "mTLS: PEM bundle of the CAs client certificates must be signed by; every route but "     \
         "/health then needs one (403 without), and an instance token's certificate must have "    \
         "the "                                                                                    \
         "instance id as its CN",                                                                  \
         CONFIG_FILE,                                                                              \
         NULL},                                                                                    \
    {                                                                                              \
        "tls.ca.file", CONFIG_STRING, OFF(tls_ca), 0, 0, NULL,                                     \
            "PEM bundle the cluster's https:// servers (controllers, sidecars) are verified "      \
            "against "                                                                             \
            "(default: fetcher.https.ca.file, else the system's)",                                 \
            CONFIG_FILE, NULL                                                                      \
    }

#endif
