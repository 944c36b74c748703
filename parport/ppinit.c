/*
 * ppinit.c - parport's DriverEntry and DriverUnload: one \Device\ParallelPortN per
 * port recorded by the firmware (nthost boot) under
 *   HARDWARE\DESCRIPTION\System\MultifunctionAdapter\0\ParallelController\<N>
 * (values Identifier, BaseAddress, Span, Interrupt; docs/INTERNALS.md), each with a
 * \DosDevices\LPTn link unless that name is taken, a HARDWARE\DEVICEMAP\PARALLEL PORTS
 * value, and a share of IoGetConfigurationInformation()->ParallelCount.
 * The driver keeps no globals: the ports are the driver object's device list.
 */
#include "parport.h"

#define PPT_DESCRIPTION_PATH \
    L"\\Registry\\Machine\\HARDWARE\\DESCRIPTION\\System\\MultifunctionAdapter\\0\\ParallelController\\"
#define PPT_DEVICEMAP_PATH      L"\\Registry\\Machine\\HARDWARE\\DEVICEMAP\\PARALLEL PORTS"
#define PPT_DEVICE_PREFIX       L"\\Device\\ParallelPort"
#define PPT_DOS_PREFIX          L"\\DosDevices\\"
#define PPT_DEFAULT_SPAN        8
#define PPT_MAX_PORTS           16      /* ParallelController subkeys looked at */

/* What the firmware recorded about one port. */
typedef struct _PPT_PORT_RECORD {
    ULONG BaseAddress;
    ULONG Span;
    ULONG Interrupt;
    UNICODE_STRING Identifier;
    WCHAR IdentifierBuffer[PPT_NAME_CHARS];
} PPT_PORT_RECORD, *PPPT_PORT_RECORD;

/* Room for a KEY_VALUE_PARTIAL_INFORMATION of a short string or a DWORD. */
typedef union _PPT_VALUE_BUFFER {
    KEY_VALUE_PARTIAL_INFORMATION Info;
    UCHAR Bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + PPT_NAME_CHARS * sizeof(WCHAR)];
} PPT_VALUE_BUFFER;

static VOID NTAPI PptUnload(PDRIVER_OBJECT DriverObject);

/*
 * PptQueryValue - read value Name of Key into Buffer, expecting Type.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_OBJECT_TYPE_MISMATCH for a value of another type.
 */
static NTSTATUS PptQueryValue(HANDLE Key, PCWSTR Name, ULONG Type, PPT_VALUE_BUFFER *Buffer)
{
    UNICODE_STRING name;
    ULONG resultLength;
    NTSTATUS status;

    RtlInitUnicodeString(&name, Name);
    status = ZwQueryValueKey(Key, &name, KeyValuePartialInformation, Buffer,
                             sizeof(*Buffer), &resultLength);
    if (NT_SUCCESS(status) && Buffer->Info.Type != Type) {
        status = STATUS_OBJECT_TYPE_MISMATCH;
    }
    return status;
}

/*
 * PptQueryDword - REG_DWORD value Name, or Default when it is absent.
 * IRQL: PASSIVE_LEVEL.
 */
static ULONG PptQueryDword(HANDLE Key, PCWSTR Name, ULONG Default, PNTSTATUS Status)
{
    PPT_VALUE_BUFFER buffer;
    NTSTATUS status = PptQueryValue(Key, Name, REG_DWORD, &buffer);

    if (status == STATUS_OBJECT_NAME_NOT_FOUND) {
        *Status = STATUS_SUCCESS;
        return Default;
    }
    *Status = status;
    if (!NT_SUCCESS(status) || buffer.Info.DataLength != sizeof(ULONG)) {
        if (NT_SUCCESS(status)) {
            *Status = STATUS_INVALID_PARAMETER;
        }
        return Default;
    }
    return *(ULONG UNALIGNED *)buffer.Info.Data;
}

/*
 * PptReadPortRecord - the firmware's record of port Index.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_OBJECT_NAME_NOT_FOUND when there is no such record (no more ports).
 */
