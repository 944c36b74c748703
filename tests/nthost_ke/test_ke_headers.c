/*
 * test_ke_headers.c — NT facts the DDK headers must get right: sizes of the base
 * types, status codes and their classes, IOCTL codes, IRP and stack-location helpers,
 * list routines, parallel-port interface values. (Pure header checks: no kernel.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <parallel.h>

_Static_assert(sizeof(WCHAR) == 2, "WCHAR");
_Static_assert(sizeof(L"ab") == 6, "L\"\" literals are UTF-16");
_Static_assert(sizeof(ULONG) == 4 && sizeof(LONG) == 4 && sizeof(USHORT) == 2, "LLP64 integers");
_Static_assert(sizeof(LARGE_INTEGER) == 8 && sizeof(ULONG_PTR) == sizeof(PVOID), "pointer-sized");
_Static_assert(IRP_MJ_MAXIMUM_FUNCTION == 0x1b && RTL_NUMBER_OF(((DRIVER_OBJECT *)0)->MajorFunction) == 28,
               "28 major functions");

static void test_status_values_and_classes(void **state)
{
    (void)state;
    assert_int_equal((ULONG)STATUS_TIMEOUT, 0x102);
    assert_true(NT_SUCCESS(STATUS_TIMEOUT));
    assert_true(NT_SUCCESS(STATUS_PENDING));
    assert_int_equal((ULONG)STATUS_DEVICE_PAPER_EMPTY, 0x8000000E);
    assert_int_equal((ULONG)STATUS_DEVICE_POWERED_OFF, 0x8000000F);
    assert_int_equal((ULONG)STATUS_DEVICE_OFF_LINE, 0x80000010);
    assert_int_equal((ULONG)STATUS_DEVICE_BUSY, 0x80000011);
    assert_true(NT_WARNING(STATUS_DEVICE_BUSY) && !NT_SUCCESS(STATUS_DEVICE_BUSY) && !NT_ERROR(STATUS_DEVICE_BUSY));
    assert_int_equal((ULONG)STATUS_DEVICE_NOT_CONNECTED, 0xC000009D);
    assert_int_equal((ULONG)STATUS_IO_TIMEOUT, 0xC00000B5);
    assert_int_equal((ULONG)STATUS_CANCELLED, 0xC0000120);
    assert_int_equal((ULONG)STATUS_MORE_PROCESSING_REQUIRED, 0xC0000016);
    assert_int_equal((ULONG)STATUS_INSUFFICIENT_RESOURCES, 0xC000009A);
    assert_int_equal((ULONG)STATUS_BUFFER_OVERFLOW, 0x80000005);
    assert_int_equal((ULONG)STATUS_BUFFER_TOO_SMALL, 0xC0000023);
    assert_true(NT_ERROR(STATUS_IO_TIMEOUT));
    assert_true(NT_INFORMATION(STATUS_OBJECT_NAME_EXISTS));
}

static void test_ioctl_codes(void **state)
{
    (void)state;
    assert_int_equal(IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO, 0x160030);
    assert_int_equal(IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE, 0x16002C);
    assert_int_equal(IOCTL_INTERNAL_PARALLEL_PORT_FREE, 0x1600A0);
    assert_int_equal(IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO, 0x160054);
    assert_int_equal(IOCTL_PAR_QUERY_INFORMATION, 0x160004);
    assert_int_equal(IOCTL_PAR_PING, IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE); /* dispatch on (major, code) */
    assert_int_equal(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_OUT_DIRECT, FILE_READ_ACCESS | FILE_WRITE_ACCESS),
                     0x22E002);
    assert_int_equal(METHOD_FROM_CTL_CODE(0x22E002), METHOD_OUT_DIRECT);
    assert_int_equal(DEVICE_TYPE_FROM_CTL_CODE(0x160030), FILE_DEVICE_PARALLEL_PORT);
    assert_int_equal(PARALLEL_PAPER_EMPTY | PARALLEL_OFF_LINE | PARALLEL_BUSY | PARALLEL_SELECTED, 0xCC);
    assert_int_equal(PPT_ECP_PRESENT | PPT_EPP_PRESENT | PPT_BYTE_PRESENT, 0xB);
    assert_int_equal(PPT_BIDI_PRESENT, PPT_BYTE_PRESENT);
}

