/*
 * porthog.c - another parport client for the DongLpt end-to-end tests (service
 * PortHog): it takes \Device\ParallelPort0 with TryAllocatePort when it starts and
 * gives it back when it stops, the way a printer driver holds the port while it
 * prints. Its start fails with STATUS_DEVICE_BUSY when the port is not free, which
 * is how the tests see whether DongLpt holds it.
 */
#include <ntddk.h>
#include "ddklib.h"

typedef struct _HOG_EXTENSION {
    KL_PORT Port;
} HOG_EXTENSION, *PHOG_EXTENSION;

/*
 * HogUnload - give the port back (parport hands it to its oldest waiter).
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI HogUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PHOG_EXTENSION hog = (PHOG_EXTENSION)device->DeviceExtension;

    hog->Port.Info.FreePort(hog->Port.Info.Context);
    KlDisconnectPort(&hog->Port);
    IoDeleteDevice(device);
}

/*
 * DriverEntry - take port 0 now or fail.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PDEVICE_OBJECT device;
    PHOG_EXTENSION hog;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(HOG_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    hog = (PHOG_EXTENSION)device->DeviceExtension;
    status = KlConnectPort(&hog->Port, 0);
    if (NT_SUCCESS(status) && !hog->Port.Info.TryAllocatePort(hog->Port.Info.Context)) {
        KlDisconnectPort(&hog->Port);
        status = STATUS_DEVICE_BUSY;
    }
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->DriverUnload = HogUnload;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
