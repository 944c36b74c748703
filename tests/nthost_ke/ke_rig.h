/*
 * ke_rig.h — test rig for the kernel core: boot the kernel on a fresh clock (and
 * optionally a bus) around each test, run code in a forked child that is expected to
 * bug check, and spawn system threads.
 */
#ifndef KE_RIG_H
#define KE_RIG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ntddk.h>

#include "bugcheck.h"
#include "ex_internal.h"
#include "ke_internal.h"
#include "nthost/nthost.h"
#include "ob_internal.h"

extern sim_clock *rig_clock;
extern sim_bus *rig_bus;

/* cmocka setup/teardown: kernel on a fresh clock and bus, verifier on. */
int rig_boot(void **state);
/* The same with a given configuration (real time, random preemption, ...). */
void rig_boot_with(const KI_CONFIG *cfg);
int rig_halt(void **state);

/* Runs fn in a forked child with a freshly booted kernel; returns the child's exit
 * status and its stderr (malloc'ed, caller frees). */
int rig_run_child(void (*fn)(void), char **output);
/* Asserts fn bug checks with Code and first parameter P1 (P1 ~0: any), and that the
 * report contains `expect` (NULL: no extra check). */
void rig_expect_bugcheck(void (*fn)(void), ULONG code, ULONG_PTR p1, const char *expect);

/* Registers the test executable itself as driver image "fakedrv" (so code and pool
 * of the test count as a driver's); returns its base. */
PVOID rig_register_fake_driver(SIZE_T *size);
void rig_unregister_fake_driver(void);

/* Starts a system thread running fn(ctx) and returns its referenced thread object. */
PKTHREAD rig_thread(PKSTART_ROUTINE fn, PVOID ctx);
/* Waits for the thread object to be signalled and drops the reference. */
void rig_join(PKTHREAD t);

static inline LARGE_INTEGER rig_rel_ms(LONGLONG ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -ms * 10000;
    return t;
}

#endif
