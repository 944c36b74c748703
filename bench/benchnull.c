/*
 * benchnull.c - BenchNull, the null driver of the benchmarks (service BenchNull,
 * benchnull.reg): \Device\BenchNull, linked as \DosDevices\BenchNull, completes
 * IOCTL_BENCHNULL_NOTHING in its dispatch routine without touching any hardware.
 */
#include <ntddk.h>
#include "benchnull.h"

/*
 * NullComplete - complete Irp with Status and no data.
 * IRQL: <= DISPATCH_LEVEL. Returns Status.
 */
static NTSTATUS NullComplete(PIRP Irp, NTSTATUS Status)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/*
 * NullCreateClose - IRP_MJ_CREATE and IRP_MJ_CLOSE: nothing to set up or tear down.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS NTAPI NullCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return NullComplete(Irp, STATUS_SUCCESS);
}

/*
 * NullDeviceControl - IOCTL_BENCHNULL_NOTHING succeeds at once; other codes are
 * STATUS_INVALID_DEVICE_REQUEST.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS NTAPI NullDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);

    UNREFERENCED_PARAMETER(DeviceObject);
    if (stack->Parameters.DeviceIoControl.IoControlCode != IOCTL_BENCHNULL_NOTHING) {
        return NullComplete(Irp, STATUS_INVALID_DEVICE_REQUEST);
    }
    return NullComplete(Irp, STATUS_SUCCESS);
}

/*
 * NullUnload - delete the link and the device.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI NullUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link;

    RtlInitUnicodeString(&link, BENCHNULL_DOS_NAME_U);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

/*
 * DriverEntry - create \Device\BenchNull and its DOS name.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name, link;
    PDEVICE_OBJECT device;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    RtlInitUnicodeString(&name, BENCHNULL_DEVICE_NAME_U);
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    RtlInitUnicodeString(&link, BENCHNULL_DOS_NAME_U);
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = NullCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = NullCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = NullDeviceControl;
    DriverObject->DriverUnload = NullUnload;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
