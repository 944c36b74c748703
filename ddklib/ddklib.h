/*
 * ddklib.h - kernel-mode helpers shared by the parport client drivers (DongLpt in
 * driver/, the printer class driver in parallel/): what both do the same way, kept
 * in one place. Routine prefix: Kl.
 *
 * A static library compiled into each driver image (each .sys / .so has its own
 * copy, so pool and bugcheck reports name the driver that called): DDK API only, no
 * C library, no globals. Every routine works on state the caller owns (a KL_PORT, a
 * KL_QUEUE in its device extension).
 *
 * - The parport connection: open \Device\ParallelPort<N>, its
 *   PARALLEL_PORT_INFORMATION, internal IOCTLs, a DOS name parport may lend, and
 *   owning the port with a wait in parport's queue that the caller's worker can
 *   interrupt.
 * - A cancel-safe request queue (IoCsq) served by one worker system thread.
 * - The error log (IoWriteErrorLogEntry with insertion strings), counted-string
 *   building, REG_DWORD values of Services\<name>\Parameters, and a port's numbered
 *   device object.
 */
#ifndef DDKLIB_H
#define DDKLIB_H

#include <ntddk.h>
#include <parallel.h>

#define KL_NUMBER_CHARS     12          /* a ULONG in decimal or hex, and its NUL */
#define KL_NO_DEADLINE      (~(ULONGLONG)0)

/* ---- counted strings (klstring.c) ---------------------------------------------- */

VOID KlInitString(PUNICODE_STRING String, PWCH Buffer, USHORT BufferBytes);
VOID KlTerminateString(PUNICODE_STRING String);
VOID KlAppendDecimal(PUNICODE_STRING String, ULONG Value);
PCWSTR KlFormatUlong(ULONG Value, ULONG Base, PWCH Buffer, USHORT BufferBytes);

/* ---- device objects (kldevice.c) ----------------------------------------------- */

NTSTATUS KlCreateNumberedDevice(PDRIVER_OBJECT DriverObject, ULONG ExtensionSize, PCWSTR Prefix, ULONG Number,
                                DEVICE_TYPE DeviceType, PUNICODE_STRING Name, PDEVICE_OBJECT *Device);

/* ---- registry parameters (klstring.c) ------------------------------------------ */

NTSTATUS KlOpenParametersKey(PUNICODE_STRING RegistryPath, PHANDLE Key);
NTSTATUS KlQueryDwordParameter(HANDLE Key, PCWSTR Name, ULONG Minimum, ULONG Maximum, PULONG Value);

/* ---- the error log (kllog.c) --------------------------------------------------- */

VOID KlWriteErrorLog(PVOID IoObject, NTSTATUS ErrorCode, NTSTATUS FinalStatus, UCHAR MajorFunction,
                     ULONG UniqueValue, PCWSTR const *Strings, ULONG Count);

/* ---- the parport connection (klport.c) ----------------------------------------- */

/* One connection to \Device\ParallelPort<N>, referenced through a file object. */
typedef struct _KL_PORT {
    PFILE_OBJECT FileObject;
    PDEVICE_OBJECT DeviceObject;
    PARALLEL_PORT_INFORMATION Info;
    ULONG Waits;                        /* allocations that had to wait in parport's queue */
} KL_PORT, *PKL_PORT;

/* KlAllocatePort asks this, when woken, whether the port is still worth waiting for. */
typedef BOOLEAN KL_PORT_STILL_WANTED(PVOID Context);
typedef KL_PORT_STILL_WANTED *PKL_PORT_STILL_WANTED;

NTSTATUS KlConnectPort(PKL_PORT Port, ULONG PortNumber);
VOID KlDisconnectPort(PKL_PORT Port);
NTSTATUS KlCallPortSync(PKL_PORT Port, ULONG Code, PVOID Input, ULONG InputLength, PVOID Output,
                        ULONG OutputLength);
NTSTATUS KlLinkDosName(PKL_PORT Port, PUNICODE_STRING Name, PUNICODE_STRING DeviceName, PUNICODE_STRING Link);
NTSTATUS KlAllocatePort(PKL_PORT Port, ULONGLONG Deadline, PKEVENT WakeEvent, PKL_PORT_STILL_WANTED StillWanted,
                        PVOID Context);

/* ---- the request queue and its worker thread (klqueue.c) ----------------------- */

/* Lock guards PendingList and Stopping, and is held only for list updates. */
typedef struct _KL_QUEUE {
    IO_CSQ Csq;
    KSPIN_LOCK Lock;
    LIST_ENTRY PendingList;
    BOOLEAN Stopping;                   /* under Lock: no new requests; the worker exits */
    KEVENT WakeEvent;                   /* synchronization: "worker, look again" */
    PVOID WorkerThread;                 /* referenced thread object */
} KL_QUEUE, *PKL_QUEUE;

VOID KlInitializeQueue(PKL_QUEUE Queue);
NTSTATUS KlQueueRequest(PKL_QUEUE Queue, PIRP Irp);
PIRP KlNextRequest(PKL_QUEUE Queue);
VOID KlCancelFileRequests(PKL_QUEUE Queue, PFILE_OBJECT FileObject);
VOID KlCancelQueuedRequests(PKL_QUEUE Queue);
VOID KlWakeWorker(PKL_QUEUE Queue);
NTSTATUS KlStartWorker(PKL_QUEUE Queue, PKSTART_ROUTINE Routine, PVOID Context);
VOID KlStopWorker(PKL_QUEUE Queue);

#endif /* DDKLIB_H */
