/*
 * lptinit.c - DriverEntry and DriverUnload of the printer class driver.
 *
 * DriverEntry fills the dispatch table, reads Services\Parallel\Parameters, and
 * creates one device per port parport made (IoGetConfigurationInformation()->
 * ParallelCount): \Device\Parallel<N> over \Device\ParallelPort<N>, each with its
 * worker thread, linked as \DosDevices\<port name> (LPTn) when the name is to be had.
 *
 * The DOS name: LPTn belongs to the driver that serves the port's printer, as on NT.
 * Our parport also links LPTn to the bare port device so that the port can be
 * opened while no class driver runs, and lets go of it when a class driver asks
 * (IOCTL_INTERNAL_PARCLASS_CONNECT), taking it back when that driver disconnects.
 * A name parport does not hold belongs to another driver (DongLpt with
 * Parameters\DosName, loaded earlier): it is logged as a warning and the printer
 * goes on without it, until this driver is started again (NT's printer driver looks
 * for its names only when it starts).
 */
#include "lptdrv.h"

#define LPT_DEVICE_PREFIX       L"\\Device\\Parallel"
#define LPT_PORT_PREFIX         L"\\Device\\ParallelPort"
#define LPT_DOS_PREFIX          L"\\DosDevices\\"
#define LPT_PARAMETERS_SUFFIX   L"\\Parameters"

static VOID NTAPI LptUnload(PDRIVER_OBJECT DriverObject);

/* Room for a KEY_VALUE_PARTIAL_INFORMATION of a DWORD. */
typedef union _LPT_VALUE_BUFFER {
    KEY_VALUE_PARTIAL_INFORMATION Info;
    UCHAR Bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
} LPT_VALUE_BUFFER;

/*
 * LptInitString - an empty counted string over Buffer (Bytes long, one WCHAR kept
 * for a terminating NUL).
 * IRQL: any.
 */
static VOID LptInitString(PUNICODE_STRING String, PWCH Buffer, USHORT Bytes)
{
    String->Buffer = Buffer;
    String->Length = 0;
    String->MaximumLength = (USHORT)(Bytes - sizeof(WCHAR));
    Buffer[0] = L'\0';
}

/*
 * LptTerminate - NUL-terminate String inside its buffer (LptInitString kept room).
 * IRQL: any.
 */
static VOID LptTerminate(PUNICODE_STRING String)
{
    String->Buffer[String->Length / sizeof(WCHAR)] = L'\0';
}

/*
 * LptNumberedName - String = Prefix followed by Number in decimal, NUL-terminated.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID LptNumberedName(PUNICODE_STRING String, PCWSTR Prefix, ULONG Number)
{
    WCHAR digits[12];
    UNICODE_STRING number;

    LptInitString(&number, digits, sizeof(digits));
    RtlAppendUnicodeToString(String, Prefix);
    RtlIntegerToUnicodeString(Number, 10, &number);
    RtlAppendUnicodeStringToString(String, &number);
    LptTerminate(String);
}

/*
 * LptReadWriteTimeout - Parameters\WriteTimeoutMs (REG_DWORD, 1..3600000): how long
 * a write may go without the printer taking a byte. Absent: the default, silently;
 * wrong type or out of range: the default, and a warning in the event log.
 * IRQL: PASSIVE_LEVEL.
 */
