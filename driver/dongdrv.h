/*
 * dongdrv.h - internal header of the DongLpt driver (everything but the DL-1 link
 * engine, which is dl1link.h / dl1link*.c).
 *
 * One device object per parallel port. Each device extension holds everything the
 * port needs: names, the parport connection, configuration, the cancel-safe queue
 * of requests, the worker system thread that serves them while owning the port, and
 * the link state. The driver has no globals: DriverUnload walks the driver object's
 * device list, and configuration read in DriverEntry is copied into every extension.
 *
 * Threads and IRQL: dispatch routines run in the caller's thread at PASSIVE_LEVEL and
 * never wait for the hardware; they validate, then queue. The worker thread (PASSIVE)
 * allocates the port through parport, talks to the key through the link engine and
 * completes requests. Spin locks are held only for list and counter updates.
 */
#ifndef DONGDRV_H
#define DONGDRV_H

#include <ntddk.h>
#include <parallel.h>
#include "ddklib.h"
#include "donglpt.h"
#include "donglptmsg.h"
#include "dl1link.h"

#define DONG_POOL_TAG           0x676E6F44u /* 'Dong' as pool tools show it */
#define DONG_NAME_CHARS         64

/* Parameters\ErrorLogLevel: what reaches the event log. */
#define DONG_LOG_NONE           0
#define DONG_LOG_ERRORS         1
#define DONG_LOG_WARNINGS       2
#define DONG_LOG_INFORMATION    3

/* Registry defaults (docs/DRIVER.md, donglpt.reg). */
#define DONG_DEFAULT_LOG_LEVEL      DONG_LOG_WARNINGS
#define DONG_DEFAULT_HANDSHAKE_MS   35
#define DONG_DEFAULT_RESPONSE_MS    10
#define DONG_DEFAULT_RETRIES        3
#define DONG_DEFAULT_PORT_WAIT_MS   10000

/* Configuration read once in DriverEntry from Services\DongLpt\Parameters. */
typedef struct _DONG_CONFIG {
    ULONG ErrorLogLevel;
    BOOLEAN AllocatePerOpen;
    DONG_TIMEOUTS Timeouts;
    UNICODE_STRING DosName;             /* extra \DosDevices\<DosName> for port 0, or empty */
    WCHAR DosNameBuffer[DONG_NAME_CHARS];
} DONG_CONFIG, *PDONG_CONFIG;

/* Per handle (FileObject->FsContext): the response WriteFile left for ReadFile. */
typedef struct _DONG_FILE {
    BOOLEAN HasResponse;
    ULONG ResponseLength;               /* bytes of Response that are valid */
    DONG_TRANSACT_RESPONSE Response;
} DONG_FILE, *PDONG_FILE;

typedef struct _DONG_EXTENSION {
    PDEVICE_OBJECT DeviceObject;
    ULONG PortNumber;                   /* N of \Device\DongLptN and \Device\ParallelPortN */

    /* Names. */
    UNICODE_STRING DeviceName;
    UNICODE_STRING DosName;             /* \DosDevices\DongLpt<N+1> */
    UNICODE_STRING AliasName;           /* \DosDevices\<Parameters\DosName> */
    BOOLEAN DosLinkCreated;
    BOOLEAN AliasLinkCreated;
    BOOLEAN ShutdownRegistered;
    WCHAR DeviceNameBuffer[DONG_NAME_CHARS];
    WCHAR DosNameBuffer[DONG_NAME_CHARS];
    WCHAR AliasNameBuffer[DONG_NAME_CHARS + 16];

    /* parport: the port device, referenced through a file object until unload. */
    KL_PORT Port;
    ULONG HardwareCapabilities;         /* PPT_* */
    BOOLEAN PortOwned;                  /* worker thread only */

    /* Configuration; Timeouts can change through IOCTL_DONG_SET_TIMEOUTS. */
    ULONG ErrorLogLevel;
    BOOLEAN AllocatePerOpen;
    KSPIN_LOCK TimeoutLock;
    DONG_TIMEOUTS Timeouts;

    /* Requests waiting for the worker, and the worker thread. */
    KL_QUEUE Queue;
    LONG OpenCount;                     /* handles open (interlocked) */
    LONG PassRequested;                 /* DongSyncWithWorker: passes asked for ... */
    LONG PassCompleted;                 /* ... and the last one the worker finished */
    KEVENT PassEvent;                   /* notification: a pass finished */

    /* Worker-thread-only state. */
    DONG_LINK Link;
    ULONG LastAttached;                 /* DONG_PERIPHERAL_* of the last probe, or ~0 */
    ULONG Requests;
} DONG_EXTENSION, *PDONG_EXTENSION;

/* donginit.c */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

/* dongdisp.c - dispatch routines */
NTSTATUS NTAPI DongDispatchCreate(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI DongDispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI DongDispatchClose(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI DongDispatchReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI DongDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI DongDispatchShutdown(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS DongCompleteRequest(PIRP Irp, NTSTATUS Status, ULONG_PTR Information);
VOID DongGetTimeouts(PDONG_EXTENSION Extension, PDONG_TIMEOUTS Timeouts);
BOOLEAN DongTimeoutsValid(const DONG_TIMEOUTS *Timeouts);

/* dongqueue.c - the cancel-safe queue and the worker thread */
VOID DongInitializeQueue(PDONG_EXTENSION Extension);
NTSTATUS DongStartWorker(PDONG_EXTENSION Extension);
BOOLEAN DongWorkerWantsPort(PDONG_EXTENSION Extension);
VOID DongSyncWithWorker(PDONG_EXTENSION Extension);

/* dongwork.c - one request, served by the worker while it owns the port */
BOOLEAN DongRequestNeedsPort(PIRP Irp);
VOID DongProcessRequest(PDONG_EXTENSION Extension, PIRP Irp);
VOID DongReleasePortAfterRequest(PDONG_EXTENSION Extension);

/* dongport.c - the parport connection */
NTSTATUS DongConnectPort(PDONG_EXTENSION Extension);
NTSTATUS DongAcquirePort(PDONG_EXTENSION Extension, ULONG WaitMs);
VOID DongReleasePort(PDONG_EXTENSION Extension);

/* donglog.c - event log */
VOID DongLogEvent(PVOID IoObject, ULONG LogLevel, NTSTATUS ErrorCode, NTSTATUS FinalStatus,
                  UCHAR MajorFunction, ULONG UniqueValue, PCWSTR const *Strings, ULONG Count);

#endif /* DONGDRV_H */
