/* Deterministic synthetic events (see evgen.h for the field list and the stream contract).
 *
 * Each row draws its values from a splitmix64 sequence whose start is a bijective mix of
 * (seed, id): for one seed, distinct ids start distinct sequences, and nothing depends on
 * the order in which rows are generated. The draw order below is part of the contract
 * (changing it changes every stream), so new fields must be appended, never inserted.
 * Value tables are fixed-size and ASCII-only, so the JSON never needs escaping and a row is
 * bounded by EVGEN_JSON_MAX. */
#include "chaos/evgen.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const countries[] = {
    "US", "CN", "IN", "BR", "DE", "GB", "FR", "JP", "RU", "MX", "ID", "IT", "CA",
    "KR", "ES", "AU", "NL", "TR", "SA", "CH", "PL", "SE", "BE", "AR", "NO", "AT",
    "AE", "IL", "IE", "DK", "SG", "MY", "ZA", "PH", "CO", "CL", "FI", "EG", "PK",
    "VN", "BD", "CZ", "RO", "PT", "NZ", "PE", "GR", "HU", "UA", "NG",
};

static const char *const devices[] = {"android_phone", "iphone", "ipad_tablet", "desktop_browser",
                                      "smart_tv_app"};

static const char *const events[] = {
    "page_view_home",   "product_detail_view", "add_to_cart",      "remove_from_cart",
    "checkout_started", "purchase_completed",  "search_submitted", "login_succeeded",
    "logout",           "share_clicked",
};

static const char *const tag_names[] = {
    "campaign:spring_sale_2024", "campaign:black_friday_2024", "experiment:checkout_a",
    "experiment:checkout_b",     "segment:returning_customer", "segment:new_customer",
    "loyalty:gold_member",       "loyalty:silver_member",      "channel:referral_partner",
    "channel:email_newsletter",  "channel:push_notification",  "channel:organic_search",
    "channel:paid_search",       "channel:social_media",       "feature:mobile_app_beta",
    "promo:free_shipping",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64 finalizer: a bijection on 64-bit words with good avalanche. */
static uint64_t evgen__mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t evgen__next(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return evgen__mix64(*state);
}

/* Unbiased enough for tables of <= 2^20 entries: the modulo bias of a 64-bit draw is < 2^-44. */
static uint32_t evgen__pick(uint64_t *state, uint32_t n)
{
    return (uint32_t)(evgen__next(state) % n);
}

void evgen_row_make(uint64_t seed, uint64_t id, evgen_row *out)
{
    id %= EVGEN_ID_MAX;
    uint64_t st = evgen__mix64(evgen__mix64(seed + UINT64_C(0x632be59bd9b4e019)) ^ id);

    memset(out, 0, sizeof *out);
    out->event_id = (int64_t)id;
    out->ts = EVGEN_TS_BASE + (int64_t)id * EVGEN_TS_STEP;
    snprintf(out->user, sizeof out->user, "u%" PRIu32, evgen__pick(&st, EVGEN_USERS));
    out->country = countries[evgen__pick(&st, COUNT(countries))];
    out->device = devices[evgen__pick(&st, COUNT(devices))];
    out->event = events[evgen__pick(&st, COUNT(events))];

    out->ntags = evgen__pick(&st, EVGEN_MAX_TAGS + 1);
    for (uint32_t t = 0; t < out->ntags; t++) {
        /* Redraw on a duplicate: a multi-value column of a row holds distinct tags. The loop
         * ends because at most 2 of the 16 names are taken. */
        const char *tag;
        bool dup;
        do {
            tag = tag_names[evgen__pick(&st, COUNT(tag_names))];
            dup = false;
            for (uint32_t u = 0; u < t; u++)
                dup |= out->tags[u] == tag;
        } while (dup);
        out->tags[t] = tag;
    }

    /* Mostly fast requests with a long tail, as real latency histograms look. */
    uint64_t lat = evgen__next(&st);
    out->latency_ms = (int32_t)(1 + lat % 400);
    if ((lat >> 32) % 20 == 0) out->latency_ms += (int32_t)((lat >> 40) % 10000);

    out->price_cents = (int64_t)(evgen__next(&st) % 100000);
    out->price = (double)out->price_cents / 100.0;
    out->session = INT64_C(1000000000000) + (int64_t)(evgen__next(&st) % INT64_C(9000000000000));
    out->flag = (evgen__next(&st) & 1) != 0;
}

/* Append formatted text at *len with snprintf's contract: *len always grows by the full
 * length, and buf (when cap > 0) always stays NUL-terminated. */
static void evgen__append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void evgen__append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

size_t evgen_row_format(const evgen_row *r, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap > 0) buf[0] = '\0';
    evgen__append(buf, cap, &len,
                  "{\"ts\":%" PRId64 ",\"user\":\"%s\",\"country\":\"%s\",\"device\":\"%s\","
                  "\"event\":\"%s\",\"tags\":[",
                  r->ts, r->user, r->country, r->device, r->event);
    for (uint32_t t = 0; t < r->ntags && t < EVGEN_MAX_TAGS; t++)
        evgen__append(buf, cap, &len, "%s\"%s\"", t ? "," : "", r->tags[t]);
    uint64_t cents = r->price_cents < 0 ? -(uint64_t)r->price_cents : (uint64_t)r->price_cents;
    evgen__append(buf, cap, &len,
                  "],\"latency_ms\":%" PRId32 ",\"price\":%s%" PRIu64 ".%02" PRIu64
                  ",\"session\":%" PRId64 ",\"flag\":%s,\"event_id\":%" PRId64 "}",
                  r->latency_ms, r->price_cents < 0 ? "-" : "", cents / 100, cents % 100,
                  r->session, r->flag ? "true" : "false", r->event_id);
    return len;
}

size_t evgen_row_json(uint64_t seed, uint64_t id, char *buf, size_t cap)
{
    evgen_row r;
    evgen_row_make(seed, id, &r);
    return evgen_row_format(&r, buf, cap);
}

size_t evgen_key(uint64_t id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%" PRIu64, id % EVGEN_ID_MAX);
    return n < 0 ? 0 : (size_t)n;
}

int32_t evgen_partition(uint64_t id, int32_t partitions)
{
    if (partitions < 1) return -1;
    return (int32_t)((id % EVGEN_ID_MAX) % (uint64_t)partitions);
}

uint32_t evgen_murmur2(const void *data, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const unsigned char *p = data;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;

    for (; len >= 4; len -= 4, p += 4) {
        uint32_t k =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len) {
    case 3:
        h ^= (uint32_t)p[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)p[1] << 8;
        /* fall through */
    case 1:
        h ^= p[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int32_t evgen_partition_murmur2(uint64_t id, int32_t partitions)
{
    if (partitions < 1) return -1;
    char key[EVGEN_KEY_MAX];
    size_t n = evgen_key(id, key, sizeof key);
    return (int32_t)((evgen_murmur2(key, n) & 0x7fffffff) % (uint32_t)partitions);
}
