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

#ifdef __cplusplus
}
#endif
#endif /* NTHOST_NTDDK_H */
