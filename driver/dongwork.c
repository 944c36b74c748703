/*
 * dongwork.c - one request, served by the port's worker thread: the buffers were
 * checked by the dispatch routine, the port is owned when the request needs it, and
 * the DL-1 link engine does the talking.
 *
 * Errors: the link engine maps every hardware condition to an NTSTATUS; a key that
 * answers with a status other than OK is a successful TRANSACT (the status and
 * payload are the answer) but a failed WriteFile (DongLinkKeyStatusToNtStatus), so
 * that a plain Win32 program sees ERROR_WRITE_PROTECT, ERROR_NOT_ENOUGH_QUOTA...
 * The response is still kept for ReadFile. docs/DRIVER.md has the table.
 */
#include "dongdrv.h"

/*
 * DongRequestNeedsPort - does serving Irp touch the port's registers?
 * IRQL: any.
 */
BOOLEAN DongRequestNeedsPort(PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);

    switch (stack->MajorFunction) {
    case IRP_MJ_WRITE:
        return TRUE;
    case IRP_MJ_DEVICE_CONTROL:
        return stack->Parameters.DeviceIoControl.IoControlCode != IOCTL_DONG_GET_STATS;
    default:
        return FALSE;
    }
}

/*
 * DongFormatStatus - "0xXXXXXXXX" for Status, for insertion strings.
 * IRQL: PASSIVE_LEVEL.
 */
static PCWSTR DongFormatStatus(NTSTATUS Status, PWCH Buffer, USHORT BufferBytes)
{
    WCHAR digits[12];
    ULONG count = 0;
    ULONG i;

    KlFormatUlong((ULONG)Status, 16, digits, sizeof(digits));
    while (digits[count] != L'\0') {
        count++;
    }
    if (BufferBytes < (2 + 8 + 1) * sizeof(WCHAR)) {
        Buffer[0] = L'\0';
        return Buffer;
    }
    Buffer[0] = L'0';
    Buffer[1] = L'x';
    for (i = 0; i < 8; i++) {
        Buffer[2 + i] = (i + count < 8) ? L'0' : digits[i + count - 8];
    }
    Buffer[10] = L'\0';
    return Buffer;
}

/*
 * DongLogTransact - event log entries for one finished transaction: a link failure
 * (error), retries that were needed (warning), an EEPROM fault the key reported.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongLogTransact(PDONG_EXTENSION Extension, UCHAR MajorFunction, NTSTATUS Status,
                            const DONG_TRANSACT_RESPONSE *Response)
{
    WCHAR text[16];
    PCWSTR strings[1];

    if (!NT_SUCCESS(Status)) {
        strings[0] = DongFormatStatus(Status, text, sizeof(text));
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_LINK_FAILED, Status,
                     MajorFunction, Response->Retries, strings, 1);
        return;
    }
    if (Response->Retries != 0) {
        strings[0] = KlFormatUlong(Response->Retries, 10, text, sizeof(text));
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_LINK_RETRIED, Status,
                     MajorFunction, Response->Retries, strings, 1);
    }
    if (Response->KeyStatus == DL1_STATUS_EEPROM_FAULT && Response->Length >= 2) {
        ULONG address = Response->Payload[0] | ((ULONG)Response->Payload[1] << 8);
        strings[0] = KlFormatUlong(address, 10, text, sizeof(text));
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_KEY_FAULT,
                     DongLinkKeyStatusToNtStatus(Response->KeyStatus), MajorFunction, address, strings, 1);
    }
}

/*
 * DongTransact - one DL-1 request/response through the link engine, counted.
 * Request and Response may share the system buffer (the engine copies the request
 * first).
 * IRQL: PASSIVE_LEVEL, worker thread, port owned.
 */
static NTSTATUS DongTransact(PDONG_EXTENSION Extension, UCHAR MajorFunction,
                             const DONG_TRANSACT_REQUEST *Request, PDONG_TRANSACT_RESPONSE Response)
{
    NTSTATUS status = DongLinkTransact(&Extension->Link, Request, Response);

    Extension->Requests++;
    DongLogTransact(Extension, MajorFunction, status, Response);
    return status;
}

/*
 * DongWrite - WriteFile: send the request, keep the response in the handle's
 * DONG_FILE for ReadFile.
 * IRQL: PASSIVE_LEVEL, worker thread, port owned.
 */
static NTSTATUS DongWrite(PDONG_EXTENSION Extension, PIRP Irp, PULONG_PTR Information)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PDONG_FILE file = (PDONG_FILE)stack->FileObject->FsContext;
    NTSTATUS status;

    file->HasResponse = FALSE;
    status = DongTransact(Extension, IRP_MJ_WRITE, (const DONG_TRANSACT_REQUEST *)Irp->AssociatedIrp.SystemBuffer,
                          &file->Response);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    file->HasResponse = TRUE;
    file->ResponseLength = DONG_TRANSACT_RESPONSE_HEADER + file->Response.Length;
    *Information = stack->Parameters.Write.Length;
    return DongLinkKeyStatusToNtStatus(file->Response.KeyStatus);
}

/*
 * DongRead - ReadFile: hand over the response of the handle's last WriteFile. It is
 * kept when the buffer is too small for it.
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns STATUS_NO_MORE_ENTRIES when there is no response to read.
 */
