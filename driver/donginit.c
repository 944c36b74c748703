/*
 * donginit.c - DriverEntry and DriverUnload of DongLpt.
 *
 * DriverEntry fills the dispatch table, reads Services\DongLpt\Parameters, and
 * creates one device per parallel port that parport made
 * (IoGetConfigurationInformation()->ParallelCount): \Device\DongLpt<N> for
 * \Device\ParallelPort<N>, linked as \DosDevices\DongLpt<N+1>, each with its worker
 * thread. DriverUnload undoes all of it and leaves no name behind.
 */
#include "dongdrv.h"


static VOID NTAPI DongUnload(PDRIVER_OBJECT DriverObject);

/* Room for a KEY_VALUE_PARTIAL_INFORMATION of a short string. */
typedef union _DONG_STRING_VALUE {
    KEY_VALUE_PARTIAL_INFORMATION Info;
    UCHAR Bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + DONG_NAME_CHARS * sizeof(WCHAR)];
} DONG_STRING_VALUE;

/*
 * DongReadDword - Parameters value Name into *Value when it is a REG_DWORD within
 * [Minimum, Maximum]. An absent value keeps the default silently; a value of the
 * wrong type or out of range keeps it and logs DONG_MSG_BAD_PARAMETER.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongReadDword(PDRIVER_OBJECT DriverObject, HANDLE Key, PCWSTR Name, ULONG Minimum,
                          ULONG Maximum, PULONG Value, ULONG LogLevel)
{
    WCHAR defaultText[KL_NUMBER_CHARS];
    PCWSTR strings[2];

    if (KlQueryDwordParameter(Key, Name, Minimum, Maximum, Value) != STATUS_INVALID_PARAMETER) {
        return;
    }
    strings[0] = Name;
    strings[1] = KlFormatUlong(*Value, 10, defaultText, sizeof(defaultText));
    DongLogEvent(DriverObject, LogLevel, DONG_MSG_BAD_PARAMETER, STATUS_INVALID_PARAMETER, 0, 0, strings, 2);
}

/*
 * DongReadDosName - Parameters\DosName (REG_SZ, e.g. "COM9"): the extra DOS name of
 * the first port. Absent or empty: none. Too long or not a string: logged, none.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongReadDosName(PDRIVER_OBJECT DriverObject, HANDLE Key, PDONG_CONFIG Config)
{
    UNICODE_STRING name;
    DONG_STRING_VALUE buffer;
    ULONG resultLength;
    PCWSTR strings[2];
    NTSTATUS status;

    RtlInitUnicodeString(&name, L"DosName");
    status = ZwQueryValueKey(Key, &name, KeyValuePartialInformation, &buffer, sizeof(buffer), &resultLength);
    if (status == STATUS_OBJECT_NAME_NOT_FOUND) {
        return;
    }
    if (NT_SUCCESS(status) && buffer.Info.Type == REG_SZ && buffer.Info.DataLength % sizeof(WCHAR) == 0) {
        UNICODE_STRING value;
        value.Buffer = (PWCH)buffer.Info.Data;
        value.Length = (USHORT)buffer.Info.DataLength;
        while (value.Length != 0 && value.Buffer[value.Length / sizeof(WCHAR) - 1] == L'\0') {
            value.Length -= sizeof(WCHAR);
        }
        value.MaximumLength = value.Length;
        if (value.Length <= Config->DosName.MaximumLength) {
            RtlCopyUnicodeString(&Config->DosName, &value);
            KlTerminateString(&Config->DosName);
            return;
        }
    }
    strings[0] = L"DosName";
    strings[1] = L"none";
    DongLogEvent(DriverObject, Config->ErrorLogLevel, DONG_MSG_BAD_PARAMETER, STATUS_INVALID_PARAMETER, 0, 0,
                 strings, 2);
}

/*
 * DongReadConfig - Services\DongLpt\Parameters, each value checked against its
 * documented range (donglpt.reg, docs/DRIVER.md); defaults for the rest.
 * ErrorLogLevel is read first so that it filters the complaints about the others.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongReadConfig(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath, PDONG_CONFIG Config)
{
    HANDLE key;
    ULONG allocatePerOpen = 0;

    Config->ErrorLogLevel = DONG_DEFAULT_LOG_LEVEL;
    Config->AllocatePerOpen = FALSE;
    Config->Timeouts.HandshakeMs = DONG_DEFAULT_HANDSHAKE_MS;
    Config->Timeouts.ResponseMs = DONG_DEFAULT_RESPONSE_MS;
    Config->Timeouts.Retries = DONG_DEFAULT_RETRIES;
    Config->Timeouts.PortWaitMs = DONG_DEFAULT_PORT_WAIT_MS;
    KlInitString(&Config->DosName, Config->DosNameBuffer, sizeof(Config->DosNameBuffer));

    if (!NT_SUCCESS(KlOpenParametersKey(RegistryPath, &key))) {
        return;     /* no Parameters key: every default */
    }
    DongReadDword(DriverObject, key, L"ErrorLogLevel", DONG_LOG_NONE, DONG_LOG_INFORMATION,
                  &Config->ErrorLogLevel, DONG_LOG_WARNINGS);
    DongReadDword(DriverObject, key, L"AllocatePerOpen", 0, 1, &allocatePerOpen, Config->ErrorLogLevel);
    Config->AllocatePerOpen = allocatePerOpen != 0;
    DongReadDword(DriverObject, key, L"TimeoutMs", 1, DONG_TIMEOUT_HANDSHAKE_MAX, &Config->Timeouts.HandshakeMs,
                  Config->ErrorLogLevel);
    DongReadDword(DriverObject, key, L"ResponseTimeoutMs", 1, DONG_TIMEOUT_RESPONSE_MAX,
                  &Config->Timeouts.ResponseMs, Config->ErrorLogLevel);
    DongReadDword(DriverObject, key, L"Retries", 0, DONG_TIMEOUT_RETRIES_MAX, &Config->Timeouts.Retries,
                  Config->ErrorLogLevel);
    DongReadDword(DriverObject, key, L"PortWaitMs", 0, 0xFFFFFFFF, &Config->Timeouts.PortWaitMs,
                  Config->ErrorLogLevel);
    DongReadDosName(DriverObject, key, Config);
    ZwClose(key);
}

