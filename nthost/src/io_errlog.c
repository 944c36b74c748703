/*
 * io_errlog.c — IoAllocateErrorLogEntry / IoWriteErrorLogEntry / IoFreeErrorLogEntry.
 *
 * A packet is allocated from pool charged to the calling driver (a packet neither
 * written nor freed is a leak the unload check sees), zeroed, and at most
 * ERROR_LOG_MAXIMUM_SIZE bytes. Writing it hands it to the event log — the device's
 * name becomes %1 and the packet's insertion strings %2.. — and frees it; the driver
 * must not touch the packet afterwards, as on NT.
 */
#include <ntddk.h>

#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"
#include "ex_internal.h"
#include "io_internal.h"

/* "IoEl" in pool dumps. */
#define IOP_ERRLOG_TAG ((ULONG)'I' | (ULONG)'o' << 8 | (ULONG)'E' << 16 | (ULONG)'l' << 24)
#define IOP_ERRLOG_MAGIC 0x676F4C45u /* "ELog" */

/* Bookkeeping in front of the packet the driver sees. */
typedef struct iop_errlog_header {
    ULONG Magic;
    UCHAR EntrySize;
    PVOID IoObject;
    ULONGLONG Packet[]; /* IO_ERROR_LOG_PACKET, 8-byte aligned */
} iop_errlog_header;

static iop_errlog_header *iop_errlog_header_of(PVOID Entry)
{
    iop_errlog_header *h = CONTAINING_RECORD(Entry, iop_errlog_header, Packet);
    return h->Magic == IOP_ERRLOG_MAGIC ? h : NULL;
}

/*
 * IoAllocateErrorLogEntry — a zeroed packet of EntrySize bytes for a device or driver
 * object; NULL when EntrySize exceeds ERROR_LOG_MAXIMUM_SIZE, cannot hold the packet
 * header, or pool is exhausted.
 */
PVOID NTAPI IoAllocateErrorLogEntry(PVOID IoObject, UCHAR EntrySize)
{
    if (!IoObject || EntrySize > ERROR_LOG_MAXIMUM_SIZE || EntrySize < sizeof(IO_ERROR_LOG_PACKET))
        return NULL;
    iop_errlog_header *h = ExpAllocatePoolForImage(NonPagedPool, sizeof(*h) + EntrySize, IOP_ERRLOG_TAG,
                                                   __builtin_return_address(0));
    if (!h)
        return NULL;
    memset(h, 0, sizeof(*h) + EntrySize);
    h->Magic = IOP_ERRLOG_MAGIC;
    h->EntrySize = EntrySize;
    h->IoObject = IoObject;
    return h->Packet;
}

/* IoFreeErrorLogEntry — discard a packet that will not be written. */
VOID NTAPI IoFreeErrorLogEntry(PVOID ElEntry)
{
    iop_errlog_header *h = ElEntry ? iop_errlog_header_of(ElEntry) : NULL;
    if (!h)
        return;
    h->Magic = 0;
    ExFreePoolWithTag(h, IOP_ERRLOG_TAG);
}

/* UTF-16 (bounded by `max` units) to malloc'ed UTF-8. */
static char *iop_utf8(const WCHAR *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return cm_utf16_to_utf8((const uint16_t *)s, (uint32_t)n);
}

/* The driver object behind an error-log IoObject (a device or a driver object). */
static PDRIVER_OBJECT iop_errlog_driver(PVOID IoObject)
{
    CSHORT type = ((PDEVICE_OBJECT)IoObject)->Type;
    if (type == IO_TYPE_DEVICE)
        return ((PDEVICE_OBJECT)IoObject)->DriverObject;
    return type == IO_TYPE_DRIVER ? IoObject : NULL;
}

/*
 * IoWriteErrorLogEntry — store the packet in the event log: the source is the
 * driver's service name, %1 the device's name (the driver's name for a driver
 * object or an unnamed device), then NumberOfStrings strings from StringOffset and
 * DumpDataSize bytes of dump data, all clipped to the packet. Frees the packet.
 */
VOID NTAPI IoWriteErrorLogEntry(PVOID ElEntry)
{
    iop_errlog_header *h = ElEntry ? iop_errlog_header_of(ElEntry) : NULL;
    if (!h)
        return;
    PIO_ERROR_LOG_PACKET pkt = ElEntry;
    PUCHAR base = ElEntry, end = base + h->EntrySize;
    PDRIVER_OBJECT drv = iop_errlog_driver(h->IoObject);

    char *source = NULL, *device = NULL;
    if (drv && drv->DriverExtension && drv->DriverExtension->ServiceKeyName.Buffer)
        source = iop_utf8(drv->DriverExtension->ServiceKeyName.Buffer,
                          drv->DriverExtension->ServiceKeyName.Length / sizeof(WCHAR));
    PCUNICODE_STRING devname = ((PDEVICE_OBJECT)h->IoObject)->Type == IO_TYPE_DEVICE
                                   ? IopDeviceName(h->IoObject) : NULL;
    if (devname && devname->Length)
        device = iop_utf8(devname->Buffer, devname->Length / sizeof(WCHAR));
    else if (drv)
        device = iop_utf8(drv->DriverName.Buffer, drv->DriverName.Length / sizeof(WCHAR));

    /* Strings: %1 is the device, the packet's strings follow; a string running past
     * the packet's end is cut there rather than read beyond it. */
    size_t nstrings = 1;
    char *strings[1 + ERROR_LOG_MAXIMUM_SIZE / sizeof(WCHAR)];
    strings[0] = device;
    PUCHAR s = base + pkt->StringOffset;
    for (USHORT i = 0; i < pkt->NumberOfStrings && pkt->StringOffset >= FIELD_OFFSET(IO_ERROR_LOG_PACKET, DumpData) &&
                       s + sizeof(WCHAR) <= end;
         i++) {
        size_t max = (size_t)(end - s) / sizeof(WCHAR);
        WCHAR tmp[ERROR_LOG_MAXIMUM_SIZE / sizeof(WCHAR)];
        memcpy(tmp, s, max * sizeof(WCHAR));            /* the packet need not be aligned for WCHAR */
        size_t len = 0;
        while (len < max && tmp[len])
            len++;
        strings[nstrings++] = cm_utf16_to_utf8((const uint16_t *)tmp, (uint32_t)len);
        s += (len + 1) * sizeof(WCHAR);
    }
    size_t dump_room = (size_t)(end - (PUCHAR)pkt->DumpData);
    elf_event ev = {
        .source = source ? source : "",
        .error_code = (uint32_t)pkt->ErrorCode,
        .final_status = (uint32_t)pkt->FinalStatus,
        .unique_error_value = pkt->UniqueErrorValue,
        .sequence_number = pkt->SequenceNumber,
        .io_control_code = pkt->IoControlCode,
        .event_category = pkt->EventCategory,
        .major_function = pkt->MajorFunctionCode,
        .retry_count = pkt->RetryCount,
        .device_offset = pkt->DeviceOffset.QuadPart,
        .dump_data = pkt->DumpData,
        .dump_size = pkt->DumpDataSize < dump_room ? pkt->DumpDataSize : dump_room,
        .nstrings = nstrings,
        .strings = (const char *const *)strings,
    };
    elf_log_write(&ev);
    for (size_t i = 0; i < nstrings; i++)
        free(strings[i]);
    free(source);
    IoFreeErrorLogEntry(ElEntry);
}
