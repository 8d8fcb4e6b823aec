/* A Confluent schema registry client, for the decoders of Confluent's wire format (a 0 byte,
 * the schema id as 4 big-endian bytes, then the payload): GET <url>/schemas/ids/<id> over
 * libcurl ({"schema": "...", "schemaType": "AVRO"|"JSON"|"PROTOBUF"}, AVRO when absent), with
 * basic auth from user:password. A failed id is remembered and not asked again for
 * REGISTRY_RETRY_MS, so a burst of messages with an unknown id costs one request.
 *
 * Its cache holds what the registry answered per id, not what a decoder made of it (the Avro
 * scanner compiles schemas into plans of its own). A registry is used by one thread at a time;
 * a fetch of an id not cached blocks for at most REGISTRY_TIMEOUT_MS. */
#ifndef SL_REGISTRY_H
#define SL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define REGISTRY_RETRY_MS 10000
#define REGISTRY_TIMEOUT_MS 5000
#define REGISTRY_CACHE 64 /* ids kept; the oldest goes */

typedef struct registry registry;

/* A client of the registry at url (http:// or https://), with userinfo "user:password" or
 * NULL (both copied). Caller frees with registry_free. */
registry *registry_new(const char *url, const char *userinfo);
void registry_free(registry *r);

/* The schema the registry has for id: 0 with *text (len bytes, NUL-terminated) and *type
 * ("AVRO", "JSON", "PROTOBUF"), both owned by the registry and valid until the next call; or
 * -1 with the reason in why (cap bytes), also when it failed less than REGISTRY_RETRY_MS ago. */
int registry_schema(registry *r, int32_t id, const char **text, size_t *len, const char **type,
                    char *why, size_t cap);

/* The schema id of a message in Confluent's wire format: 0 with *id and the payload after the
 * 5-byte header, or -1 (too short, or not the 0 magic byte). */
int registry_wire(const uint8_t *msg, size_t len, int32_t *id, const uint8_t **payload,
                  size_t *plen);

#endif