/*
 * DongCreateLinks - \DosDevices\DongLpt<N+1>, and for the first port the
 * Parameters\DosName alias when one is configured. A taken alias is logged and
 * skipped: the device stays reachable as DongLpt<N+1>.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS DongCreateLinks(PDONG_EXTENSION Extension, PDONG_CONFIG Config)
{
    PCWSTR strings[1];
    NTSTATUS status;

    KlInitString(&Extension->DosName, Extension->DosNameBuffer, sizeof(Extension->DosNameBuffer));
    RtlAppendUnicodeToString(&Extension->DosName, DONG_DOS_NAME_PREFIX_U);
    KlAppendDecimal(&Extension->DosName, Extension->PortNumber + 1);
    status = IoCreateSymbolicLink(&Extension->DosName, &Extension->DeviceName);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    Extension->DosLinkCreated = TRUE;

    if (Extension->PortNumber != 0 || Config->DosName.Length == 0) {
        return STATUS_SUCCESS;
    }
    KlInitString(&Extension->AliasName, Extension->AliasNameBuffer, sizeof(Extension->AliasNameBuffer));
    status = KlLinkDosName(&Extension->Port, &Config->DosName, &Extension->DeviceName, &Extension->AliasName);
    if (NT_SUCCESS(status)) {
        Extension->AliasLinkCreated = TRUE;
    } else {
        strings[0] = Config->DosName.Buffer;
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_DOS_NAME_TAKEN,
                     STATUS_OBJECT_NAME_COLLISION, 0, 0, strings, 1);
    }
    return STATUS_SUCCESS;
}

/*
 * DongDeletePort - undo DongCreatePort, in reverse order, for whatever got done.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongDeletePort(PDEVICE_OBJECT DeviceObject)
{
    PDONG_EXTENSION extension = (PDONG_EXTENSION)DeviceObject->DeviceExtension;

    if (extension->ShutdownRegistered) {
        IoUnregisterShutdownNotification(DeviceObject);
    }
    KlStopWorker(&extension->Queue);
    if (extension->AliasLinkCreated) {
        IoDeleteSymbolicLink(&extension->AliasName);
    }
    if (extension->DosLinkCreated) {
        IoDeleteSymbolicLink(&extension->DosName);
    }
    KlDisconnectPort(&extension->Port);     /* after the alias: parport takes back a name it lent */
    IoDeleteDevice(DeviceObject);
}

/*
 * DongLogStarted - informational event: device, port number, base, chip.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongLogStarted(PDONG_EXTENSION Extension)
{
    WCHAR portText[KL_NUMBER_CHARS];
    WCHAR baseText[KL_NUMBER_CHARS];
    PCWSTR strings[3];

    strings[0] = KlFormatUlong(Extension->PortNumber + 1, 10, portText, sizeof(portText));
    strings[1] = KlFormatUlong((ULONG)Extension->Port.Info.OriginalController.QuadPart, 16, baseText,
                                 sizeof(baseText));
    strings[2] = (Extension->HardwareCapabilities & PPT_ECP_PRESENT) ? L"ECP"
               : (Extension->HardwareCapabilities & PPT_BYTE_PRESENT) ? L"PS/2" : L"SPP";
    DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_PORT_STARTED, STATUS_SUCCESS, 0, 0,
                 strings, 3);
}

/*
 * DongCreatePort - \Device\DongLpt<PortNumber> over \Device\ParallelPort<PortNumber>:
 * device, parport connection, queue and worker, links, shutdown notification.
 * IRQL: PASSIVE_LEVEL.
 * Returns the first failure; nothing of the port is left behind then.
 */
