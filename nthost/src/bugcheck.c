/*
 * bugcheck.c — KeBugCheckEx and the bug check report: the top lines of a blue screen
 * (code, four parameters, symbolic name, driver and routine, one line of explanation),
 * then the state of every thread, written to stderr and to $NTHOST_BUGCHECK_FILE;
 * the process then exits with NTHOST_BUGCHECK_EXIT.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ki.h"

static int VfpInBugCheck;

static const struct {
    ULONG Code;
    PCSTR Name;
} VfpCodeNames[] = {
    { APC_INDEX_MISMATCH, "APC_INDEX_MISMATCH" },
    { IRQL_NOT_GREATER_OR_EQUAL, "IRQL_NOT_GREATER_OR_EQUAL" },
    { IRQL_NOT_LESS_OR_EQUAL, "IRQL_NOT_LESS_OR_EQUAL" },
    { 0x0000000C, "MAXIMUM_WAIT_OBJECTS_EXCEEDED" },
    { SPIN_LOCK_ALREADY_OWNED, "SPIN_LOCK_ALREADY_OWNED" },
    { SPIN_LOCK_NOT_OWNED, "SPIN_LOCK_NOT_OWNED" },
    { THREAD_NOT_MUTEX_OWNER, "THREAD_NOT_MUTEX_OWNER" },
    { BAD_POOL_HEADER, "BAD_POOL_HEADER" },
    { KMODE_EXCEPTION_NOT_HANDLED, "KMODE_EXCEPTION_NOT_HANDLED" },
    { NO_MORE_IRP_STACK_LOCATIONS, "NO_MORE_IRP_STACK_LOCATIONS" },
    { MULTIPLE_IRP_COMPLETE_REQUESTS, "MULTIPLE_IRP_COMPLETE_REQUESTS" },
    { CANCEL_STATE_IN_COMPLETED_IRP, "CANCEL_STATE_IN_COMPLETED_IRP" },
    { 0x00000093, "INVALID_KERNEL_HANDLE" },
    { PAGE_FAULT_IN_NONPAGED_AREA, "PAGE_FAULT_IN_NONPAGED_AREA" },
    { SYSTEM_THREAD_EXCEPTION_NOT_HANDLED, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
    { DRIVER_POWER_STATE_FAILURE, "DRIVER_POWER_STATE_FAILURE" },
    { ATTEMPTED_SWITCH_FROM_DPC, "ATTEMPTED_SWITCH_FROM_DPC" },
    { BAD_POOL_CALLER, "BAD_POOL_CALLER" },
    { DRIVER_VERIFIER_DETECTED_VIOLATION, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
    { DRIVER_CORRUPTED_EXPOOL, "DRIVER_CORRUPTED_EXPOOL" },
    { TIMER_OR_DPC_INVALID, "TIMER_OR_DPC_INVALID" },
    { IRQL_UNEXPECTED_VALUE, "IRQL_UNEXPECTED_VALUE" },
    { DRIVER_VERIFIER_IOMANAGER_VIOLATION, "DRIVER_VERIFIER_IOMANAGER_VIOLATION" },
    { DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS, "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS" },
    { DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS" },
    { DRIVER_IRQL_NOT_LESS_OR_EQUAL, "DRIVER_IRQL_NOT_LESS_OR_EQUAL" },
    { MANUALLY_INITIATED_CRASH, "MANUALLY_INITIATED_CRASH" },
    { THREAD_STUCK_IN_DEVICE_DRIVER, "THREAD_STUCK_IN_DEVICE_DRIVER" },
    { DPC_WATCHDOG_VIOLATION, "DPC_WATCHDOG_VIOLATION" },
    { KERNEL_SECURITY_CHECK_FAILURE, "KERNEL_SECURITY_CHECK_FAILURE" },
    { NTHOST_DEADLOCK, "NTHOST_DEADLOCK" },
};

static PCSTR VfpCodeName(ULONG Code)
{
    for (size_t i = 0; i < sizeof VfpCodeNames / sizeof VfpCodeNames[0]; i++)
        if (VfpCodeNames[i].Code == Code)
            return VfpCodeNames[i].Name;
    return "UNKNOWN_BUGCHECK_CODE";
}

static void VfpWriteReport(FILE *f, ULONG Code, const ULONG_PTR P[4], PCSTR Driver, PCSTR Routine, PCSTR Explanation)
{
    fprintf(f, "*** STOP: 0x%08lX (0x%016llX,0x%016llX,0x%016llX,0x%016llX)\n", (unsigned long)Code,
            (unsigned long long)P[0], (unsigned long long)P[1], (unsigned long long)P[2], (unsigned long long)P[3]);
    fprintf(f, "%s\n", VfpCodeName(Code));
    fprintf(f, "*** Driver: %s  Routine: %s\n", Driver, Routine);
    fprintf(f, "%s\n", Explanation);
    PKTHREAD self = KiSelf;
    if (self)
        fprintf(f, "*** Thread %lu \"%s\" at IRQL %u, machine time %.9f s\n", (unsigned long)self->UniqueThread,
                self->Name, self->Irql, Ki.Clock ? (double)sim_now(Ki.Clock) / 1e9 : 0.0);
    if (Ki.Initialized) {
        fprintf(f, "*** Threads:\n");
        KiDumpThreads(f);
    }
}

VOID VfBugCheck(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4, const void *CulpritAddress,
                PCSTR Routine, PCSTR Explanation, ...)
{
    /* A bug check while reporting one: get out with what we have. */
    if (__atomic_exchange_n(&VfpInBugCheck, 1, __ATOMIC_SEQ_CST))
        _exit(NTHOST_BUGCHECK_EXIT);
    ULONG_PTR p[4] = { P1, P2, P3, P4 };
    char explanation[512];
    va_list ap;
    va_start(ap, Explanation);
    vsnprintf(explanation, sizeof explanation, Explanation, ap);
    va_end(ap);
    char routine[160];
    PCSTR driver = NULL;
    if (CulpritAddress)
        driver = VfImageOfAddress(CulpritAddress, NULL);
    if (Routine)
        snprintf(routine, sizeof routine, "%s", Routine);
    else if (CulpritAddress)
        VfDescribeAddress(CulpritAddress, routine, sizeof routine);
    else
        snprintf(routine, sizeof routine, "(unknown)");
    if (driver == NULL)
        driver = CulpritAddress ? "(not a driver: nthost or its host)" : "(unknown)";
    fflush(stdout);
    VfpWriteReport(stderr, Code, p, driver, routine, explanation);
    fflush(stderr);
    const char *path = getenv("NTHOST_BUGCHECK_FILE");
    if (path && *path) {
        FILE *f = fopen(path, "a");
        if (f) {
            VfpWriteReport(f, Code, p, driver, routine, explanation);
            fclose(f);
        }
    }
    _exit(NTHOST_BUGCHECK_EXIT);
}

