/*
 * kllog.c - the error log: one IoAllocateErrorLogEntry / IoWriteErrorLogEntry packet
 * with insertion strings. The event log supplies %1 (the device or driver name); the
 * strings passed here are %2, %3, ... Which events a driver writes (its message
 * codes, any level filter) is the driver's business.
 */
#include "ddklib.h"

/*
 * KlStringBytes - size of the NUL-terminated String in bytes, NUL included.
 * IRQL: any.
 */
static ULONG KlStringBytes(PCWSTR String)
{
    ULONG chars = 0;

    while (String[chars] != L'\0') {
        chars++;
    }
    return (chars + 1) * sizeof(WCHAR);
}

/*
 * KlWriteErrorLog - write one event for IoObject (a device object, or the driver
 * object before any device exists). Strings: Count NUL-terminated insertion strings;
 * those that do not fit in ERROR_LOG_MAXIMUM_SIZE are left out from the last one
 * back. A full log drops the event: events are best effort, as on NT.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID KlWriteErrorLog(PVOID IoObject, NTSTATUS ErrorCode, NTSTATUS FinalStatus, UCHAR MajorFunction,
                     ULONG UniqueValue, PCWSTR const *Strings, ULONG Count)
{
    PIO_ERROR_LOG_PACKET packet;
    ULONG stringBytes = 0;
    ULONG size;
    ULONG i;
    PUCHAR cursor;

    for (i = 0; i < Count; i++) {
        ULONG bytes = KlStringBytes(Strings[i]);
        if (sizeof(IO_ERROR_LOG_PACKET) + stringBytes + bytes > ERROR_LOG_MAXIMUM_SIZE) {
            Count = i;
            break;
        }
        stringBytes += bytes;
    }
    size = sizeof(IO_ERROR_LOG_PACKET) + stringBytes;

    packet = (PIO_ERROR_LOG_PACKET)IoAllocateErrorLogEntry(IoObject, (UCHAR)size);
    if (packet == NULL) {
        return;
    }
    RtlZeroMemory(packet, size);
    packet->MajorFunctionCode = MajorFunction;
    packet->ErrorCode = ErrorCode;
    packet->FinalStatus = FinalStatus;
    packet->UniqueErrorValue = UniqueValue;
    packet->NumberOfStrings = (USHORT)Count;
    packet->StringOffset = (USHORT)sizeof(IO_ERROR_LOG_PACKET);
    cursor = (PUCHAR)packet + sizeof(IO_ERROR_LOG_PACKET);
    for (i = 0; i < Count; i++) {
        ULONG bytes = KlStringBytes(Strings[i]);
        RtlCopyMemory(cursor, Strings[i], bytes);
        cursor += bytes;
    }
    IoWriteErrorLogEntry(packet);
}
