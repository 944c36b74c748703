/*
 * lptlog.c - the event log: IoAllocateErrorLogEntry / IoWriteErrorLogEntry with the
 * message codes of parallel.mc. The event log supplies %1 (the device or driver
 * name); the insertion strings passed here are %2, %3, ...
 */
#include "lptdrv.h"

/*
 * LptStringBytes - size of the NUL-terminated String in bytes, NUL included.
 * IRQL: any.
 */
static ULONG LptStringBytes(PCWSTR String)
{
    ULONG chars = 0;

    while (String[chars] != L'\0') {
        chars++;
    }
    return (chars + 1) * sizeof(WCHAR);
}

/*
 * LptLogEvent - write one event for IoObject (a device object, or the driver object
 * before any device exists). Strings that do not fit in ERROR_LOG_MAXIMUM_SIZE are
 * left out from the last one back; a full log drops the event (best effort, as NT).
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID LptLogEvent(PVOID IoObject, NTSTATUS ErrorCode, NTSTATUS FinalStatus, UCHAR MajorFunction,
                 ULONG UniqueValue, PCWSTR const *Strings, ULONG Count)
{
    PIO_ERROR_LOG_PACKET packet;
    ULONG stringBytes = 0;
    ULONG size;
    ULONG i;
    PUCHAR cursor;

    for (i = 0; i < Count; i++) {
        ULONG bytes = LptStringBytes(Strings[i]);
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
        ULONG bytes = LptStringBytes(Strings[i]);
        RtlCopyMemory(cursor, Strings[i], bytes);
        cursor += bytes;
    }
    IoWriteErrorLogEntry(packet);
}

/*
 * LptFormatUlong - Value in decimal into Buffer, NUL-terminated, for insertion
 * strings.
 * IRQL: PASSIVE_LEVEL.
 */
PCWSTR LptFormatUlong(ULONG Value, PWCH Buffer, USHORT BufferBytes)
{
    UNICODE_STRING text;

    text.Buffer = Buffer;
    text.Length = 0;
    text.MaximumLength = (USHORT)(BufferBytes - sizeof(WCHAR));
    Buffer[0] = L'\0';
    if (NT_SUCCESS(RtlIntegerToUnicodeString(Value, 10, &text))) {
        Buffer[text.Length / sizeof(WCHAR)] = L'\0';
    }
    return Buffer;
}