VOID NTAPI KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1, ULONG_PTR BugCheckParameter2,
                        ULONG_PTR BugCheckParameter3, ULONG_PTR BugCheckParameter4)
{
    VfBugCheck(BugCheckCode, BugCheckParameter1, BugCheckParameter2, BugCheckParameter3, BugCheckParameter4,
               __builtin_return_address(0), NULL, "KeBugCheckEx called by the driver");
}

VOID NTAPI KeBugCheck(ULONG BugCheckCode)
{
    VfBugCheck(BugCheckCode, 0, 0, 0, 0, __builtin_return_address(0), NULL, "KeBugCheck called by the driver");
}

/* RtlFailFast: the corrupt-list trap of the inline list routines. */
VOID NTAPI RtlFailFast(ULONG Code)
{
    VfBugCheck(KERNEL_SECURITY_CHECK_FAILURE, Code, 0, 0, 0, __builtin_return_address(0), NULL,
               "a LIST_ENTRY is corrupt (its neighbours do not point back at it)");
}

/* RtlAssert: a failed ASSERT in a checked build. With no kernel debugger attached the
 * breakpoint it raises is an unhandled kernel-mode exception. */
VOID NTAPI RtlAssert(PVOID FailedAssertion, PVOID FileName, ULONG LineNumber, PSTR Message)
{
    VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)STATUS_BREAKPOINT, (ULONG_PTR)__builtin_return_address(0),
               0, 0, __builtin_return_address(0), NULL, "assertion failed: %s%s%s (%s, line %lu)",
               Message ? Message : "", Message ? ": " : "", (const char *)FailedAssertion, (const char *)FileName,
               (unsigned long)LineNumber);
}

/* ExRaiseStatus: nthost has no structured exception handling, so every raise is an
 * unhandled kernel-mode exception. */
VOID NTAPI ExRaiseStatus(NTSTATUS Status)
{
    VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)Status, (ULONG_PTR)__builtin_return_address(0), 0, 0,
               __builtin_return_address(0), NULL, "ExRaiseStatus(0x%08lX) with no exception handler",
               (unsigned long)(ULONG)Status);
}

/* DbgBreakPoint: traps into gdb when one is attached; otherwise, like NT without a
 * kernel debugger, the breakpoint is an unhandled exception. */
VOID NTAPI DbgBreakPoint(VOID)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    BOOLEAN traced = FALSE;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "TracerPid:", 10) == 0)
            traced = atoi(line + 10) != 0;
    if (f)
        fclose(f);
    if (traced) {
        raise(SIGTRAP);
        return;
    }
    VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)STATUS_BREAKPOINT,
               (ULONG_PTR)__builtin_return_address(0), 0, 0, __builtin_return_address(0), NULL,
               "DbgBreakPoint with no debugger attached");
}
