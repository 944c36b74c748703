/*
 * sim/crc16.h — CRC-16/CCITT-FALSE, the DL-1 frame check (DL1.md section 6):
 * polynomial 0x1021, initial 0xFFFF, no reflection, no final xor; "123456789" -> 0x29B1.
 */
#ifndef SIM_CRC16_H
#define SIM_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define SIM_CRC16_INIT 0xFFFFu

/* Continue a CRC over len more bytes (start with SIM_CRC16_INIT). */
uint16_t sim_crc16_update(uint16_t crc, const void *data, size_t len);
uint16_t sim_crc16(const void *data, size_t len);

#endif
