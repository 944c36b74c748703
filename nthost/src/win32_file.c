/*
 * win32_file.c — the Win32 file API over the I/O manager: CreateFile, ReadFile,
 * WriteFile, DeviceIoControl, GetOverlappedResult, CancelIo, CancelIoEx.
 *
 * Each call does what kernel32 and the NT system service under it do: map the name
 * and the access, check the handle's granted access, build a real IRP (buffered,
 * direct or neither I/O), call the driver, and — on a synchronous handle — wait for
 * completion; on an overlapped handle the request completes into the OVERLAPPED
 * (Internal = status, InternalHigh = information) and its event.
 */
#include <ntddk.h>
#include <stdlib.h>

#include "../include/win32/windows.h"
#include "io_internal.h"
#include "ke_internal.h"
#include "ob_internal.h"
#include "win32_internal.h"

_Static_assert(sizeof(OVERLAPPED) >= sizeof(IO_STATUS_BLOCK) &&
                   offsetof(OVERLAPPED, Internal) == offsetof(IO_STATUS_BLOCK, Status) &&
                   offsetof(OVERLAPPED, InternalHigh) == offsetof(IO_STATUS_BLOCK, Information),
               "OVERLAPPED starts with an IO_STATUS_BLOCK");

/* NtCancelIoFile waits for the cancelled requests in short delays. */
#define W32_CANCEL_WAIT_STEPS 30000
#define W32_CANCEL_WAIT_100NS (10LL * 10000)

/* ---- CreateFile ------------------------------------------------------------------- */

static BOOLEAN w32_disposition(DWORD creation, ULONG *disposition)
{
    switch (creation) {
    case CREATE_NEW:
        *disposition = FILE_CREATE;
        return TRUE;
    case CREATE_ALWAYS:
        *disposition = FILE_OVERWRITE_IF;
        return TRUE;
    case OPEN_EXISTING:
        *disposition = FILE_OPEN;
        return TRUE;
    case OPEN_ALWAYS:
        *disposition = FILE_OPEN_IF;
        return TRUE;
    case TRUNCATE_EXISTING:
        *disposition = FILE_OVERWRITE;
        return TRUE;
    default:
        return FALSE;
    }
}

/*
 * The NT name of a Win32 name: "\\.\X" and "\\?\X" become "\??\X"; other names are
 * DOS names, looked up in \?? as well (so "LPT1" is \??\LPT1 and "C:\f" is \??\C:\f).
 */
