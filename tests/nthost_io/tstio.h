/*
 * tstio.h — the interface of the nthost I/O test driver (testdrv.c, service TstIo),
 * shared by the driver and the Win32 test program. Needs CTL_CODE and ULONG from
 * either <ntddk.h> or <windows.h> + <winioctl.h>.
 *
 * Devices: \Device\TstIo (buffered I/O, shared) linked as \DosDevices\TstIo, and
 * \Device\TstExcl (exclusive, neither I/O) linked as \DosDevices\TstExcl.
 */
#ifndef TSTIO_H
#define TSTIO_H

#define TST_DEVICE_TYPE 0x8123

/* Output = input with every byte + 1, over the whole output buffer (bytes past the
 * input are 0xEE); Information = the ULONG at the start of the input, so the caller
 * chooses how much the I/O manager copies back. */
#define IOCTL_TST_BUFFERED CTL_CODE(TST_DEVICE_TYPE, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Information = sum of the bytes of the output buffer (read through the MDL). */
#define IOCTL_TST_IN_DIRECT CTL_CODE(TST_DEVICE_TYPE, 0x801, METHOD_IN_DIRECT, FILE_ANY_ACCESS)
/* Output buffer (through the MDL) = the input reversed; Information = its length. */
#define IOCTL_TST_OUT_DIRECT CTL_CODE(TST_DEVICE_TYPE, 0x802, METHOD_OUT_DIRECT, FILE_ANY_ACCESS)
/* Output (UserBuffer) = Type3InputBuffer reversed; Information = its length. */
#define IOCTL_TST_NEITHER CTL_CODE(TST_DEVICE_TYPE, 0x803, METHOD_NEITHER, FILE_ANY_ACCESS)
/* Needs a handle opened for writing; completes with success. */
#define IOCTL_TST_NEEDS_WRITE CTL_CODE(TST_DEVICE_TYPE, 0x804, METHOD_BUFFERED, FILE_WRITE_ACCESS)
/* Output: TST_STATS. */
#define IOCTL_TST_STATS CTL_CODE(TST_DEVICE_TYPE, 0x805, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Pends (cancel-safe queue) until cancelled or the handle is cleaned up. */
#define IOCTL_TST_PEND CTL_CODE(TST_DEVICE_TYPE, 0x806, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Fails with STATUS_DEVICE_NOT_CONNECTED. */
#define IOCTL_TST_FAIL CTL_CODE(TST_DEVICE_TYPE, 0x807, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Completes every pended IOCTL_TST_PEND (any handle) with success, Information 7;
 * Information = how many it completed. */
#define IOCTL_TST_RELEASE CTL_CODE(TST_DEVICE_TYPE, 0x808, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Input: TST_OUTCOME. Fills the whole output buffer with 0x40, 0x41, ... and completes
 * with the status and Information asked for: how the I/O manager and kernel32 report
 * warnings and errors. */
#define IOCTL_TST_OUTCOME CTL_CODE(TST_DEVICE_TYPE, 0x809, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _TST_OUTCOME {
    LONG Status;            /* NTSTATUS to complete with */
    ULONG Information;
} TST_OUTCOME;

typedef struct _TST_STATS {
    ULONG Creates;
    ULONG Cleanups;
    ULONG Closes;
    ULONG Cancelled;        /* IRPs completed through the cancel-safe queue's cancel path */
    ULONG CleanupCompleted; /* IRPs completed by IRP_MJ_CLEANUP */
    ULONG InitializingInDriverEntry; /* DO_DEVICE_INITIALIZING seen before DriverEntry returned */
    ULONG InitializingNow;           /* ... and now */
    ULONG BytesQueued;               /* written and not read yet */
    ULONG Pended;                    /* IOCTL_TST_PEND requests queued now */
} TST_STATS;

#endif /* TSTIO_H */
