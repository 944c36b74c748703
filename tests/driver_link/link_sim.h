/*
 * link_sim.h — the simulated machine behind the DL-1 engine's unit tests: one clock,
 * one bus, one port chip and what is plugged into it, built straight from the sim
 * library (no nthost). link_hal.c routes the engine's port I/O and time here.
 * Plain C types only, so it mixes with <ntddk.h>.
 */
#ifndef LINK_SIM_H
#define LINK_SIM_H

#include <stdbool.h>
#include <stdint.h>

#define LS_BASE 0x378u

typedef enum ls_chip { LS_SPP, LS_PS2, LS_ECP } ls_chip;
typedef enum ls_attach { LS_NOTHING, LS_KEY, LS_KEY_PRINTER, LS_PRINTER } ls_attach;

/* Build the machine (clock at 0, key powering up) and, unless skip_ready, advance
   past the key's 100 ms power-up. */
void ls_create(ls_chip chip, unsigned access_ns, ls_attach attach, bool skip_ready);
void ls_destroy(void);

/* Bus and time, for link_hal.c. */
uint8_t ls_read8(uint16_t port);
void ls_write8(uint16_t port, uint8_t value);
void ls_stall_ns(uint64_t ns);   /* KeStallExecutionProcessor */
void ls_sleep_ns(uint64_t ns);   /* KeDelayExecutionThread: the clock jumps */
uint64_t ls_now_ns(void);

/* Figures for the tests. */
uint64_t ls_accesses(void);
uint64_t ls_stalled_ns(void);
uint64_t ls_slept_ns(void);
unsigned ls_sleeps(void);

/* Test-side bus faults: XOR the n-th DATA register write (or read) from now with
   mask — a request byte, or in byte mode a response byte, spoilt on the cable. */
void ls_corrupt_data_write(unsigned n, uint8_t mask);
void ls_corrupt_data_read(unsigned n, uint8_t mask);
/* Another thread runs for ns of machine time after the n-th access from now. */
void ls_preempt_after(unsigned n, uint64_t ns);

#endif