static NTSTATUS w32_nt_name(LPCWSTR name, UNICODE_STRING *out)
{
    static const WCHAR dosdev[] = L"\\??\\";
    size_t len = 0;
    while (name[len])
        len++;
    size_t skip = 0;
    if (len >= 4 && name[0] == L'\\' && name[1] == L'\\' && (name[2] == L'.' || name[2] == L'?') && name[3] == L'\\')
        skip = 4;
    size_t total = 4 + len - skip;
    if (len == skip || total * sizeof(WCHAR) > UNICODE_STRING_MAX_BYTES)
        return STATUS_OBJECT_NAME_INVALID;
    out->Buffer = malloc((total + 1) * sizeof(WCHAR));
    if (!out->Buffer)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(out->Buffer, dosdev, 4 * sizeof(WCHAR));
    memcpy(out->Buffer + 4, name + skip, (len - skip) * sizeof(WCHAR));
    out->Buffer[total] = 0;
    out->Length = (USHORT)(total * sizeof(WCHAR));
    out->MaximumLength = (USHORT)((total + 1) * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
{
    UNREFERENCED_PARAMETER(lpSecurityAttributes);
    UNREFERENCED_PARAMETER(hTemplateFile);
    KiRequireCurrentThread("CreateFileW");
    iop_open_params p = { .Mode = UserMode, .ShareAccess = dwShareMode & FILE_SHARE_VALID_FLAGS };
    if (!lpFileName || !w32_disposition(dwCreationDisposition, &p.Disposition)) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    /* kernel32 always asks for SYNCHRONIZE and FILE_READ_ATTRIBUTES too. */
    p.DesiredAccess = ObpMapGenericAccess(IopFileType, dwDesiredAccess) | SYNCHRONIZE | FILE_READ_ATTRIBUTES;
    p.FileAttributes = dwFlagsAndAttributes & 0xFFFF;
    p.CreateOptions = FILE_NON_DIRECTORY_FILE;
    if (!(dwFlagsAndAttributes & FILE_FLAG_OVERLAPPED))
        p.CreateOptions |= FILE_SYNCHRONOUS_IO_NONALERT;
    if (dwFlagsAndAttributes & FILE_FLAG_WRITE_THROUGH)
        p.CreateOptions |= FILE_WRITE_THROUGH;
    if (dwFlagsAndAttributes & FILE_FLAG_NO_BUFFERING)
        p.CreateOptions |= FILE_NO_INTERMEDIATE_BUFFERING;
    if (dwFlagsAndAttributes & FILE_FLAG_SEQUENTIAL_SCAN)
        p.CreateOptions |= FILE_SEQUENTIAL_ONLY;

    ULONG_PTR opened = 0;
    p.Information = &opened;
    UNICODE_STRING nt;
    NTSTATUS st = w32_nt_name(lpFileName, &nt);
    PFILE_OBJECT fo = NULL;
    if (NT_SUCCESS(st)) {
        st = IopOpenDevice(&nt, &p, &fo);
        free(nt.Buffer);
    }
    HANDLE h = INVALID_HANDLE_VALUE;
    if (NT_SUCCESS(st)) {
        st = ObpCreateHandle(fo, p.DesiredAccess, 0, &h);
        if (NT_SUCCESS(st))
            fo->Flags |= FO_HANDLE_CREATED;
        else
            h = INVALID_HANDLE_VALUE;
        ObDereferenceObject(fo); /* the handle holds the file object now */
    }
    if (!NT_SUCCESS(st)) {
        Win32SetLastNtError(st);
        return INVALID_HANDLE_VALUE;
    }
    /* kernel32: an "always" disposition that found the file there says so. */
    BOOL existed = (dwCreationDisposition == OPEN_ALWAYS && opened == FILE_OPENED) ||
                   (dwCreationDisposition == CREATE_ALWAYS && opened == FILE_OVERWRITTEN);
    SetLastError(existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return h;
}

HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
{
    if (!lpFileName) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    WCHAR *wide = Win32AnsiToWide(lpFileName);
    if (!wide) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return INVALID_HANDLE_VALUE;
    }
    HANDLE h = CreateFileW(wide, dwDesiredAccess, dwShareMode, lpSecurityAttributes, dwCreationDisposition,
                           dwFlagsAndAttributes, hTemplateFile);
    free(wide);
    return h;
}

/* ---- requests ---------------------------------------------------------------------- */

/* The file object behind a handle, with the access the handle was granted. */
static PFILE_OBJECT w32_file(HANDLE h, ACCESS_MASK *granted)
{
    PVOID obj = ObpLookupHandle(h, UserMode, granted);
    if (!obj || !ObpIsObjectOfType(obj, IopFileType)) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    return obj;
}

typedef struct w32_request {
    PFILE_OBJECT fo;
    PKEVENT event; /* the OVERLAPPED's event object, if any */
    PIRP irp;
    PIO_STACK_LOCATION sp;
    LPOVERLAPPED ov;
    BOOLEAN sync;
    BOOLEAN use_file_offset; /* read/write at the file object's current offset */
    IO_STATUS_BLOCK iosb;    /* synchronous handles */
    KEVENT done;
} w32_request;

/* Allocate the IRP for a request on `fo` (major function set by the caller). */
static BOOL w32_begin(w32_request *rq, PFILE_OBJECT fo, UCHAR major, LPOVERLAPPED ov)
{
    memset(rq, 0, sizeof(*rq));
    rq->fo = fo;
    rq->ov = ov;
    rq->sync = (fo->Flags & FO_SYNCHRONOUS_IO) != 0;
    if (!rq->sync && !ov) {
        /* NT needs an offset (the OVERLAPPED) for every request on an overlapped handle. */
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (ov && ov->hEvent) {
        ACCESS_MASK granted;
        rq->event = ObpLookupHandle(ov->hEvent, UserMode, &granted);
        if (!rq->event || !ObpIsObjectOfType(rq->event, ObpEventType)) {
            SetLastError(ERROR_INVALID_HANDLE);
            return FALSE;
        }
    }
    PDEVICE_OBJECT target = IoGetRelatedDeviceObject(fo);
    rq->irp = IoAllocateIrp(target->StackSize, FALSE);
    if (!rq->irp) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    rq->sp = IoGetNextIrpStackLocation(rq->irp);
    rq->sp->MajorFunction = major;
    rq->sp->FileObject = fo;
    rq->irp->RequestorMode = UserMode;
    rq->irp->Tail.Overlay.OriginalFileObject = fo;
    return TRUE;
}

/* The request could not be sent: give back what w32_begin and the set-up took. */
static BOOL w32_abort(w32_request *rq, NTSTATUS st)
{
    IopDiscardIrp(rq->irp);
    Win32SetLastNtError(st);
    return FALSE;
}

/*
 * NT serializes the requests on a synchronous file object: one at a time, in the
 * order the threads asked (FILE_OBJECT.Busy, .Waiters and the .Lock event).
 */
static void w32_lock_file(PFILE_OBJECT fo)
{
    while (InterlockedCompareExchange((LONG volatile *)&fo->Busy, 1, 0) != 0) {
        InterlockedIncrement((LONG volatile *)&fo->Waiters);
        KeWaitForSingleObject(&fo->Lock, Executive, UserMode, FALSE, NULL);
        InterlockedDecrement((LONG volatile *)&fo->Waiters);
    }
}

static void w32_unlock_file(PFILE_OBJECT fo)
{
    InterlockedExchange((LONG volatile *)&fo->Busy, 0);
    if (fo->Waiters)
        KeSetEvent(&fo->Lock, IO_NO_INCREMENT, FALSE);
}

/*
 * Send the request. Returns the status the caller sees: the final status on a
 * synchronous handle (after waiting), the dispatch status on an overlapped one (with
 * the OVERLAPPED primed to STATUS_PENDING first, as kernel32 does). *info gets the
 * information field when the request completed.
 */
static NTSTATUS w32_send(w32_request *rq, ULONG_PTR *info)
{
    PIRP irp = rq->irp;
    iop_final *f = IopIrpFinal(irp);
    ObReferenceObject(rq->fo);
    f->file_ref = rq->fo;
    if (rq->sync) {
        KeInitializeEvent(&rq->done, NotificationEvent, FALSE);
        irp->UserIosb = &rq->iosb;
        irp->UserEvent = &rq->done;
        irp->Flags |= IRP_SYNCHRONOUS_API;
        if (rq->ov) {
            rq->ov->Internal = (ULONG_PTR)STATUS_PENDING;
            rq->ov->InternalHigh = 0;
        }
        if (rq->event) {
            ObReferenceObject(rq->event);
            KeClearEvent(rq->event);
        }
    } else {
        rq->ov->Internal = (ULONG_PTR)STATUS_PENDING;
        rq->ov->InternalHigh = 0;
        irp->UserIosb = (PIO_STATUS_BLOCK)rq->ov;
        f->win32_async = TRUE;
        if (rq->event) {
            ObReferenceObject(rq->event);
            f->event_ref = rq->event;
            irp->UserEvent = rq->event;
            KeClearEvent(rq->event);
        } else {
            KeClearEvent(&rq->fo->Event);
        }
    }
    IopQueueThreadIrp(irp);
    if (rq->sync) {
        w32_lock_file(rq->fo);
        KeClearEvent(&rq->fo->Event);
        /* The offset of a synchronous request is the file's, read under its lock. */
        if (rq->use_file_offset)
            rq->sp->Parameters.Read.ByteOffset = rq->fo->CurrentByteOffset;
    }
    NTSTATUS st = IoCallDriver(IoGetRelatedDeviceObject(rq->fo), irp);
    if (rq->sync) {
        if (st == STATUS_PENDING) {
            KeWaitForSingleObject(&rq->done, UserRequest, UserMode, FALSE, NULL);
            st = rq->iosb.Status;
        }
        *info = rq->iosb.Information;
        w32_unlock_file(rq->fo);
        /* An OVERLAPPED given with a synchronous handle (for its offset) still gets
         * the result and its event, as NtReadFile's status block and event. */
        if (rq->ov) {
            rq->ov->Internal = (ULONG_PTR)(ULONG)st;
            rq->ov->InternalHigh = rq->iosb.Information;
        }
        if (rq->event) {
            KeSetEvent(rq->event, IO_NO_INCREMENT, FALSE);
            ObDereferenceObject(rq->event);
        }
    } else {
        *info = rq->ov->InternalHigh;
    }
    return st;
}

/*
 * kernel32's view of a status: success → TRUE; pending on an overlapped handle →
 * ERROR_IO_PENDING; otherwise the mapped error (a warning still reports the bytes).
 */
static BOOL w32_finish(w32_request *rq, NTSTATUS st, ULONG_PTR info, LPDWORD transferred)
{
    if (st == STATUS_PENDING && !rq->sync) {
        SetLastError(ERROR_IO_PENDING);
        return FALSE;
    }
    if (NT_SUCCESS(st)) {
        if (transferred)
            *transferred = (DWORD)info;
        return TRUE;
    }
    /* A warning (STATUS_BUFFER_OVERFLOW: ERROR_MORE_DATA) still moved data; an error
     * moved none, and the documented count is then zero. */
    if (transferred)
        *transferred = NT_WARNING(st) ? (DWORD)info : 0;
    Win32SetLastNtError(st);
    return FALSE;
}

static BOOL w32_read_write(HANDLE h, UCHAR major, LPVOID buf, DWORD n, LPDWORD done, LPOVERLAPPED ov)
{
    KiRequireCurrentThread(major == IRP_MJ_READ ? "ReadFile" : "WriteFile");
    if (done)
        *done = 0;
    ACCESS_MASK granted;
    PFILE_OBJECT fo = w32_file(h, &granted);
    if (!fo)
        return FALSE;
    if (!(granted & (major == IRP_MJ_READ ? FILE_READ_DATA : (FILE_WRITE_DATA | FILE_APPEND_DATA)))) {
        SetLastError(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    if (n && !buf) {
        SetLastError(ERROR_NOACCESS);
        return FALSE;
    }
    w32_request rq;
    if (!w32_begin(&rq, fo, major, ov))
        return FALSE;
    rq.irp->Flags |= major == IRP_MJ_READ ? IRP_READ_OPERATION : IRP_WRITE_OPERATION;
    rq.sp->Parameters.Read.Length = n;
    if (ov)
        rq.sp->Parameters.Read.ByteOffset.QuadPart = ((LONGLONG)ov->OffsetHigh << 32) | ov->Offset;
    else
        rq.use_file_offset = TRUE;
    IopIrpFinal(rq.irp)->advance_offset = rq.sync;
    NTSTATUS st = IopSetupReadWrite(rq.irp, IoGetRelatedDeviceObject(fo), major, buf, n);
    if (!NT_SUCCESS(st))
        return w32_abort(&rq, st);
    ULONG_PTR info = 0;
    st = w32_send(&rq, &info);
    if (major == IRP_MJ_READ && st == STATUS_END_OF_FILE && rq.sync)
        return TRUE; /* a synchronous read at the end of the data succeeds with 0 bytes */
    return w32_finish(&rq, st, info, done);
}

BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead, LPDWORD lpNumberOfBytesRead,
                     LPOVERLAPPED lpOverlapped)
{
    return w32_read_write(hFile, IRP_MJ_READ, lpBuffer, nNumberOfBytesToRead, lpNumberOfBytesRead, lpOverlapped);
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite, LPDWORD lpNumberOfBytesWritten,
                      LPOVERLAPPED lpOverlapped)
{
    return w32_read_write(hFile, IRP_MJ_WRITE, (LPVOID)lpBuffer, nNumberOfBytesToWrite, lpNumberOfBytesWritten,
                          lpOverlapped);
}

BOOL WINAPI DeviceIoControl(HANDLE hDevice, DWORD dwIoControlCode, LPVOID lpInBuffer, DWORD nInBufferSize,
                            LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesReturned,
                            LPOVERLAPPED lpOverlapped)
{
    KiRequireCurrentThread("DeviceIoControl");
    /* Failures before the request is sent report no bytes either. */
    if (lpBytesReturned)
        *lpBytesReturned = 0;
    ACCESS_MASK granted;
    PFILE_OBJECT fo = w32_file(hDevice, &granted);
    if (!fo)
        return FALSE;
    /* The I/O manager checks the code's required access against the handle. */
    ULONG required = (dwIoControlCode >> 14) & 3;
    if (((required & FILE_READ_ACCESS) && !(granted & FILE_READ_DATA)) ||
        ((required & FILE_WRITE_ACCESS) && !(granted & FILE_WRITE_DATA))) {
        SetLastError(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    if (METHOD_FROM_CTL_CODE(dwIoControlCode) != METHOD_NEITHER &&
        ((nInBufferSize && !lpInBuffer) || (nOutBufferSize && !lpOutBuffer))) {
        SetLastError(ERROR_NOACCESS);
        return FALSE;
    }
    w32_request rq;
    if (!w32_begin(&rq, fo, IRP_MJ_DEVICE_CONTROL, lpOverlapped))
        return FALSE;
    NTSTATUS st = IopSetupDeviceControl(rq.irp, rq.sp, dwIoControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                                        nOutBufferSize);
    if (!NT_SUCCESS(st))
        return w32_abort(&rq, st);
    ULONG_PTR info = 0;
    st = w32_send(&rq, &info);
    return w32_finish(&rq, st, info, lpBytesReturned);
}

/* ---- completion and cancellation ------------------------------------------------------ */

BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped, LPDWORD lpNumberOfBytesTransferred,
                                BOOL bWait)
{
    KiRequireCurrentThread("GetOverlappedResult");
    if (lpOverlapped->Internal == (ULONG_PTR)STATUS_PENDING) {
        if (!bWait) {
            SetLastError(ERROR_IO_INCOMPLETE);
            return FALSE;
        }
        ACCESS_MASK granted;
        PVOID obj = ObpLookupHandle(lpOverlapped->hEvent ? lpOverlapped->hEvent : hFile, UserMode, &granted);
        PDISPATCHER_HEADER waitable = obj ? ObpWaitObject(obj) : NULL;
        if (!waitable) {
            SetLastError(ERROR_INVALID_HANDLE);
            return FALSE;
        }
        ObReferenceObject(obj);
        KeWaitForSingleObject(waitable, UserRequest, UserMode, FALSE, NULL);
        ObDereferenceObject(obj);
        /* Someone else signalled the event: the request itself is not done. */
        if (lpOverlapped->Internal == (ULONG_PTR)STATUS_PENDING) {
            SetLastError(ERROR_IO_INCOMPLETE);
            return FALSE;
        }
    }
    NTSTATUS st = (NTSTATUS)lpOverlapped->Internal;
    *lpNumberOfBytesTransferred = (DWORD)lpOverlapped->InternalHigh;
    if (NT_SUCCESS(st))
        return TRUE;
    Win32SetLastNtError(st);
    return FALSE;
}

/* CancelIo: cancel the calling thread's requests on the handle and wait for them. */
BOOL WINAPI CancelIo(HANDLE hFile)
{
    PETHREAD self = KiRequireCurrentThread("CancelIo");
    ACCESS_MASK granted;
    PFILE_OBJECT fo = w32_file(hFile, &granted);
    if (!fo)
        return FALSE;
    ObReferenceObject(fo);
    IopCancelThreadIrps(self, fo, NULL);
    LARGE_INTEGER step = { .QuadPart = -W32_CANCEL_WAIT_100NS };
    for (ULONG i = 0; i < W32_CANCEL_WAIT_STEPS && IopThreadIrpsPending(self, fo, NULL); i++)
        KeDelayExecutionThread(UserMode, FALSE, &step);
    ObDereferenceObject(fo);
    return TRUE;
}

/* CancelIoEx: cancel requests on the handle from any thread (or just lpOverlapped's). */
BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)
{
    KiRequireCurrentThread("CancelIoEx");
    ACCESS_MASK granted;
    PFILE_OBJECT fo = w32_file(hFile, &granted);
    if (!fo)
        return FALSE;
    if (!IopCancelThreadIrps(NULL, fo, (PIO_STATUS_BLOCK)lpOverlapped)) {
        SetLastError(ERROR_NOT_FOUND);
        return FALSE;
    }
    return TRUE;
}
