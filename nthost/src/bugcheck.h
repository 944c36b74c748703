/*
 * bugcheck.h — NT bug check codes nthost raises, the verifier's report helpers and
 * the driver-image registry the reports (and pool accounting) attribute code to.
 *
 * A bug check prints the blue-screen head (docs/INTERNALS.md, "Bugcheck") to stderr
 * and to $NTHOST_BUGCHECK_FILE, then exits with NTHOST_BUGCHECK_EXIT.
 */
#ifndef NTHOST_BUGCHECK_H
#define NTHOST_BUGCHECK_H

#include <ntddk.h>

#define NTHOST_BUGCHECK_EXIT 66

/* Bug check codes (the real numbers). */
#define APC_INDEX_MISMATCH 0x00000001
#define IRQL_NOT_GREATER_OR_EQUAL 0x00000009
#define IRQL_NOT_LESS_OR_EQUAL 0x0000000A
#define NO_EXCEPTION_HANDLING_SUPPORT 0x0000000B
#define SPIN_LOCK_ALREADY_OWNED 0x0000000F
#define SPIN_LOCK_NOT_OWNED 0x00000010
#define THREAD_NOT_MUTEX_OWNER 0x00000011
#define KMODE_EXCEPTION_NOT_HANDLED 0x0000001E
#define NO_MORE_IRP_STACK_LOCATIONS 0x00000035
#define MULTIPLE_IRP_COMPLETE_REQUESTS 0x00000044
#define CANCEL_STATE_IN_COMPLETED_IRP 0x00000048
#define INVALID_DATA_ACCESS_TRAP 0x00000004
#define PAGE_FAULT_IN_NONPAGED_AREA 0x00000050
#define INACCESSIBLE_BOOT_DEVICE 0x0000007B
#define MANUALLY_INITIATED_CRASH 0x000000E2
#define SYSTEM_THREAD_EXCEPTION_NOT_HANDLED 0x0000007E
#define BAD_POOL_HEADER 0x00000019
#define BAD_POOL_CALLER 0x000000C2
#define DRIVER_VERIFIER_DETECTED_VIOLATION 0x000000C4
#define DRIVER_CORRUPTED_EXPOOL 0x000000C5
#define TIMER_OR_DPC_INVALID 0x000000C7
#define IRQL_UNEXPECTED_VALUE 0x000000C8
#define DRIVER_VERIFIER_IOMANAGER_VIOLATION 0x000000C9
#define DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS 0x000000CE
#define DRIVER_IRQL_NOT_LESS_OR_EQUAL 0x000000D1
#define DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS 0x000000CB
#define DRIVER_RETURNED_STATUS_REPARSE_FOR_VOLUME_OPEN 0x000000E6
#define DRIVER_POWER_STATE_FAILURE 0x0000009F
#define ATTEMPTED_SWITCH_FROM_DPC 0x000000B8
#define KERNEL_SECURITY_CHECK_FAILURE 0x00000139
#define DPC_WATCHDOG_VIOLATION 0x00000133
#define THREAD_STUCK_IN_DEVICE_DRIVER 0x000000EA
/* nthost's own: every thread blocked and nothing can wake any of them. */
#define NTHOST_DEADLOCK 0x4E540001

/* Bug check 0xC2 BAD_POOL_CALLER, parameter 1. */
#define BAD_POOL_CALLER_DOUBLE_FREE 0x07
#define BAD_POOL_CALLER_WRONG_TAG 0x0A

