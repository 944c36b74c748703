/*
 * ntconf.h — interface of the NT conformance test driver (ntconf.c, service NtConf),
 * shared by the driver and the Win32 test program. Needs CTL_CODE and ULONG from
 * either <ntddk.h> or <windows.h> + <winioctl.h>.
 *
 * \Device\NtConf (buffered I/O) linked as \DosDevices\NtConf, and \Device\NtConfDirect
 * (direct I/O reads and writes) linked as \DosDevices\NtConfDirect. Each kernel-side case
 * runs inside IOCTL_CONF_RUN in the caller's thread at PASSIVE_LEVEL and reports the
 * first failed check; the rest of the codes give Win32 programs something to observe.
 */
#ifndef NTCONF_H
#define NTCONF_H

#define CONF_DEVICE_TYPE 0x8C01

/* Input: ULONG case number (CONF_CASE); output: CONF_RESULT. */
#define IOCTL_CONF_RUN CTL_CODE(CONF_DEVICE_TYPE, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Input: ULONG NTSTATUS; completes with that status and Information = output length
 * after filling the output with 0xA5 (so warnings carry data back). */
#define IOCTL_CONF_STATUS CTL_CODE(CONF_DEVICE_TYPE, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Output: CONF_OPEN_INFO about the handle's file object. */
#define IOCTL_CONF_OPEN_INFO CTL_CODE(CONF_DEVICE_TYPE, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Input: ULONG milliseconds; pends and completes from a timer DPC after that long with
 * Information = the milliseconds. */
#define IOCTL_CONF_PEND_TIMER CTL_CODE(CONF_DEVICE_TYPE, 0x803, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Pends with a cancel routine until cancelled (STATUS_CANCELLED). */
#define IOCTL_CONF_PEND_CANCEL CTL_CODE(CONF_DEVICE_TYPE, 0x804, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Output: CONF_LOG (the major functions the driver saw, in order). */
#define IOCTL_CONF_LOG CTL_CODE(CONF_DEVICE_TYPE, 0x805, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Input: ULONG provocation number (CONF_PROVOKE): does something NT bugchecks for. */
#define IOCTL_CONF_PROVOKE CTL_CODE(CONF_DEVICE_TYPE, 0x806, METHOD_BUFFERED, FILE_ANY_ACCESS)

enum CONF_CASE {
    CONF_EVENTS,
    CONF_WAIT_TIMEOUT,
    CONF_SEMAPHORE,
    CONF_MUTEX,
    CONF_WAIT_MULTIPLE,
    CONF_TIMER,
    CONF_PERIODIC_TIMER,
    CONF_DPC,
    CONF_IRQL,
    CONF_TIME,
    CONF_DELAY,
    CONF_POOL,
    CONF_LOOKASIDE,
    CONF_THREAD,
    CONF_NAMES,
    CONF_BUILD_IOCTL,
    CONF_PENDING,
    CONF_CANCEL,
    CONF_CSQ,
    CONF_STARTIO,
    CONF_INTERRUPT,
    CONF_WORK_ITEM,
    CONF_UNICODE,
    CONF_INTEGER_STRING,
    CONF_MEMORY,
    CONF_STATUS_MAP,
    CONF_OBJECT_REFS,
    CONF_REGISTRY,
    CONF_IO_TIMER,
    CONF_DRIVER_OBJECT,
    CONF_HAL_PORTS,
    CONF_ISR,
    CONF_DEVICE_QUEUE,
    CONF_CONTENTION,
    CONF_CASE_COUNT
};

enum CONF_PROVOKE {
    PROVOKE_SEMAPHORE_LIMIT,
    PROVOKE_FREE_WRONG_TAG,
    PROVOKE_ALLOCATE_ZERO,
    PROVOKE_MUTEX_NOT_OWNED,
    PROVOKE_FREE_TWICE,
    PROVOKE_BUGCHECK,
    PROVOKE_WAIT_TOO_MANY,      /* KeWaitForMultipleObjects(4, ..., NULL wait blocks) */
    PROVOKE_SPIN_LOCK_TWICE,
    PROVOKE_SPIN_LOCK_NOT_HELD,
    PROVOKE_COMPLETE_TWICE      /* IoCompleteRequest on the IOCTL's IRP twice */
};

typedef struct _CONF_RESULT {
    ULONG Ran;       /* 1 when the case ran */
    ULONG Line;      /* 0: passed; else the line of ntconf.c whose check failed */
    LONGLONG Got;
    LONGLONG Expected;
    char What[96];   /* the failed check's expression */
} CONF_RESULT;

typedef struct _CONF_OPEN_INFO {
    ULONG DesiredAccess;    /* Parameters.Create.SecurityContext->DesiredAccess at create */
    ULONG FsContextIntact;  /* FsContext is still what IRP_MJ_CREATE put there */
    ULONG Requests;         /* requests seen on this file object (this one included) */
    ULONG CreateOptions;    /* Parameters.Create.Options (disposition << 24 | options) */
    ULONG ShareAccess;      /* Parameters.Create.ShareAccess */
    ULONG SynchronousIo;    /* FO_SYNCHRONOUS_IO set on the file object */
    ULONG RequestorMode;    /* of this request's IRP */
    ULONG ThreadIsCaller;   /* Irp->Tail.Overlay.Thread is the thread running the dispatch */
    ULONG SystemThread;     /* PsIsSystemThread(PsGetCurrentThread()) in the dispatch */
    ULONG PreviousMode;     /* ExGetPreviousMode() in the dispatch */
    USHORT FileNameLength;  /* bytes */
    WCHAR FileName[64];     /* FILE_OBJECT.FileName at create */
} CONF_OPEN_INFO;

#define CONF_LOG_MAX 32
#define CONF_LOG_NO_MDL 0x80000000u /* direct I/O request without an MDL (length in the low bits) */
typedef struct _CONF_LOG {
    ULONG Count;
    UCHAR Major[CONF_LOG_MAX];    /* IRP_MJ_* */
    ULONG Length[CONF_LOG_MAX];   /* read/write length, else 0 */
} CONF_LOG;

#endif /* NTCONF_H */
