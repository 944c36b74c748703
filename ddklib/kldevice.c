/*
 * kldevice.c - a port's device object: named <Prefix><N> after the parport port it
 * serves, buffered I/O, a zeroed extension.
 */
#include "ddklib.h"

/*
 * KlCreateNumberedDevice - IoCreateDevice named <Prefix><Number> (e.g.
 * \Device\DongLpt0), not exclusive, FILE_DEVICE_SECURE_OPEN, with DO_BUFFERED_IO and
 * an extension of ExtensionSize bytes zeroed. Name is an empty string over the
 * caller's buffer (KlInitString) and receives the name, NUL-terminated. The device
 * stays DO_DEVICE_INITIALIZING until the caller clears it.
 * IRQL: PASSIVE_LEVEL.
 * Returns the status of IoCreateDevice (*Device is set only on success).
 */
NTSTATUS KlCreateNumberedDevice(PDRIVER_OBJECT DriverObject, ULONG ExtensionSize, PCWSTR Prefix, ULONG Number,
                                DEVICE_TYPE DeviceType, PUNICODE_STRING Name, PDEVICE_OBJECT *Device)
{
    PDEVICE_OBJECT device;
    NTSTATUS status;

    RtlAppendUnicodeToString(Name, Prefix);
    KlAppendDecimal(Name, Number);
    status = IoCreateDevice(DriverObject, ExtensionSize, Name, DeviceType, FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    RtlZeroMemory(device->DeviceExtension, ExtensionSize);
    *Device = device;
    return STATUS_SUCCESS;
}
