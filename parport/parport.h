/*
 * parport.h - internal header of the parallel port arbitrator (parport).
 *
 * parport owns nothing but the right to use each port: it creates one
 * \Device\ParallelPortN per port the firmware (here: nthost boot) recorded under
 * HARDWARE\DESCRIPTION, tells its clients where the registers are, and hands the port
 * to one client at a time through the allocation counter of DESIGN.md:
 *   -1 free, 0 owned, N > 0 owned with N ALLOCATE requests waiting (oldest first).
 * The counter and the wait queue change together, under the port's spin lock.
 *
 * Routine prefixes: Ppt (the port and its arbitration), Par (hardware helpers).
 */
#ifndef PARPORT_H
#define PARPORT_H

#include <ntddk.h>
#include <parallel.h>

/* Register offsets and bits (DL1.md section 11, ECP register spec). */
#define PAR_DATA_OFFSET         0
#define PAR_STATUS_OFFSET       1
#define PAR_CONTROL_OFFSET      2
#define PAR_ECR_OFFSET          0x402
#define PAR_ECP_SPAN            3       /* FIFO/cnfgA, cnfgB, ECR at base+0x400 */
#define PAR_MIN_SPAN            3       /* DATA, STATUS, CONTROL */

#define PAR_CONTROL_NINIT       0x04    /* 1 keeps nInit high (not resetting) */
#define PAR_CONTROL_DIRECTION   0x20    /* 1 = data lines reversed (PS/2) */
#define PAR_CONTROL_WRITABLE    0x3F    /* bits 7..6 read 1 and are not written back */

#define PAR_ECR_MODE_MASK       0xE0
#define PAR_ECR_MODE_SPP        0x00
#define PAR_ECR_MODE_BYTE       0x20    /* mode 001: PS/2, direction bit works */
#define PAR_ECR_FIFO_FULL       0x02
#define PAR_ECR_FIFO_EMPTY      0x01
#define PAR_ECR_TEST_WRITE      0x34    /* mode 001, nErrIntrEn, dmaEn off, serviceIntr */
#define PAR_ECR_TEST_READ       0x35    /* ... read back with FIFO empty */

#define PPT_NAME_CHARS          64

typedef struct _PPT_EXTENSION {
    PDEVICE_OBJECT DeviceObject;
    ULONG PortIndex;                    /* N of \Device\ParallelPortN */
    PHYSICAL_ADDRESS OriginalController;
    PUCHAR Controller;
    ULONG SpanOfController;
    ULONG Interrupt;                    /* IRQ, or PPT_NO_INTERRUPT */
    ULONG HardwareCapabilities;         /* PPT_* found by ParProbeCapabilities */

    /* Arbitration: AllocCount and WaitQueue change together under Lock. */
    KSPIN_LOCK Lock;
    LONG AllocCount;
    LIST_ENTRY WaitQueue;               /* pending ALLOCATE IRPs, Tail.Overlay.ListEntry */

    BOOLEAN DosLinkCreated;
    BOOLEAN DeviceMapWritten;
    PFILE_OBJECT DosNameLentTo;         /* class driver's connection that took DosName */
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;             /* \DosDevices\LPTn */
    UNICODE_STRING PortName;            /* LPTn, NUL-terminated for PARALLEL_PNP_INFORMATION */
    WCHAR DeviceNameBuffer[PPT_NAME_CHARS];
    WCHAR DosNameBuffer[PPT_NAME_CHARS];
    WCHAR PortNameBuffer[PPT_NAME_CHARS];
} PPT_EXTENSION, *PPPT_EXTENSION;

#define PPT_NO_INTERRUPT        0xFFFFFFFF
#define PPT_ALLOC_FREE          (-1)

/*
 * PptInitString - an empty counted string over Buffer of Bytes bytes (what
 * RtlInitEmptyUnicodeString does in newer DDKs; not every DDK has it).
 * IRQL: any.
 */
static __inline VOID PptInitString(PUNICODE_STRING String, PWCH Buffer, USHORT Bytes)
{
    String->Buffer = Buffer;
    String->Length = 0;
    String->MaximumLength = Bytes;
    Buffer[0] = L'\0';
}

/* ppinit.c */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

/* pparb.c - arbitration */
BOOLEAN NTAPI PptTryAllocatePort(PVOID Context);
VOID NTAPI PptFreePort(PVOID Context);
ULONG NTAPI PptQueryNumWaiters(PVOID Context);
NTSTATUS PptQueueAllocate(PPPT_EXTENSION Extension, PIRP Irp);
VOID PptCancelWaitersOfFile(PPPT_EXTENSION Extension, PFILE_OBJECT FileObject);

/* ppdisp.c - dispatch */
NTSTATUS NTAPI PptDispatchCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI PptDispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI PptDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI PptDispatchInternalDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp);

/* pphw.c - hardware */
ULONG ParProbeCapabilities(PUCHAR Controller);
NTSTATUS NTAPI ParTrySetChipMode(PVOID Context, UCHAR ChipMode);
NTSTATUS NTAPI ParClearChipMode(PVOID Context, UCHAR ChipMode);

#endif /* PARPORT_H */