static NTSTATUS PptReadPortRecord(ULONG Index, PPPT_PORT_RECORD Record)
{
    WCHAR pathBuffer[160];
    WCHAR numberBuffer[12];
    UNICODE_STRING path;
    UNICODE_STRING number;
    OBJECT_ATTRIBUTES attributes;
    PPT_VALUE_BUFFER value;
    HANDLE key;
    NTSTATUS status;
    NTSTATUS valueStatus;

    PptInitString(&path, pathBuffer, sizeof(pathBuffer));
    PptInitString(&number, numberBuffer, sizeof(numberBuffer));
    RtlAppendUnicodeToString(&path, PPT_DESCRIPTION_PATH);
    RtlIntegerToUnicodeString(Index, 10, &number);
    RtlAppendUnicodeStringToString(&path, &number);

    InitializeObjectAttributes(&attributes, &path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               NULL, NULL);
    status = ZwOpenKey(&key, KEY_READ, &attributes);
    if (!NT_SUCCESS(status)) {
        return status;
    }

    Record->BaseAddress = PptQueryDword(key, L"BaseAddress", 0, &status);
    if (NT_SUCCESS(status) && Record->BaseAddress == 0) {
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    }
    Record->Span = PptQueryDword(key, L"Span", PPT_DEFAULT_SPAN, &valueStatus);
    if (NT_SUCCESS(status)) {
        status = valueStatus;
    }
    Record->Interrupt = PptQueryDword(key, L"Interrupt", PPT_NO_INTERRUPT, &valueStatus);
    if (NT_SUCCESS(status)) {
        status = valueStatus;
    }

    PptInitString(&Record->Identifier, Record->IdentifierBuffer,
                              sizeof(Record->IdentifierBuffer) - sizeof(WCHAR));
    if (NT_SUCCESS(PptQueryValue(key, L"Identifier", REG_SZ, &value)) &&
        value.Info.DataLength > sizeof(WCHAR)) {
        UNICODE_STRING identifier;
        identifier.Buffer = (PWCH)value.Info.Data;
        identifier.Length = (USHORT)(value.Info.DataLength - sizeof(WCHAR));
        identifier.MaximumLength = identifier.Length;
        RtlCopyUnicodeString(&Record->Identifier, &identifier);
    } else {
        /* No name recorded: LPT<Index+1>, the name NT gives the Nth port. */
        RtlAppendUnicodeToString(&Record->Identifier, L"LPT");
        RtlIntegerToUnicodeString(Index + 1, 10, &number);
        RtlAppendUnicodeStringToString(&Record->Identifier, &number);
    }
    ZwClose(key);
    return status;
}

/*
 * PptWriteDeviceMap - HARDWARE\DEVICEMAP\PARALLEL PORTS: \Device\ParallelPortN =
 * \DosDevices\LPTn, the volatile map of which port has which DOS name.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS PptWriteDeviceMap(PPPT_EXTENSION Extension, BOOLEAN Delete)
{
    UNICODE_STRING path;
    OBJECT_ATTRIBUTES attributes;
    HANDLE key;
    NTSTATUS status;

    RtlInitUnicodeString(&path, PPT_DEVICEMAP_PATH);
    InitializeObjectAttributes(&attributes, &path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               NULL, NULL);
    status = ZwCreateKey(&key, KEY_SET_VALUE, &attributes, 0, NULL, REG_OPTION_VOLATILE, NULL);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    if (Delete) {
        status = ZwDeleteValueKey(key, &Extension->DeviceName);
    } else {
        status = ZwSetValueKey(key, &Extension->DeviceName, 0, REG_SZ, Extension->DosName.Buffer,
                               Extension->DosName.Length + sizeof(WCHAR));
    }
    ZwClose(key);
    return status;
}

/*
 * PptDeletePort - undo PptCreatePort for one device: links, map value, count, device.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID PptDeletePort(PDEVICE_OBJECT DeviceObject)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)DeviceObject->DeviceExtension;

    ASSERT(IsListEmpty(&extension->WaitQueue));
    if (extension->DeviceMapWritten) {
        PptWriteDeviceMap(extension, TRUE);
    }
    if (extension->DosLinkCreated) {
        IoDeleteSymbolicLink(&extension->DosName);
    }
    IoGetConfigurationInformation()->ParallelCount--;
    IoDeleteDevice(DeviceObject);
}

/*
 * PptCreatePort - \Device\ParallelPort<Index> for Record: probe the chip, create the
 * device, take the DOS name if it is free, publish the map value.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS PptCreatePort(PDRIVER_OBJECT DriverObject, ULONG Index, PPPT_PORT_RECORD Record)
{
    WCHAR nameBuffer[PPT_NAME_CHARS];
    WCHAR numberBuffer[12];
    UNICODE_STRING name;
    UNICODE_STRING number;
    PDEVICE_OBJECT device;
    PPPT_EXTENSION extension;
    NTSTATUS status;

    PptInitString(&name, nameBuffer, sizeof(nameBuffer));
    PptInitString(&number, numberBuffer, sizeof(numberBuffer));
    RtlAppendUnicodeToString(&name, PPT_DEVICE_PREFIX);
    RtlIntegerToUnicodeString(Index, 10, &number);
    RtlAppendUnicodeStringToString(&name, &number);

    status = IoCreateDevice(DriverObject, sizeof(PPT_EXTENSION), &name, FILE_DEVICE_PARALLEL_PORT,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    extension = (PPPT_EXTENSION)device->DeviceExtension;
    RtlZeroMemory(extension, sizeof(*extension));
    extension->DeviceObject = device;
    extension->PortIndex = Index;
    extension->OriginalController.QuadPart = Record->BaseAddress;
    extension->Controller = (PUCHAR)(ULONG_PTR)Record->BaseAddress;
    extension->SpanOfController = Record->Span;
    extension->Interrupt = Record->Interrupt;
    KeInitializeSpinLock(&extension->Lock);
    extension->AllocCount = PPT_ALLOC_FREE;
    InitializeListHead(&extension->WaitQueue);

    PptInitString(&extension->DeviceName, extension->DeviceNameBuffer,
                              sizeof(extension->DeviceNameBuffer) - sizeof(WCHAR));
    RtlCopyUnicodeString(&extension->DeviceName, &name);
    PptInitString(&extension->PortName, extension->PortNameBuffer,
                              sizeof(extension->PortNameBuffer) - sizeof(WCHAR));
    RtlCopyUnicodeString(&extension->PortName, &Record->Identifier);
    PptInitString(&extension->DosName, extension->DosNameBuffer,
                              sizeof(extension->DosNameBuffer) - sizeof(WCHAR));
    RtlAppendUnicodeToString(&extension->DosName, PPT_DOS_PREFIX);
    RtlAppendUnicodeStringToString(&extension->DosName, &extension->PortName);

    IoGetConfigurationInformation()->ParallelCount++;
    extension->HardwareCapabilities = ParProbeCapabilities(extension->Controller);

    /* Another driver loaded earlier may own the DOS name: the port works without it. */
    status = IoCreateSymbolicLink(&extension->DosName, &extension->DeviceName);
    extension->DosLinkCreated = NT_SUCCESS(status);
    if (extension->DosLinkCreated) {
        extension->DeviceMapWritten = NT_SUCCESS(PptWriteDeviceMap(extension, FALSE));
    } else {
        KdPrint(("parport: port %lu: its DOS name is taken (0x%08lX)\n",
                 (unsigned long)Index, (unsigned long)status));
    }

    device->Flags &= ~DO_DEVICE_INITIALIZING;
    KdPrint(("parport: port %lu at 0x%lX span %lu, capabilities 0x%lX\n", (unsigned long)Index,
             (unsigned long)Record->BaseAddress, (unsigned long)Record->Span,
             (unsigned long)extension->HardwareCapabilities));
    return STATUS_SUCCESS;
}