static NTSTATUS DongRead(PIRP Irp, PULONG_PTR Information)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PDONG_FILE file = (PDONG_FILE)stack->FileObject->FsContext;

    if (!file->HasResponse) {
        return STATUS_NO_MORE_ENTRIES;
    }
    if (stack->Parameters.Read.Length < file->ResponseLength) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, &file->Response, file->ResponseLength);
    file->HasResponse = FALSE;
    *Information = file->ResponseLength;
    return STATUS_SUCCESS;
}

/*
 * DongLogProbe - a change in what is attached is worth an event: a key found (info)
 * or no key any more (warning, with the reason).
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongLogProbe(PDONG_EXTENSION Extension, const DONG_INFO *Info)
{
    WCHAR text[2 * DL1_SERIAL_SIZE + 1];
    PCWSTR strings[1];
    ULONG i;

    if (Info->Attached == Extension->LastAttached) {
        return;
    }
    Extension->LastAttached = Info->Attached;
    if (Info->Attached == DONG_PERIPHERAL_KEY) {
        for (i = 0; i < DL1_SERIAL_SIZE; i++) {
            UCHAR digit = Info->Serial[i];
            text[2 * i] = L"0123456789ABCDEF"[digit >> 4];
            text[2 * i + 1] = L"0123456789ABCDEF"[digit & 0x0F];
        }
        text[2 * DL1_SERIAL_SIZE] = L'\0';
        strings[0] = text;
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_KEY_FOUND, STATUS_SUCCESS,
                     IRP_MJ_DEVICE_CONTROL, 0, strings, 1);
    } else {
        strings[0] = Info->Attached == DONG_PERIPHERAL_PRINTER ? L"a printer or another device is attached"
                                                              : L"nothing is attached";
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_NO_KEY, Info->ProbeStatus,
                     IRP_MJ_DEVICE_CONTROL, Info->Attached, strings, 1);
    }
}

/*
 * DongDeviceControl - the queued IOCTLs.
 * IRQL: PASSIVE_LEVEL, worker thread, port owned except for GET_STATS.
 */
static NTSTATUS DongDeviceControl(PDONG_EXTENSION Extension, PIRP Irp, PULONG_PTR Information)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;
    NTSTATUS status;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_DONG_GET_INFO: {
        DONG_INFO info;

        RtlZeroMemory(&info, sizeof(info));
        info.PortNumber = Extension->PortNumber;
        info.PortBase = (ULONG)Extension->Port.Info.OriginalController.QuadPart;
        status = DongLinkProbe(&Extension->Link, &info);
        if (NT_SUCCESS(status)) {
            DongLogProbe(Extension, &info);
            RtlCopyMemory(buffer, &info, sizeof(info));
            *Information = sizeof(info);
        }
        return status;
    }
    case IOCTL_DONG_TRANSACT_READ:
    case IOCTL_DONG_TRANSACT_WRITE: {
        PDONG_TRANSACT_RESPONSE response = (PDONG_TRANSACT_RESPONSE)buffer;

        status = DongTransact(Extension, IRP_MJ_DEVICE_CONTROL, (const DONG_TRANSACT_REQUEST *)buffer, response);
        if (NT_SUCCESS(status)) {
            *Information = DONG_TRANSACT_RESPONSE_HEADER + response->Length;
        }
        return status;
    }
    case IOCTL_DONG_GET_STATUS:
        DongLinkReadStatus(&Extension->Link, (PDONG_PORT_STATUS)buffer);
        *Information = sizeof(DONG_PORT_STATUS);
        return STATUS_SUCCESS;
    case IOCTL_DONG_RESET:
        return DongLinkResetKey(&Extension->Link);
    case IOCTL_DONG_GET_STATS: {
        PDONG_STATISTICS stats = (PDONG_STATISTICS)buffer;

        RtlZeroMemory(stats, sizeof(*stats));
        DongLinkGetStats(&Extension->Link, stats);
        stats->Requests = Extension->Requests;
        stats->PortWaits = Extension->Port.Waits;
        *Information = sizeof(*stats);
        return STATUS_SUCCESS;
    }
    default:
        return STATUS_INVALID_DEVICE_REQUEST;   /* the dispatch routine let it through */
    }
}

/*
 * DongProcessRequest - serve one request taken from the queue, settle the port
 * (per-request policy) and complete the request.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
VOID DongProcessRequest(PDONG_EXTENSION Extension, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG_PTR information = 0;
    DONG_TIMEOUTS timeouts;
    NTSTATUS status;

    if (DongRequestNeedsPort(Irp)) {
        DongGetTimeouts(Extension, &timeouts);
        DongLinkSetTimeouts(&Extension->Link, &timeouts);
    }
    switch (stack->MajorFunction) {
    case IRP_MJ_WRITE:
        status = DongWrite(Extension, Irp, &information);
        break;
    case IRP_MJ_READ:
        status = DongRead(Irp, &information);
        break;
    default:
        status = DongDeviceControl(Extension, Irp, &information);
        break;
    }
    DongReleasePortAfterRequest(Extension);
    DongCompleteRequest(Irp, status, NT_SUCCESS(status) ? information : 0);
}
