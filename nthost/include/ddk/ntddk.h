/*
 * ntddk.h — wdm.h plus the legacy (non-WDM) driver interfaces: configuration counts,
 * HAL interrupt vectors, version queries. Written for DongLpt from the documented
 * NT API.
 */
#ifndef NTHOST_NTDDK_H
#define NTHOST_NTDDK_H

#include "wdm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device counts the I/O manager keeps; a legacy driver names its devices from them
 * (\Device\ParallelPort<ParallelCount>) and bumps the count it owns. */
typedef struct _CONFIGURATION_INFORMATION {
    ULONG DiskCount;
    ULONG FloppyCount;
    ULONG CdRomCount;
    ULONG TapeCount;
    ULONG ScsiPortCount;
    ULONG SerialCount;
    ULONG ParallelCount;
    BOOLEAN AtDiskPrimaryAddressClaimed;
    BOOLEAN AtDiskSecondaryAddressClaimed;
    ULONG Version;
    ULONG MediumChangerCount;
} CONFIGURATION_INFORMATION, *PCONFIGURATION_INFORMATION;

NTKERNELAPI PCONFIGURATION_INFORMATION NTAPI IoGetConfigurationInformation(VOID);

/* Maps a bus interrupt level (ISA IRQ) to a system vector and its device IRQL. */
NTHALAPI ULONG NTAPI HalGetInterruptVector(INTERFACE_TYPE InterfaceType, ULONG BusNumber, ULONG BusInterruptLevel,
                                           ULONG BusInterruptVector, PKIRQL Irql, PKAFFINITY Affinity);

NTKERNELAPI BOOLEAN NTAPI PsGetVersion(PULONG MajorVersion, PULONG MinorVersion, PULONG BuildNumber,
                                       PUNICODE_STRING CSDVersion);

/* Security reference monitor: privileges of the caller's token (on nthost, the calling
 * thread's identity: nthost_set_identity). */
typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

#define SE_TCB_PRIVILEGE            7
#define SE_SECURITY_PRIVILEGE       8
#define SE_TAKE_OWNERSHIP_PRIVILEGE 9
#define SE_LOAD_DRIVER_PRIVILEGE    10
#define SE_BACKUP_PRIVILEGE         17
#define SE_RESTORE_PRIVILEGE        18
#define SE_SHUTDOWN_PRIVILEGE       19
#define SE_DEBUG_PRIVILEGE          20
#define SE_CHANGE_NOTIFY_PRIVILEGE  23
#define SE_UNDOCK_PRIVILEGE         25

static inline LUID RtlConvertLongToLuid(LONG Long)
{
    LUID luid;
    luid.LowPart = (ULONG)Long;
    luid.HighPart = Long < 0 ? -1 : 0;
    return luid;
}

/* TRUE when PreviousMode is KernelMode or the caller's token holds the privilege.
 * IRQL: PASSIVE_LEVEL. */
NTKERNELAPI BOOLEAN NTAPI SeSinglePrivilegeCheck(LUID PrivilegeValue, KPROCESSOR_MODE PreviousMode);

#ifdef __cplusplus
}
#endif
#endif /* NTHOST_NTDDK_H */
