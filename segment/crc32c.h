/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of segment files.
 *
 * crc32c_update() picks the SSE4.2 CRC32 instruction when the CPU has it (detected once at
 * run time) and a slicing-by-8 table otherwise; both give identical results, which the unit
 * tests check against published vectors. The functions are pure and thread-safe; the only
 * shared state is the lookup table, built once under pthread_once and never written again.
 *
 * Chaining: crc32c_update(crc32c_update(0, a, n), b, m) == crc32c_update(0, a||b, n+m). */
#ifndef SL_CRC32C_H
#define SL_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0..len) continuing from crc (0 to start). Fastest available implementation. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* Same result, table-driven (portable) implementation. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* Same result with the SSE4.2 instruction. Call only when crc32c_hw_available() is true. */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);

/* Whether this CPU has the SSE4.2 CRC32 instruction. */
bool crc32c_hw_available(void);

#endif