static ULONG LptReadWriteTimeout(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WCHAR pathBuffer[256];
    WCHAR defaultText[12];
    UNICODE_STRING path;
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES attributes;
    LPT_VALUE_BUFFER buffer;
    ULONG resultLength;
    PCWSTR strings[2];
    HANDLE key;
    NTSTATUS status;

    LptInitString(&path, pathBuffer, sizeof(pathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&path, LPT_PARAMETERS_SUFFIX))) {
        return LPT_DEFAULT_WRITE_TIMEOUT_MS;
    }
    InitializeObjectAttributes(&attributes, &path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &attributes))) {
        return LPT_DEFAULT_WRITE_TIMEOUT_MS;
    }
    RtlInitUnicodeString(&name, L"WriteTimeoutMs");
    status = ZwQueryValueKey(key, &name, KeyValuePartialInformation, &buffer, sizeof(buffer), &resultLength);
    ZwClose(key);
    if (status == STATUS_OBJECT_NAME_NOT_FOUND) {
        return LPT_DEFAULT_WRITE_TIMEOUT_MS;
    }
    if (NT_SUCCESS(status) && buffer.Info.Type == REG_DWORD && buffer.Info.DataLength == sizeof(ULONG)) {
        ULONG value = *(ULONG UNALIGNED *)buffer.Info.Data;
        if (value >= LPT_MIN_WRITE_TIMEOUT_MS && value <= LPT_MAX_WRITE_TIMEOUT_MS) {
            return value;
        }
    }
    strings[0] = L"WriteTimeoutMs";
    strings[1] = LptFormatUlong(LPT_DEFAULT_WRITE_TIMEOUT_MS, defaultText, sizeof(defaultText));
    LptLogEvent(DriverObject, LPT_MSG_BAD_PARAMETER, STATUS_INVALID_PARAMETER, 0, 0, strings, 2);
    return LPT_DEFAULT_WRITE_TIMEOUT_MS;
}

/*
 * LptCreateDosName - \DosDevices\<PortName> -> \Device\Parallel<N>. When the name
 * is in use, parport may only be holding it for the port (see the top): it is asked
 * for it, and the link tried once more. A name still in use belongs to another
 * driver: logged, and the printer goes on without it.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID LptCreateDosName(PLPT_EXTENSION Extension, PUNICODE_STRING PortName)
{
    PCWSTR strings[1];

    LptInitString(&Extension->DosName, Extension->DosNameBuffer, sizeof(Extension->DosNameBuffer));
    RtlAppendUnicodeToString(&Extension->DosName, LPT_DOS_PREFIX);
    RtlAppendUnicodeStringToString(&Extension->DosName, PortName);
    LptTerminate(&Extension->DosName);

    if (NT_SUCCESS(IoCreateSymbolicLink(&Extension->DosName, &Extension->DeviceName))) {
        Extension->DosLinkCreated = TRUE;
        return;
    }
    LptAskPortForName(Extension, PortName);
    if (NT_SUCCESS(IoCreateSymbolicLink(&Extension->DosName, &Extension->DeviceName))) {
        Extension->DosLinkCreated = TRUE;
        return;
    }
    LptTerminate(PortName);
    strings[0] = PortName->Buffer;
    LptLogEvent(Extension->DeviceObject, LPT_MSG_DOS_NAME_TAKEN, STATUS_OBJECT_NAME_COLLISION, 0, 2, strings, 1);
}

/*
 * LptDeletePort - undo LptCreatePort, in reverse order, for whatever got done. The
 * DOS name goes before the parport connection, so that parport can take back a
 * name it lent.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID LptDeletePort(PDEVICE_OBJECT DeviceObject)
{
    PLPT_EXTENSION extension = LPT_EXTENSION_OF(DeviceObject);

    if (extension->ShutdownRegistered) {
        IoUnregisterShutdownNotification(DeviceObject);
    }
    LptStopWorker(extension);
    if (extension->DosLinkCreated) {
        IoDeleteSymbolicLink(&extension->DosName);
    }
    LptDisconnectPort(extension);   /* parport takes back a name it lent us */
    IoDeleteDevice(DeviceObject);
}

/*
 * LptCreatePort - \Device\Parallel<PortNumber> over \Device\ParallelPort<PortNumber>:
 * device, parport connection, worker, DOS name, shutdown notification.
 * IRQL: PASSIVE_LEVEL.
 * Returns the first failure; nothing of the port is left behind then.
 */
