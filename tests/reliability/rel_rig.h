/*
 * rel_rig.h — the machine the reliability suites run on, booted in nthost with the
 * real parport and DongLpt drivers, and the Win32-side helpers the suites share.
 *
 * One DL-1 key per transfer mode, each with a printer on its pass-through (so the
 * printer faults of DL1.md section 9 apply):
 *   port 0  LPT1 0x378 PS/2 chip    -> \\.\DongLpt1, byte reverse
 *   port 1  LPT2 0x278 SPP chip     -> \\.\DongLpt2, nibble reverse
 *   port 2  LPT3 0x2B8 ECP chip     -> \\.\DongLpt3, byte reverse in ECR mode 001
 * Keys are volatile (key.image = none): their non-volatile state lives in memory,
 * survives power loss like EEPROM does, and costs no fsync per page.
 */
#ifndef REL_RIG_H
#define REL_RIG_H

#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>
#include <nthost/nthost.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/machine.h"

#define RIG_PORTS 3

typedef struct rel_rig {
    char dir[64];
    char machine[128];
    char extra_reg[128];
    size_t pool_before_dong;   /* pool outstanding before DongLpt started */
    char *names_before_dong;   /* namespace snapshot before DongLpt started */
} rel_rig;

extern const char *const rig_mode_name[RIG_PORTS];

/* Boot (virtual time, verifier on), start Parport then DongLpt. extra_params: more
   .reg lines for Services\DongLpt\Parameters, or NULL. preempt_seed: 0 or the seed of
   nthost's random preemption. Fails the cmocka test on error. */
void rig_boot(rel_rig *r, const char *extra_params, uint64_t preempt_seed);
/* Stop DongLpt unless it is stopped already (no handle may be open) and check that the namespace and the pool are
   back to what they were before it started; then shut nthost down. */
void rig_shutdown(rel_rig *r);

sim_key *rig_key(unsigned port);
sim_printer *rig_printer(unsigned port);
sim_port *rig_port(unsigned port);
sim_clock *rig_clock(void);

/* CreateFile on \\.\DongLpt<port+1>; INVALID_HANDLE_VALUE with the error kept. */
HANDLE rig_open(unsigned port, DWORD access, DWORD flags);

/* One TRANSACT (READ or WRITE code by the command). Returns 0 or the Win32 error;
   on success checks BytesReturned == header + Length. */
DWORD rig_transact(HANDLE h, UCHAR cmd, UCHAR flags, const void *payload, USHORT len,
                   DONG_TRANSACT_RESPONSE *resp);
/* COUNTER_READ through the driver; fails the test on any error. */
uint32_t rig_counter_read(HANDLE h, unsigned index);

void rig_put16(UCHAR *p, unsigned v);
void rig_put32(UCHAR *p, uint32_t v);
uint32_t rig_get32(const UCHAR *p);

/* A small deterministic PRNG (xorshift64*), so a failing case can be replayed. */
uint64_t rig_rand(uint64_t *state);
/* An unsigned environment parameter, or def. */
unsigned long rig_param(const char *name, unsigned long def);

#endif
