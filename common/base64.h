/* Base64, standard alphabet, padded (RFC 4648 section 4): how Sluice puts arbitrary bytes in
 * JSON text (dead letters' payloads, ZooKeeper values that do not decode in `sluice zk dump`).
 *
 * The decoder is strict, so that one text names one byte string: the length is a multiple of
 * 4, only the 64 characters and the final '=' padding appear, and the bits that padding drops
 * are zero. @locality: any thread (pure functions). */
#ifndef SL_BASE64_H
#define SL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes, without a NUL: 4 * ceil(n / 3). */
size_t sl_base64_encoded_len(size_t n);

/* Encode in[0..len) into out, which holds sl_base64_encoded_len(len) + 1 bytes; out is
 * NUL-terminated. Returns the length written (the NUL not counted). */
size_t sl_base64_encode(const uint8_t *in, size_t len, char *out);

/* Most bytes a text of len characters decodes to: 3 * (len / 4). */
size_t sl_base64_decoded_max(size_t len);

/* Decode in[0..len) into out (sl_base64_decoded_max(len) bytes) and set *outlen. Returns 0, or
 * SL_EINVAL when in is not a canonical padded encoding (out then holds nothing useful). */
int sl_base64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen);

#endif