/* Bug check 0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION, parameter 1. */
#define VF_ZERO_BYTE_ALLOCATION 0x00
#define VF_PAGED_ALLOC_ABOVE_APC 0x01
#define VF_NONPAGED_ALLOC_ABOVE_DISPATCH 0x02
#define VF_FREE_BAD_ADDRESS 0x10
#define VF_PAGED_FREE_ABOVE_APC 0x11
#define VF_NONPAGED_FREE_ABOVE_DISPATCH 0x12
#define VF_FREE_POOL_WITH_ACTIVE_TIMER 0x15
#define VF_RAISE_IRQL_INVALID 0x30
#define VF_LOWER_IRQL_INVALID 0x31
#define VF_RELEASE_SPINLOCK_WRONG_IRQL 0x32
#define VF_ACQUIRE_FAST_MUTEX_ABOVE_APC 0x33
#define VF_RELEASE_FAST_MUTEX_NOT_APC 0x34
#define VF_OBREF_BAD_HANDLE 0x3C
#define VF_LEAVE_CRITICAL_REGION_NOT_IN_ONE 0x3E
#define VF_OBJECT_REFCOUNT_ZERO 0x3F
#define VF_ACQUIRE_SPINLOCK_AT_DPC_BELOW_DISPATCH 0x40
#define VF_RELEASE_SPINLOCK_FROM_DPC_BELOW_DISPATCH 0x41
#define VF_ACQUIRE_SPINLOCK_ABOVE_DISPATCH 0x42
#define VF_POOL_OVERRUN 0x51
#define VF_UNLOAD_WITH_POOL 0x62
#define VF_SET_EVENT_ABOVE_DISPATCH 0x80
#define VF_LOOKASIDE_REINITIALIZED 0xCA
#define VF_LOOKASIDE_DELETE_UNINITIALIZED 0xCB
#define VF_FREE_POOL_WITH_LOOKASIDE 0xCC
#define VF_OBREF_NULL_HANDLE 0xF5
#define VF_WAIT_ABOVE_DISPATCH 0x120
#define VF_WAIT_AT_DISPATCH_NULL_TIMEOUT 0x121
#define VF_WAIT_AT_DISPATCH_NONZERO_TIMEOUT 0x122
/* nthost: a buffered request completed with IoStatus.Information larger than the
 * requester's buffer (P2 = IRP, P3 = Information, P4 = buffer length). NT's verifier
 * documents no parameter 1 for it, so this one is nthost's own, beside 0x1001
 * (deadlock). */
#define VF_IO_INFORMATION_EXCEEDS_BUFFER 0x1002
#define VF_PAGED_CODE_ABOVE_APC 0x1001F /* nthost: PAGED_CODE() reached above APC_LEVEL (reported as 0xD1) */

/* ---- Reporting -------------------------------------------------------------------- */

/* Bug check with a report naming the culprit: the driver image containing
 * `CulpritAddress` (a code address, typically __builtin_return_address(0) of the
 * DDI the driver called) and `Routine` (NULL: the symbol nearest CulpritAddress).
 * `Explanation` is a printf format for the one-line plain-language reason. */
DECLSPEC_NORETURN VOID VfBugCheck(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4,
                                  const void *CulpritAddress, PCSTR Routine, PCSTR Explanation, ...)
    __attribute__((format(printf, 8, 9)));
/* Prints "*** VERIFIER WARNING: ..." and counts it. */
VOID VfWarning(const void *CulpritAddress, PCSTR Format, ...) __attribute__((format(printf, 2, 3)));
ULONG VfWarningCount(VOID);

/* Verifier switch (KI_CONFIG.Verifier at boot; tests may flip it). */
BOOLEAN VfIsEnabled(VOID);
VOID VfSetEnabled(BOOLEAN Enabled);

/* ---- Driver images -------------------------------------------------------------- */

/* The loader registers each driver image (its dlopen'ed range) so that pool, timers,
 * threads and reports can be attributed to it. Name is the service name. */
VOID VfRegisterImage(PCSTR Name, PVOID Base, SIZE_T Size);
VOID VfUnregisterImage(PVOID Base);
/* Finds the loaded ELF object containing Address (any shared object, via the dynamic
 * linker): its base and size. FALSE if none. The loader uses this on a symbol of a
 * freshly dlopen'ed driver to get the range to register. */
BOOLEAN VfObjectRangeOfAddress(const void *Address, PVOID *Base, SIZE_T *Size);
/* Name of the registered image containing Address and its base, or NULL. */
PCSTR VfImageOfAddress(const void *Address, PVOID *Base);
/* Writes "<symbol>+0x<off>" or "<image>+0x<off>" for a code address into Buffer. */
VOID VfDescribeAddress(const void *Address, char *Buffer, SIZE_T BufferSize);

/* The unload checks, run by the service manager after DriverUnload returned: bug
 * checks if timers, DPCs, interrupts or threads still refer to the image
 * (TIMER_OR_DPC_INVALID / DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
 * always) or, with the verifier on, if it still owns pool (0xC4/0x62). Devices,
 * links and pending IRPs are the I/O manager's to check. */
VOID VfCheckImageUnload(PCSTR Name, PVOID Base, SIZE_T Size);

#endif /* NTHOST_BUGCHECK_H */
