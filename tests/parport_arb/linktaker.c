/*
 * linktaker.c - a driver that owns \DosDevices\LPT2 before parport loads (service
 * LinkTaker), as a printer class driver loaded in an earlier group would: parport
 * must leave the name alone, and must not delete it when it unloads.
 */
#include <ntddk.h>

/*
 * TakerUnload - give the name back.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI TakerUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link;

    RtlInitUnicodeString(&link, L"\\DosDevices\\LPT2");
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

/*
 * DriverEntry - \Device\LinkTaker, linked as \DosDevices\LPT2.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name;
    UNICODE_STRING link;
    PDEVICE_OBJECT device;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    RtlInitUnicodeString(&name, L"\\Device\\LinkTaker");
    RtlInitUnicodeString(&link, L"\\DosDevices\\LPT2");
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->DriverUnload = TakerUnload;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
