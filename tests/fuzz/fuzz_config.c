/* libFuzzer target for the properties-file parser of common/config.c.
 *
 * The input is the file body (served through a memfd so config_load reads it like any file),
 * loaded against a table with every type, a prefix and an enum; a rejection must carry a
 * message, and an accepted load must hold the values the table promises (bounds, enum index)
 * and be freed completely (the sanitizers check the rest). */
#include "common/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct fconf {
    char *s;
    int64_t i;
    bool b;
    uint64_t d, z;
    int e;
    config_kvs kv;
} fconf;

static const config_enum_value ev[] = {{"a", 0}, {"b", CONFIG_ROLE_STANDALONE}, {NULL, 0}};
static const config_def defs[] = {
    {"s", CONFIG_STRING, offsetof(fconf, s), 0, 0, NULL, "s", 0, NULL},
    {"i", CONFIG_INT64, offsetof(fconf, i), -5, 1000, "1", "i", 0, NULL},
    {"b", CONFIG_BOOL, offsetof(fconf, b), 0, 0, "false", "b", 0, NULL},
    {"d", CONFIG_DURATION_MS, offsetof(fconf, d), 0, INT64_MAX, "1s", "d", 0, NULL},
    {"z", CONFIG_SIZE_BYTES, offsetof(fconf, z), 1, 1 << 20, "1K", "z", 0, NULL},
    {"e", CONFIG_ENUM, offsetof(fconf, e), 0, 0, "a", "e", 0, ev},
    {"k.", CONFIG_STRING, offsetof(fconf, kv), 0, 0, NULL, "k", CONFIG_PREFIX, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_config", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64], err[512] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    fconf c;
    int rc = config_load(defs, sizeof defs / sizeof defs[0], &c, 0, path, NULL, 0, err, sizeof err);
    close(fd);
    if (rc) {
        if (!err[0]) abort();
        return 0;
    }
    if (c.i < -5 || c.i > 1000 || c.z < 1 || c.z > (1 << 20) || c.e < 0 || c.e > 1) abort();
    for (size_t k = 0; k < c.kv.n; k++)
        if (!c.kv.items[k].key[0] || !c.kv.items[k].value) abort();
    config_free(defs, sizeof defs / sizeof defs[0], &c);
    return 0;
}