/*
 * PptDeleteAllPorts - delete every port device of the driver.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID PptDeleteAllPorts(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;

    /* A device still referenced stays on the list after IoDeleteDevice (it goes with
       its last reference): walk the list rather than wait for it to empty. */
    while (device != NULL) {
        PDEVICE_OBJECT next = device->NextDevice;
        PptDeletePort(device);
        device = next;
    }
}

/*
 * DriverEntry - parport's entry point: dispatch table, then one device per recorded
 * port. A record with a register span too small for DATA, STATUS and CONTROL is
 * skipped (logged in the checked build); devices are numbered without gaps, because
 * clients open ParallelPort0 .. ParallelCount-1.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_NO_SUCH_DEVICE when the machine has no usable parallel port, so
 * the service does not stay loaded for nothing.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PPT_PORT_RECORD record;
    ULONG index;
    ULONG created = 0;
    NTSTATUS status = STATUS_SUCCESS;

    UNREFERENCED_PARAMETER(RegistryPath);

    DriverObject->MajorFunction[IRP_MJ_CREATE] = PptDispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PptDispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = PptDispatchCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PptDispatchDeviceControl;
    DriverObject->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = PptDispatchInternalDeviceControl;
    DriverObject->DriverUnload = PptUnload;

    for (index = 0; index < PPT_MAX_PORTS; index++) {
        status = PptReadPortRecord(index, &record);
        if (status == STATUS_OBJECT_NAME_NOT_FOUND) {
            status = STATUS_SUCCESS;
            break;
        }
        if (!NT_SUCCESS(status)) {
            break;
        }
        if (record.Span < PAR_MIN_SPAN) {
            KdPrint(("parport: port record %lu: span %lu is too small\n", (unsigned long)index,
                     (unsigned long)record.Span));
            continue;
        }
        status = PptCreatePort(DriverObject, created, &record);
        if (!NT_SUCCESS(status)) {
            break;
        }
        created++;
    }

    if (NT_SUCCESS(status) && DriverObject->DeviceObject == NULL) {
        status = STATUS_NO_SUCH_DEVICE;
    }
    if (!NT_SUCCESS(status)) {
        PptDeleteAllPorts(DriverObject);
    }
    return status;
}

/*
 * PptUnload - DriverUnload: every device, link, map value and ParallelCount share
 * goes. Clients must have freed the ports and closed their handles first (their
 * references keep a device object alive until then, as on NT).
 * IRQL: PASSIVE_LEVEL.
 */
static VOID NTAPI PptUnload(PDRIVER_OBJECT DriverObject)
{
    PptDeleteAllPorts(DriverObject);
}
