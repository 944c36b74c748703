/*
 * evilkey.h — a malicious or broken "key": a sim peripheral (sim/lines.h) whose
 * status lines and data lines follow a script instead of DL1.md, for fuzzing how the
 * driver copes with whatever a device on the port may do.
 */
#ifndef DONG_EVILKEY_H
#define DONG_EVILKEY_H

#include <stddef.h>
#include <stdint.h>
#include "sim/lines.h"

/*
 * A peripheral that answers each host line change with the next script byte b:
 *   bits 0..4  Busy, nAck, PError, Select, nFault levels
 *   bit 5      drive D0-D7 (when the host does not) with the script's next byte
 *   bit 6      apply the change after a delay: (next byte + 1) x 250 ns
 *   bit 7      also toggle nAck again 1 us later (a spurious pulse)
 * When the script runs out it shows the pull-up pattern (a dead device). The script
 * is copied.
 */
sim_peripheral *evilkey_create(sim_clock *clk, const uint8_t *script, size_t len);

/*
 * A broken key: a real peripheral (inner, e.g. a DL-1 from sim_key_create) whose
 * status lines pass through a fault mask. At each host line change the next script
 * byte b sets the mask until the following change:
 *   bits 0..4  flip Busy, nAck, PError, Select, nFault
 *   bit 5      flip the data lines the inner device drives with the next byte
 * and a zero byte (or the end of the script) leaves the lines alone. Takes ownership
 * of inner (destroyed with the wrapper).
 */
sim_peripheral *evilkey_wrap(sim_clock *clk, sim_peripheral *inner, const uint8_t *script, size_t len);

#endif
