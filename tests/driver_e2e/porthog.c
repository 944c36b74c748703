/*
 * porthog.c - another parport client for the DongLpt end-to-end tests (service
 * PortHog): it takes \Device\ParallelPort0 with TryAllocatePort when it starts and
 * gives it back when it stops, the way a printer driver holds the port while it
 * prints. Its start fails with STATUS_DEVICE_BUSY when the port is not free, which
 * is how the tests see whether DongLpt holds it.
 */
#include <ntddk.h>
#include <parallel.h>

typedef struct _HOG_EXTENSION {
    PFILE_OBJECT PortFile;
    PARALLEL_PORT_INFORMATION PortInfo;
} HOG_EXTENSION, *PHOG_EXTENSION;

/*
 * HogUnload - give the port back (parport hands it to its oldest waiter).
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI HogUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PHOG_EXTENSION hog = (PHOG_EXTENSION)device->DeviceExtension;

    hog->PortInfo.FreePort(hog->PortInfo.Context);
    ObDereferenceObject(hog->PortFile);
    IoDeleteDevice(device);
}

/*
 * HogGetPortInfo - GET_PARALLEL_PORT_INFO from the port.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS HogGetPortInfo(PDEVICE_OBJECT Port, PFILE_OBJECT File, PPARALLEL_PORT_INFORMATION Info)
{
    KEVENT event;
    IO_STATUS_BLOCK ioStatus;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO, Port, NULL, 0, Info,
                                        sizeof(*Info), TRUE, &event, &ioStatus);
    if (irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    IoGetNextIrpStackLocation(irp)->FileObject = File;
    status = IoCallDriver(Port, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = ioStatus.Status;
    }
    return status;
}

/*
 * DriverEntry - take port 0 now or fail.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name;
    PDEVICE_OBJECT device;
    PDEVICE_OBJECT port;
    PHOG_EXTENSION hog;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(HOG_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    hog = (PHOG_EXTENSION)device->DeviceExtension;
    RtlInitUnicodeString(&name, L"\\Device\\ParallelPort0");
    status = IoGetDeviceObjectPointer(&name, FILE_READ_ATTRIBUTES, &hog->PortFile, &port);
    if (NT_SUCCESS(status)) {
        status = HogGetPortInfo(port, hog->PortFile, &hog->PortInfo);
        if (NT_SUCCESS(status) && !hog->PortInfo.TryAllocatePort(hog->PortInfo.Context)) {
            status = STATUS_DEVICE_BUSY;
        }
        if (!NT_SUCCESS(status)) {
            ObDereferenceObject(hog->PortFile);
        }
    }
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->DriverUnload = HogUnload;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
