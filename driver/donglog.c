/*
 * donglog.c - the event log: IoAllocateErrorLogEntry / IoWriteErrorLogEntry with
 * the message codes of donglpt.mc, filtered by Parameters\ErrorLogLevel.
 *
 * The severity of a message code (its top two bits) decides the level it needs:
 * Error 1, Warning 2, Informational 3. The event log supplies %1 (the device or
 * driver name); the insertion strings passed here are %2, %3, ...
 */
#include "dongdrv.h"

#define DONG_SEVERITY(Code)         ((ULONG)(Code) >> 30)
#define DONG_SEVERITY_INFORMATIONAL 1
#define DONG_SEVERITY_WARNING       2

/*
 * DongStringBytes - size of the NUL-terminated String in bytes, NUL included.
 * IRQL: any.
 */
static ULONG DongStringBytes(PCWSTR String)
{
    ULONG chars = 0;

    while (String[chars] != L'\0') {
        chars++;
    }
    return (chars + 1) * sizeof(WCHAR);
}

/*
 * DongLevelOf - the ErrorLogLevel from which ErrorCode is written.
 * IRQL: any.
 */
static ULONG DongLevelOf(NTSTATUS ErrorCode)
{
    switch (DONG_SEVERITY(ErrorCode)) {
    case DONG_SEVERITY_INFORMATIONAL:
        return DONG_LOG_INFORMATION;
    case DONG_SEVERITY_WARNING:
        return DONG_LOG_WARNINGS;
    default:
        return DONG_LOG_ERRORS;
    }
}

/*
 * DongLogEvent - write one event for IoObject (a device object, or the driver object
 * before any device exists) when LogLevel lets it through.
 * Strings: Count insertion strings (%2 ...), NUL-terminated; strings that do not fit
 * in ERROR_LOG_MAXIMUM_SIZE are left out from the last one back.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID DongLogEvent(PVOID IoObject, ULONG LogLevel, NTSTATUS ErrorCode, NTSTATUS FinalStatus,
                  UCHAR MajorFunction, ULONG UniqueValue, PCWSTR const *Strings, ULONG Count)
{
    PIO_ERROR_LOG_PACKET packet;
    ULONG stringBytes = 0;
    ULONG size;
    ULONG i;
    PUCHAR cursor;

    if (LogLevel < DongLevelOf(ErrorCode)) {
        return;
    }
    for (i = 0; i < Count; i++) {
        ULONG bytes = DongStringBytes(Strings[i]);
        if (sizeof(IO_ERROR_LOG_PACKET) + stringBytes + bytes > ERROR_LOG_MAXIMUM_SIZE) {
            Count = i;
            break;
        }
        stringBytes += bytes;
    }
    size = sizeof(IO_ERROR_LOG_PACKET) + stringBytes;

    packet = (PIO_ERROR_LOG_PACKET)IoAllocateErrorLogEntry(IoObject, (UCHAR)size);
    if (packet == NULL) {
        return;     /* the log is full or out of memory: events are best effort */
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
        ULONG bytes = DongStringBytes(Strings[i]);
        RtlCopyMemory(cursor, Strings[i], bytes);
        cursor += bytes;
    }
    IoWriteErrorLogEntry(packet);
}

/*
 * DongFormatUlong - Value as text in Base (10 or 16) into Buffer (at least 12
 * WCHARs), for insertion strings.
 * IRQL: PASSIVE_LEVEL.
 */
PCWSTR DongFormatUlong(ULONG Value, ULONG Base, PWCH Buffer, USHORT BufferBytes)
{
    UNICODE_STRING text;

    text.Buffer = Buffer;
    text.Length = 0;
    text.MaximumLength = (USHORT)(BufferBytes - sizeof(WCHAR));
    Buffer[0] = L'\0';
    if (NT_SUCCESS(RtlIntegerToUnicodeString(Value, Base, &text))) {
        Buffer[text.Length / sizeof(WCHAR)] = L'\0';
    }
    return Buffer;
}
