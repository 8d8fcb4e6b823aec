/* Deep store (DESIGN §10 "Fetchers ... for deep store"): a controller whose `deepstore.uri`
 * is `webhdfs://[user@]host:port/path` (or `swebhdfs://`) or `http(s)://host[:port]/path` keeps
 * its segment store in data.dir as before and mirrors every committed file there, over libcurl:
 *
 *           WebHDFS REST API                              HTTP (WebDAV's PUT and DELETE)
 *   put     CREATE (overwrite): the namenode's 307        PUT of the file's URL
 *           names a datanode, which takes the bytes
 *   get     OPEN, the redirect followed                   GET (redirects followed)
 *   remove  DELETE                                        DELETE
 *
 * Files are `<path>/<table>/<segment>.seg`. segstore.c calls it: a promote or replace is
 * acknowledged only once the mirror has the file (a commit whose put failed fails and is
 * retried, and the retried promote puts again), and a committed file missing locally (a new
 * leader on an empty data.dir, a lost disk) is fetched back from it, verified, before a download
 * is served. The mirror is the durable copy that outlives every controller host.
 *
 * Threads: any; each call makes its own connection (httpc), so calls run in parallel. */
#ifndef SL_DEEPSTORE_H
#define SL_DEEPSTORE_H

#include <stddef.h>

typedef struct deepstore deepstore;

/* Whether uri names a deep store this module serves (webhdfs://, swebhdfs://, http://,
 * https://). */
int deepstore_is_uri(const char *uri);

/* A deep store at uri; ca_file and netrc_file (fetcher.https.ca.file, fetcher.netrc.file; may
 * be NULL) are copied. SL_EINVAL with the reason in err for a URI that is not a valid WebHDFS
 * URI nor an http(s) URL with a path and no query, fragment or credentials. On success *out is the
 * caller's (deepstore_close). */
int deepstore_open(const char *uri, const char *ca_file, const char *netrc_file, deepstore **out,
                   char *err, size_t errlen);
void deepstore_close(deepstore *d);

/* Put the local file at path as table/segment (replacing what is there). 0, or SL_ETRANSIENT
 * (the mirror did not take it: retry) with the reason in err; SL_EIO for the local file. */
int deepstore_put(deepstore *d, const char *table, const char *segment, const char *path, char *err,
                  size_t errlen);

/* Read table/segment into fd (the caller's; fsync-ed, not verified). 0; SL_ENOENT (the mirror
 * has no such file); a transfer or local error (segfetch_get_fd's) with the reason in err. */
int deepstore_get(deepstore *d, const char *table, const char *segment, int fd, char *err,
                  size_t errlen);

/* Delete table/segment. 0 (also when it was not there), or SL_ETRANSIENT with the reason. */
int deepstore_remove(deepstore *d, const char *table, const char *segment, char *err,
                     size_t errlen);

#endif