static NTSTATUS DongCreatePort(PDRIVER_OBJECT DriverObject, ULONG PortNumber, PDONG_CONFIG Config)
{
    WCHAR nameBuffer[DONG_NAME_CHARS];
    UNICODE_STRING name;
    PDEVICE_OBJECT device;
    PDONG_EXTENSION extension;
    NTSTATUS status;

    KlInitString(&name, nameBuffer, sizeof(nameBuffer));
    status = KlCreateNumberedDevice(DriverObject, sizeof(DONG_EXTENSION), DONG_DEVICE_NAME_PREFIX_U, PortNumber,
                                    FILE_DEVICE_DONGLPT, &name, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    extension = (PDONG_EXTENSION)device->DeviceExtension;
    extension->DeviceObject = device;
    extension->PortNumber = PortNumber;
    extension->ErrorLogLevel = Config->ErrorLogLevel;
    extension->AllocatePerOpen = Config->AllocatePerOpen;
    extension->Timeouts = Config->Timeouts;
    extension->LastAttached = (ULONG)~0u;
    KeInitializeSpinLock(&extension->TimeoutLock);
    KlInitString(&extension->DeviceName, extension->DeviceNameBuffer, sizeof(extension->DeviceNameBuffer));
    RtlCopyUnicodeString(&extension->DeviceName, &name);
    KlTerminateString(&extension->DeviceName);
    DongInitializeQueue(extension);

    status = DongConnectPort(extension);
    if (NT_SUCCESS(status)) {
        status = DongStartWorker(extension);
    }
    if (NT_SUCCESS(status)) {
        status = DongCreateLinks(extension, Config);
    }
    if (NT_SUCCESS(status)) {
        status = IoRegisterShutdownNotification(device);
        extension->ShutdownRegistered = NT_SUCCESS(status);
    }
    if (!NT_SUCCESS(status)) {
        DongDeletePort(device);
        return status;
    }
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    DongLogStarted(extension);
    return STATUS_SUCCESS;
}

/*
 * DriverEntry - DongLpt's entry point.
 * A port whose device cannot be made is logged and skipped; the driver loads when
 * at least one port works.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_NO_SUCH_DEVICE when there is no parallel port at all, or the
 * failure of the last port when none could be used.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    DONG_CONFIG config;
    ULONG count = IoGetConfigurationInformation()->ParallelCount;
    ULONG port;
    NTSTATUS status = STATUS_NO_SUCH_DEVICE;

    DriverObject->MajorFunction[IRP_MJ_CREATE] = DongDispatchCreate;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = DongDispatchCleanup;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DongDispatchClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = DongDispatchReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = DongDispatchReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = DongDispatchDeviceControl;
    DriverObject->MajorFunction[IRP_MJ_SHUTDOWN] = DongDispatchShutdown;
    DriverObject->DriverUnload = DongUnload;

    DongReadConfig(DriverObject, RegistryPath, &config);
    KdPrint(("DongLpt: %lu parallel port(s), AllocatePerOpen %lu, ErrorLogLevel %lu\n", (unsigned long)count,
             (unsigned long)config.AllocatePerOpen, (unsigned long)config.ErrorLogLevel));

    for (port = 0; port < count; port++) {
        NTSTATUS portStatus = DongCreatePort(DriverObject, port, &config);
        if (!NT_SUCCESS(portStatus)) {
            KdPrint(("DongLpt: port %lu skipped (0x%08lX)\n", (unsigned long)port, (unsigned long)portStatus));
            status = portStatus;
        }
    }
    if (DriverObject->DeviceObject != NULL) {
        return STATUS_SUCCESS;
    }
    if (count == 0) {
        DongLogEvent(DriverObject, config.ErrorLogLevel, DONG_MSG_NO_PORTS, STATUS_NO_SUCH_DEVICE, 0, 0, NULL, 0);
    }
    return status;
}

/*
 * DongUnload - DriverUnload: for every port, stop the worker (the request being
 * served finishes, queued ones end with STATUS_CANCELLED), give the port back with
 * the key session closed, drop the parport reference, delete the links and the
 * device. The I/O manager calls it once no handle is open (NT defers a stop
 * until then), so no DONG_FILE is left to free.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI DongUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;

    /* A device still referenced stays on the list after IoDeleteDevice (it goes with
       its last reference), so walk the list instead of waiting for it to empty. */
    while (device != NULL) {
        PDEVICE_OBJECT next = device->NextDevice;
        PDONG_EXTENSION extension = (PDONG_EXTENSION)device->DeviceExtension;

        DongLogEvent(device, extension->ErrorLogLevel, DONG_MSG_DRIVER_STOPPED, STATUS_SUCCESS, 0, 0, NULL, 0);
        DongDeletePort(device);
        device = next;
    }
}
