/*
 * lptdrv.h - internal header of "parallel", the printer class driver: the classic NT
 * simple parallel class driver, a client of parport like DongLpt.
 *
 * One device per port that parport made: \Device\Parallel<N> over
 * \Device\ParallelPort<N>, linked as \DosDevices\LPT<n> (the port's name from parport,
 * LPT<N+1> when parport gives none) unless another driver took that name first.
 * WriteFile prints in compatibility (Centronics) mode; DeviceIoControl
 * IOCTL_PAR_QUERY_INFORMATION reads the printer's state as PARALLEL_* bits and
 * IOCTL_PAR_IS_PORT_FREE tells whether any parport client owns the port now.
 *
 * Threads and IRQL: dispatch routines run in the caller's thread at PASSIVE_LEVEL and
 * only queue. A worker system thread per port serves the queue: it owns the port
 * only while moving bytes, gives it back whenever another parport client waits and
 * whenever the printer is not ready, and waits (never spins) for the printer with
 * the port released. Nothing runs at raised IRQL but list and counter updates.
 *
 * The driver has no globals: DriverUnload walks the driver object's device list.
 * Routine prefix: Lpt (parport uses Ppt/Par, DongLpt Dong). What DongLpt does the
 * same way (parport connection, queue and worker, error log) is ddklib's (Kl).
 */
#ifndef LPTDRV_H
#define LPTDRV_H

#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "ddklib.h"
#include "parallelmsg.h"

#define LPT_POOL_TAG            0x2074704Cu /* 'Lpt ' as pool tools show it */
#define LPT_NAME_CHARS          64

/* Registers (DL1.md section 11) and their bits. */
#define LPT_DATA_OFFSET         0
#define LPT_STATUS_OFFSET       1
#define LPT_CONTROL_OFFSET      2

#define LPT_STS_NOT_BUSY        0x80    /* inverse of the Busy line */
#define LPT_STS_NACK            0x40
#define LPT_STS_PERROR          0x20
#define LPT_STS_SELECT          0x10
#define LPT_STS_NFAULT          0x08
#define LPT_STS_LINES           0xF8    /* the five status lines */

/* Line patterns (bits 7..3) that name a state on their own. */
#define LPT_PAT_PULLED_UP       0x78    /* every line high: nothing drives them */
#define LPT_PAT_POWERED_OFF     0x80    /* every line low: a printer without power */

#define LPT_CTL_STROBE          0x01    /* 1 drives nStrobe low */
#define LPT_CTL_NINIT           0x04    /* 1 keeps nInit high (not resetting) */
#define LPT_CTL_SELECT_IN       0x08    /* 1 drives nSelectIn low (printer selected) */
/* Compatibility-mode idle: forward, no interrupt, printer selected, not resetting. */
#define LPT_CTL_IDLE            (LPT_CTL_NINIT | LPT_CTL_SELECT_IN)

#define LPT_DATA_PARKED         0xFF    /* data lines between jobs (a DL-1 browns out on 0x00) */

/* Timing of the handshake and of the waits (docs/PORT_SHARING.md). */
#define LPT_SETUP_US            1       /* data before nStrobe falls: >= 0.5 us */
#define LPT_STROBE_US           1       /* nStrobe low: >= 0.5 us */
#define LPT_HOLD_US             1       /* data after nStrobe rises: >= 0.5 us */
#define LPT_BUSY_POLL_US        50      /* polling for Busy low before giving up the port */
#define LPT_FIRST_WAIT_MS       1       /* first wait for a printer that is not ready */
#define LPT_LONGEST_WAIT_MS     100     /* the waits double up to this */

/* Parameters\WriteTimeoutMs: how long a write may go without the printer taking a byte. */
#define LPT_DEFAULT_WRITE_TIMEOUT_MS    10000
#define LPT_MIN_WRITE_TIMEOUT_MS        1
#define LPT_MAX_WRITE_TIMEOUT_MS        3600000

typedef struct _LPT_EXTENSION {
    PDEVICE_OBJECT DeviceObject;
    ULONG PortNumber;                   /* N of \Device\ParallelN and \Device\ParallelPortN */

    /* Names. */
    UNICODE_STRING DeviceName;          /* \Device\Parallel<N> */
    UNICODE_STRING DosName;             /* \DosDevices\LPT<n> */
    BOOLEAN DosLinkCreated;
    BOOLEAN ShutdownRegistered;
    WCHAR DeviceNameBuffer[LPT_NAME_CHARS];
    WCHAR DosNameBuffer[LPT_NAME_CHARS];

    /* parport: the port device, referenced through a file object until unload. */
    KL_PORT Port;
    BOOLEAN PortOwned;                  /* worker thread only */

    ULONG WriteTimeoutMs;

    /* Requests waiting for the worker, and the worker thread. */
    KL_QUEUE Queue;
    PIRP ActiveIrp;                     /* under Queue.Lock: the request the worker serves */
} LPT_EXTENSION, *PLPT_EXTENSION;

#define LPT_EXTENSION_OF(DeviceObject) ((PLPT_EXTENSION)(DeviceObject)->DeviceExtension)

/* lptinit.c */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

/* lptdisp.c - dispatch routines */
NTSTATUS NTAPI LptDispatchCreate(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI LptDispatchClose(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI LptDispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI LptDispatchWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI LptDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS NTAPI LptDispatchShutdown(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTSTATUS LptCompleteRequest(PIRP Irp, NTSTATUS Status, ULONG_PTR Information);

/* lptqueue.c - the cancel-safe queue and the worker thread */
VOID LptCancelFileRequests(PLPT_EXTENSION Extension, PFILE_OBJECT FileObject);
NTSTATUS LptStartWorker(PLPT_EXTENSION Extension);
BOOLEAN LptWaitOrAbandon(PLPT_EXTENSION Extension, PIRP Irp, ULONG WaitMs);
BOOLEAN LptRequestAbandoned(PLPT_EXTENSION Extension, PIRP Irp);

/* lptport.c - the parport connection */
NTSTATUS LptConnectPort(PLPT_EXTENSION Extension, PUNICODE_STRING PortName);
NTSTATUS LptAcquirePort(PLPT_EXTENSION Extension, PIRP Irp, ULONGLONG Deadline);
VOID LptReleasePort(PLPT_EXTENSION Extension);
BOOLEAN LptPortWanted(PLPT_EXTENSION Extension);

/* lptprint.c - the printer: handshake, status, the write and query requests */
NTSTATUS LptServeWrite(PLPT_EXTENSION Extension, PIRP Irp, PULONG_PTR Information);
NTSTATUS LptServeQueryInformation(PLPT_EXTENSION Extension, PIRP Irp, PULONG_PTR Information);

#endif /* LPTDRV_H */
