/*
 * klstring.c - counted strings built in caller buffers, and REG_DWORD values of a
 * driver's Services\<name>\Parameters key.
 *
 * Strings made here keep one WCHAR of their buffer for a terminating NUL, so that
 * they can also be handed out as PCWSTR (error-log insertion strings).
 */
#include "ddklib.h"

#define KL_PARAMETERS_SUFFIX    L"\\Parameters"
#define KL_PATH_CHARS           256

/* Room for a KEY_VALUE_PARTIAL_INFORMATION of a DWORD. */
typedef union _KL_DWORD_VALUE {
    KEY_VALUE_PARTIAL_INFORMATION Info;
    UCHAR Bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
} KL_DWORD_VALUE;

/*
 * KlInitString - an empty counted string over Buffer (BufferBytes long, one WCHAR
 * kept for a terminating NUL).
 * IRQL: any.
 */
VOID KlInitString(PUNICODE_STRING String, PWCH Buffer, USHORT BufferBytes)
{
    String->Buffer = Buffer;
    String->Length = 0;
    String->MaximumLength = (USHORT)(BufferBytes - sizeof(WCHAR));
    Buffer[0] = L'\0';
}

/*
 * KlTerminateString - NUL-terminate String inside its buffer (KlInitString kept room).
 * IRQL: any.
 */
VOID KlTerminateString(PUNICODE_STRING String)
{
    String->Buffer[String->Length / sizeof(WCHAR)] = L'\0';
}

/*
 * KlAppendDecimal - append Value in decimal to String, NUL-terminated. A string too
 * short for the digits is left as it was.
 * IRQL: PASSIVE_LEVEL.
 */
VOID KlAppendDecimal(PUNICODE_STRING String, ULONG Value)
{
    WCHAR digits[KL_NUMBER_CHARS];
    UNICODE_STRING number;

    KlInitString(&number, digits, sizeof(digits));
    RtlIntegerToUnicodeString(Value, 10, &number);
    RtlAppendUnicodeStringToString(String, &number);
    KlTerminateString(String);
}

/*
 * KlFormatUlong - Value as text in Base (10 or 16) into Buffer (KL_NUMBER_CHARS
 * WCHARs hold any ULONG), NUL-terminated, for insertion strings.
 * IRQL: PASSIVE_LEVEL.
 * Returns Buffer.
 */
PCWSTR KlFormatUlong(ULONG Value, ULONG Base, PWCH Buffer, USHORT BufferBytes)
{
    UNICODE_STRING text;

    KlInitString(&text, Buffer, BufferBytes);
    if (NT_SUCCESS(RtlIntegerToUnicodeString(Value, Base, &text))) {
        KlTerminateString(&text);
    }
    return Buffer;
}

/*
 * KlOpenParametersKey - open <RegistryPath>\Parameters (the path DriverEntry got)
 * for reading, with a kernel handle the caller closes with ZwClose.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS, STATUS_NAME_TOO_LONG for a path beyond KL_PATH_CHARS, or
 * the failure of ZwOpenKey (no Parameters key: every default applies).
 */
NTSTATUS KlOpenParametersKey(PUNICODE_STRING RegistryPath, PHANDLE Key)
{
    WCHAR pathBuffer[KL_PATH_CHARS];
    UNICODE_STRING path;
    OBJECT_ATTRIBUTES attributes;

    KlInitString(&path, pathBuffer, sizeof(pathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&path, KL_PARAMETERS_SUFFIX))) {
        return STATUS_NAME_TOO_LONG;
    }
    InitializeObjectAttributes(&attributes, &path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    return ZwOpenKey(Key, KEY_READ, &attributes);
}

/*
 * KlQueryDwordParameter - value Name of Key into *Value when it is a REG_DWORD
 * within [Minimum, Maximum]; otherwise *Value (the default) stays.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS (read), STATUS_OBJECT_NAME_NOT_FOUND (absent: the default,
 * silently), or STATUS_INVALID_PARAMETER (wrong type, size or range, or unreadable:
 * the default, and the caller tells the event log).
 */
NTSTATUS KlQueryDwordParameter(HANDLE Key, PCWSTR Name, ULONG Minimum, ULONG Maximum, PULONG Value)
{
    UNICODE_STRING name;
    KL_DWORD_VALUE buffer;
    ULONG resultLength;
    NTSTATUS status;

    RtlInitUnicodeString(&name, Name);
    status = ZwQueryValueKey(Key, &name, KeyValuePartialInformation, &buffer, sizeof(buffer), &resultLength);
    if (status == STATUS_OBJECT_NAME_NOT_FOUND) {
        return status;
    }
    if (NT_SUCCESS(status) && buffer.Info.Type == REG_DWORD && buffer.Info.DataLength == sizeof(ULONG)) {
        ULONG value = *(ULONG UNALIGNED *)buffer.Info.Data;
        if (value >= Minimum && value <= Maximum) {
            *Value = value;
            return STATUS_SUCCESS;
        }
    }
    return STATUS_INVALID_PARAMETER;
}
