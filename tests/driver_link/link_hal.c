/*
 * link_hal.c — the few HAL and Ke routines the DL-1 engine calls, on the test's
 * simulated machine (link_sim.c), with nthost's virtual-time semantics: an access
 * costs the port's access time, a stall advances the clock, a sleep jumps it (the
 * test is the only thread). The performance counter runs at 10 MHz, as on many NT
 * machines, so the engine's tick conversions are exercised with a coarse counter.
 */
#include <stdlib.h>
#include <ntddk.h>
#include "link_sim.h"

#define LH_QPC_HZ 10000000LL

UCHAR NTAPI READ_PORT_UCHAR(PUCHAR Port)
{
    return ls_read8((uint16_t)(ULONG_PTR)Port);
}

VOID NTAPI WRITE_PORT_UCHAR(PUCHAR Port, UCHAR Value)
{
    ls_write8((uint16_t)(ULONG_PTR)Port, Value);
}

VOID NTAPI KeStallExecutionProcessor(ULONG MicroSeconds)
{
    ls_stall_ns((uint64_t)MicroSeconds * 1000);
}

LARGE_INTEGER NTAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER now;

    if (PerformanceFrequency)
        PerformanceFrequency->QuadPart = LH_QPC_HZ;
    now.QuadPart = (LONGLONG)(ls_now_ns() / (1000000000 / LH_QPC_HZ));
    return now;
}

VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    /* 2026-01-01 in NT time plus the machine clock. */
    CurrentTime->QuadPart = 134116992000000000LL + (LONGLONG)(ls_now_ns() / 100);
}

NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                      PLARGE_INTEGER Interval)
{
    (void)WaitMode;
    (void)Alertable;
    /* The engine only sleeps for relative intervals. */
    if (Interval->QuadPart >= 0)
        abort();
    ls_sleep_ns((uint64_t)(-Interval->QuadPart) * 100);
    return STATUS_SUCCESS;
}