static void test_irp_stack_helpers(void **state)
{
    (void)state;
    struct {
        IRP irp;
        IO_STACK_LOCATION stack[2];
    } packet;
    memset(&packet, 0, sizeof packet);
    PIRP irp = &packet.irp;
    irp->StackCount = 2;
    irp->CurrentLocation = 3; /* as IoAllocateIrp leaves it: none current yet */
    irp->Tail.Overlay.CurrentStackLocation = &packet.stack[2];
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_DEVICE_CONTROL;
    IoGetNextIrpStackLocation(irp)->Parameters.DeviceIoControl.IoControlCode = 0x1234;
    IoSetNextIrpStackLocation(irp); /* what IoCallDriver does */
    assert_int_equal(irp->CurrentLocation, 2);
    assert_ptr_equal(IoGetCurrentIrpStackLocation(irp), &packet.stack[1]);
    IoCopyCurrentIrpStackLocationToNext(irp);
    assert_int_equal(packet.stack[0].Parameters.DeviceIoControl.IoControlCode, 0x1234);
    IoSetCompletionRoutine(irp, NULL, (PVOID)5, TRUE, FALSE, TRUE);
    assert_int_equal(packet.stack[0].Control, SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_CANCEL);
    assert_ptr_equal(packet.stack[0].Context, (PVOID)5);
    IoMarkIrpPending(irp);
    assert_int_equal(packet.stack[1].Control & SL_PENDING_RETURNED, SL_PENDING_RETURNED);
    assert_null(IoSetCancelRoutine(irp, (PDRIVER_CANCEL)(ULONG_PTR)0x10));
    assert_ptr_equal(IoSetCancelRoutine(irp, NULL), (PVOID)0x10);
    assert_int_equal(IoSizeOfIrp(2), sizeof(IRP) + 2 * sizeof(IO_STACK_LOCATION));
}

typedef struct {
    ULONG v;
    LIST_ENTRY link;
} item;

static void test_list_routines(void **state)
{
    (void)state;
    LIST_ENTRY head;
    item a = { .v = 1 }, b = { .v = 2 }, c = { .v = 3 };
    InitializeListHead(&head);
    assert_true(IsListEmpty(&head));
    InsertTailList(&head, &a.link);
    InsertTailList(&head, &b.link);
    InsertHeadList(&head, &c.link);
    assert_int_equal(CONTAINING_RECORD(head.Flink, item, link)->v, 3);
    assert_int_equal(CONTAINING_RECORD(RemoveTailList(&head), item, link)->v, 2);
    assert_false(RemoveEntryList(&c.link));
    assert_true(RemoveEntryList(&a.link)); /* TRUE: now empty */
    assert_int_equal(FIELD_OFFSET(item, link), offsetof(item, link));
    SINGLE_LIST_ENTRY s = { NULL }, x;
    PushEntryList(&s, &x);
    assert_ptr_equal(PopEntryList(&s), &x);
    assert_null(PopEntryList(&s));
    LONG volatile n = 5;
    assert_int_equal(InterlockedIncrement(&n), 6);
    assert_int_equal(InterlockedCompareExchange(&n, 9, 6), 6);
    assert_int_equal(InterlockedExchange(&n, 1), 9);
    UNICODE_STRING u = RTL_CONSTANT_STRING(L"\\??\\LPT1");
    assert_int_equal(u.Length, 8 * sizeof(WCHAR));
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &u, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    assert_int_equal(oa.Length, sizeof(OBJECT_ATTRIBUTES));
    assert_int_equal(oa.Attributes, 0x240);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_values_and_classes),
        cmocka_unit_test(test_ioctl_codes),
        cmocka_unit_test(test_irp_stack_helpers),
        cmocka_unit_test(test_list_routines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