static NTSTATUS LptCreatePort(PDRIVER_OBJECT DriverObject, ULONG PortNumber, ULONG WriteTimeoutMs)
{
    WCHAR nameBuffer[LPT_NAME_CHARS];
    WCHAR portNameBuffer[LPT_NAME_CHARS];
    UNICODE_STRING name;
    UNICODE_STRING portName;
    PDEVICE_OBJECT device;
    PLPT_EXTENSION extension;
    NTSTATUS status;

    LptInitString(&name, nameBuffer, sizeof(nameBuffer));
    LptNumberedName(&name, LPT_DEVICE_PREFIX, PortNumber);
    status = IoCreateDevice(DriverObject, sizeof(LPT_EXTENSION), &name, FILE_DEVICE_PARALLEL_PORT,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    extension = LPT_EXTENSION_OF(device);
    RtlZeroMemory(extension, sizeof(*extension));
    extension->DeviceObject = device;
    extension->PortNumber = PortNumber;
    extension->WriteTimeoutMs = WriteTimeoutMs;
    LptInitString(&extension->DeviceName, extension->DeviceNameBuffer, sizeof(extension->DeviceNameBuffer));
    RtlCopyUnicodeString(&extension->DeviceName, &name);
    LptTerminate(&extension->DeviceName);
    LptInitString(&extension->PortDeviceName, extension->PortDeviceNameBuffer,
                  sizeof(extension->PortDeviceNameBuffer));
    LptNumberedName(&extension->PortDeviceName, LPT_PORT_PREFIX, PortNumber);
    LptInitializeQueue(extension);

    LptInitString(&portName, portNameBuffer, sizeof(portNameBuffer));
    status = LptConnectPort(extension, &portName);
    if (NT_SUCCESS(status)) {
        status = LptStartWorker(extension);
    }
    if (NT_SUCCESS(status)) {
        LptCreateDosName(extension, &portName);
        status = IoRegisterShutdownNotification(device);
        extension->ShutdownRegistered = NT_SUCCESS(status);
    }
    if (!NT_SUCCESS(status)) {
        LptDeletePort(device);
        return status;
    }
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

/*
 * DriverEntry - the printer driver's entry point. A port whose device cannot be made
 * is skipped; the driver loads when at least one port works.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_NO_SUCH_DEVICE when there is no parallel port at all (logged), or
 * the failure of the last port when none could be used.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    ULONG count = IoGetConfigurationInformation()->ParallelCount;
    ULONG writeTimeoutMs;
    ULONG port;
    NTSTATUS status = STATUS_NO_SUCH_DEVICE;

    DriverObject->MajorFunction[IRP_MJ_CREATE] = LptDispatchCreate;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = LptDispatchClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = LptDispatchCleanup;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = LptDispatchWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = LptDispatchDeviceControl;
    DriverObject->MajorFunction[IRP_MJ_SHUTDOWN] = LptDispatchShutdown;
    DriverObject->DriverUnload = LptUnload;

    writeTimeoutMs = LptReadWriteTimeout(DriverObject, RegistryPath);
    for (port = 0; port < count; port++) {
        NTSTATUS portStatus = LptCreatePort(DriverObject, port, writeTimeoutMs);
        if (!NT_SUCCESS(portStatus)) {
            KdPrint(("parallel: port %lu skipped (0x%08lX)\n", (unsigned long)port, (unsigned long)portStatus));
            status = portStatus;
        }
    }
    if (DriverObject->DeviceObject != NULL) {
        return STATUS_SUCCESS;
    }
    if (count == 0) {
        LptLogEvent(DriverObject, LPT_MSG_NO_PORTS, STATUS_NO_SUCH_DEVICE, 0, 0, NULL, 0);
    }
    return status;
}

/*
 * LptUnload - DriverUnload: for every port stop the worker, give a DOS name taken
 * from the port back to it, drop the parport reference, delete the device. The I/O
 * manager calls it once no handle is open, so no request is left to serve.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI LptUnload(PDRIVER_OBJECT DriverObject)
{
    while (DriverObject->DeviceObject != NULL) {
        LptDeletePort(DriverObject->DeviceObject);
    }
}
