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

static VOID NTAPI LptUnload(PDRIVER_OBJECT DriverObject);

/*
 * LptReadWriteTimeout - Parameters\WriteTimeoutMs (REG_DWORD, 1..3600000): how long
 * a write may go without the printer taking a byte. Absent: the default, silently;
 * wrong type or out of range: the default, and a warning in the event log.
 * IRQL: PASSIVE_LEVEL.
 */
static ULONG LptReadWriteTimeout(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    ULONG timeoutMs = LPT_DEFAULT_WRITE_TIMEOUT_MS;
    WCHAR defaultText[KL_NUMBER_CHARS];
    PCWSTR strings[2];
    HANDLE key;
    NTSTATUS status;

    if (!NT_SUCCESS(KlOpenParametersKey(RegistryPath, &key))) {
        return timeoutMs;
    }
    status = KlQueryDwordParameter(key, L"WriteTimeoutMs", LPT_MIN_WRITE_TIMEOUT_MS, LPT_MAX_WRITE_TIMEOUT_MS,
                                   &timeoutMs);
    ZwClose(key);
    if (status == STATUS_INVALID_PARAMETER) {
        strings[0] = L"WriteTimeoutMs";
        strings[1] = KlFormatUlong(timeoutMs, 10, defaultText, sizeof(defaultText));
        KlWriteErrorLog(DriverObject, LPT_MSG_BAD_PARAMETER, STATUS_INVALID_PARAMETER, 0, 0, strings, 2);
    }
    return timeoutMs;
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

    KlInitString(&Extension->DosName, Extension->DosNameBuffer, sizeof(Extension->DosNameBuffer));
    if (NT_SUCCESS(KlLinkDosName(&Extension->Port, PortName, &Extension->DeviceName, &Extension->DosName))) {
        Extension->DosLinkCreated = TRUE;
        return;
    }
    KlTerminateString(PortName);
    strings[0] = PortName->Buffer;
    KlWriteErrorLog(Extension->DeviceObject, LPT_MSG_DOS_NAME_TAKEN, STATUS_OBJECT_NAME_COLLISION, 0, 2, strings, 1);
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
    KlStopWorker(&extension->Queue);
    if (extension->DosLinkCreated) {
        IoDeleteSymbolicLink(&extension->DosName);
    }
    KlDisconnectPort(&extension->Port);     /* parport takes back a name it lent us */
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

    KlInitString(&name, nameBuffer, sizeof(nameBuffer));
    status = KlCreateNumberedDevice(DriverObject, sizeof(LPT_EXTENSION), LPT_DEVICE_PREFIX, PortNumber,
                                    FILE_DEVICE_PARALLEL_PORT, &name, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    extension = LPT_EXTENSION_OF(device);
    extension->DeviceObject = device;
    extension->PortNumber = PortNumber;
    extension->WriteTimeoutMs = WriteTimeoutMs;
    KlInitString(&extension->DeviceName, extension->DeviceNameBuffer, sizeof(extension->DeviceNameBuffer));
    RtlCopyUnicodeString(&extension->DeviceName, &name);
    KlTerminateString(&extension->DeviceName);
    KlInitializeQueue(&extension->Queue);

    KlInitString(&portName, portNameBuffer, sizeof(portNameBuffer));
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
        KlWriteErrorLog(DriverObject, LPT_MSG_NO_PORTS, STATUS_NO_SUCH_DEVICE, 0, 0, NULL, 0);
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
