/*
 * donglog.c - the event log: the message codes of donglpt.mc, filtered by
 * Parameters\ErrorLogLevel, written by ddklib's KlWriteErrorLog.
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
    if (LogLevel >= DongLevelOf(ErrorCode)) {
        KlWriteErrorLog(IoObject, ErrorCode, FinalStatus, MajorFunction, UniqueValue, Strings, Count);
    }
}
