/* Kafka metadata queries (see kmeta.h). */
#include "consumer/kmeta.h"
#include "common/log.h"
#include "common/sl_err.h"

#include <stdio.h>
#include <string.h>

rd_kafka_t *kmeta_open(const char *brokers, const kmeta_prop *props, size_t nprops, char *err,
                       size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, e, sizeof e) != RD_KAFKA_CONF_OK)
        goto bad;
    for (size_t i = 0; i < nprops; i++)
        if (rd_kafka_conf_set(conf, props[i].key, props[i].value, e, sizeof e) != RD_KAFKA_CONF_OK)
            goto bad;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (rk) return rk;
    snprintf(err, errlen, "kafka: %s", e);
    rd_kafka_conf_destroy(conf);
    return NULL;
bad:
    snprintf(err, errlen, "kafka: %s", e);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int kmeta_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *count)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    int rc = SL_ETRANSIENT;
    if (!e && md->topic_cnt == 1) {
        if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = SL_ENOENT;
        } else if (!md->topics[0].err) {
            *count = md->topics[0].partition_cnt;
            rc = 0;
        }
    }
    if (md) rd_kafka_metadata_destroy(md);
    return rc;
}

/* Errors that mean the cached leader of the partition is stale. */
static bool kmeta__stale_leader(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
           e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
           e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
           e == RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH;
}

int kmeta_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms,
                     int64_t *low, int64_t *high)
{
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(rk, topic, partition, low, high, timeout_ms);
    if (kmeta__stale_leader(e)) {
        /* the query asks the leader librdkafka has cached and does not refresh it on "not
         * leader" (a handle that consumes nothing gets no metadata refresh of its own): ask
         * for the topic's metadata, which updates the cache, and query the new leader once */
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
            e = rd_kafka_query_watermark_offsets(rk, topic, partition, low, high, timeout_ms);
        if (md) rd_kafka_metadata_destroy(md);
        if (rkt) rd_kafka_topic_destroy(rkt);
    }
    if (e) {
        SL_WARN("kafka", "watermark query failed topic=%s partition=%d err=%s", topic,
                (int)partition, rd_kafka_err2str(e));
        return SL_ETRANSIENT;
    }
    return 0;
}

int kmeta_offsets(rd_kafka_t *rk, const char *topic, const int32_t *partitions, size_t n,
                  bool latest, int timeout_ms, int64_t *out)
{
    if (n == 0) return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(l, topic, partitions[i])->offset =
            latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING; /* -1 / -2 */
        out[i] = -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, timeout_ms);
    int rc = e ? SL_ETRANSIENT : 0;
    for (int i = 0; i < l->cnt && !e; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        if (tp->err || tp->offset < 0) {
            rc = SL_ETRANSIENT;
            continue;
        }
        if ((size_t)i < n && partitions[i] == tp->partition) { /* the list keeps its order */
            out[i] = tp->offset;
            continue;
        }
        for (size_t k = 0; k < n; k++)
            if (partitions[k] == tp->partition) out[k] = tp->offset;
    }
    if (rc)
        SL_WARN("kafka", "offset query failed topic=%s partitions=%zu err=%s", topic, n,
                e ? rd_kafka_err2str(e) : "some partitions were not answered");
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

size_t kmeta_props_of(const tcfg *t, kmeta_prop *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->nprops && n < cap; i++)
        if (strcmp(t->props[i].key, "group.id") != 0)
            out[n++] = (kmeta_prop){t->props[i].key, t->props[i].value};
    return n;
}

int64_t kmeta_message_time(const rd_kafka_message_t *m)
{
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    return tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0 ? INT64_MIN : ts;
}
