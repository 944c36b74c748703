/* CRC-16/CCITT-FALSE, bitwise: frames are at most 519 bytes, speed does not matter. */
#include "sim/crc16.h"

#define CRC16_POLY 0x1021u

/*
 * sim_crc16_update - fold len bytes into crc, most significant bit first (the
 * CCITT-FALSE variant is unreflected).
 */
uint16_t sim_crc16_update(uint16_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len--) {
        crc ^= (uint16_t)(*p++ << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ CRC16_POLY) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* sim_crc16 - CRC of one buffer from the initial value. */
uint16_t sim_crc16(const void *data, size_t len)
{
    return sim_crc16_update(SIM_CRC16_INIT, data, len);
}
