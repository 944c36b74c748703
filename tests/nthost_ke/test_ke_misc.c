/*
 * test_ke_misc.c — pool accounting (tags, per driver), lookaside lists, device queues,
 * the Rtl string routines, DbgPrint's NT conversions, object reference counting.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"
#include "ke_rig.h"

static void test_pool_accounting_by_tag_and_driver(void **state)
{
    (void)state;
    EXP_POOL_USAGE u;
    size_t outstanding = nthost_pool_outstanding();
    PVOID base = rig_register_fake_driver(NULL);
    PVOID a = ExAllocatePoolWithTag(NonPagedPool, 100, 'AtsT');
    PVOID b = ExAllocatePoolWithTag(PagedPool, 50, 'AtsT');
    PVOID c = ExAllocatePool(NonPagedPool, 7);
    ExpPoolUsageByTag('AtsT', &u);
    assert_int_equal(u.Allocations, 2);
    assert_int_equal(u.Bytes, 150);
    assert_int_equal(u.PagedBytes, 50);
    assert_int_equal(u.NonPagedBytes, 100);
    ExpPoolUsageByTag('enoN', &u); /* ExAllocatePool's tag */
    assert_int_equal(u.Allocations, 1);
    ExpPoolUsageByImage(base, &u);
    assert_int_equal(u.Allocations, 3);
    assert_int_equal(nthost_pool_outstanding(), outstanding + 3);
#if DBG
    assert_int_equal(((UCHAR *)a)[99], EXP_POOL_FILL_NEW); /* checked build: new pool is not zeroed */
#endif
    ExFreePoolWithTag(a, 'AtsT');
    ExFreePool(b);
    ExFreePool(c);
    ExpPoolUsageByImage(base, &u);
    assert_int_equal(u.Allocations, 0);
    assert_int_equal(nthost_pool_outstanding(), outstanding);
    rig_unregister_fake_driver();
}

static ULONG la_allocs, la_frees;
static PVOID NTAPI la_alloc(POOL_TYPE t, SIZE_T n, ULONG tag)
{
    la_allocs++;
    return ExAllocatePoolWithTag(t, n, tag);
}
static VOID NTAPI la_free(PVOID p)
{
    la_frees++;
    ExFreePool(p);
}

static void test_lookaside_list_caches_blocks(void **state)
{
    (void)state;
    NPAGED_LOOKASIDE_LIST la;
    la_allocs = la_frees = 0;
    ExInitializeNPagedLookasideList(&la, la_alloc, la_free, 0, 64, 'LkaL', 0);
    PVOID p1 = ExAllocateFromNPagedLookasideList(&la);
    PVOID p2 = ExAllocateFromNPagedLookasideList(&la);
    assert_int_equal(la_allocs, 2);
    ExFreeToNPagedLookasideList(&la, p1);
    PVOID p3 = ExAllocateFromNPagedLookasideList(&la);
    assert_ptr_equal(p3, p1); /* served from the list */
    assert_int_equal(la_allocs, 2);
    assert_int_equal(la.L.TotalAllocates, 3);
    assert_int_equal(la.L.AllocateMisses, 2);
    ExFreeToNPagedLookasideList(&la, p2);
    ExFreeToNPagedLookasideList(&la, p3);
    EXP_POOL_USAGE u;
    ExpPoolUsageByTag('LkaL', &u);
    assert_int_equal(u.Allocations, 2); /* cached blocks are still pool */
    ExDeleteNPagedLookasideList(&la);
    assert_int_equal(la_frees, 2);
    ExpPoolUsageByTag('LkaL', &u);
    assert_int_equal(u.Allocations, 0);
}

static void test_device_queue(void **state)
{
    (void)state;
    KDEVICE_QUEUE q;
    KDEVICE_QUEUE_ENTRY e[4];
    KIRQL old;
    KeInitializeDeviceQueue(&q);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_false(KeInsertDeviceQueue(&q, &e[0])); /* idle: caller starts it */
    assert_true(q.Busy);
    assert_true(KeInsertByKeyDeviceQueue(&q, &e[1], 30));
    assert_true(KeInsertByKeyDeviceQueue(&q, &e[2], 10));
    assert_true(KeInsertByKeyDeviceQueue(&q, &e[3], 20));
    assert_true(KeRemoveEntryDeviceQueue(&q, &e[3]));
    assert_false(KeRemoveEntryDeviceQueue(&q, &e[3]));
    assert_ptr_equal(KeRemoveByKeyDeviceQueue(&q, 15), &e[1]);
    assert_ptr_equal(KeRemoveDeviceQueue(&q), &e[2]);
    assert_null(KeRemoveDeviceQueue(&q));
    assert_false(q.Busy);
    KeLowerIrql(old);
}

static void test_unicode_strings(void **state)
{
    (void)state;
    UNICODE_STRING s;
    RtlInitUnicodeString(&s, L"\\Device\\DongLpt");
    assert_int_equal(s.Length, 15 * sizeof(WCHAR));
    assert_int_equal(s.MaximumLength, 16 * sizeof(WCHAR));
    WCHAR buf[24];
    UNICODE_STRING d = { 0, sizeof buf, buf };
    RtlCopyUnicodeString(&d, &s);
    UNICODE_STRING num = { 0, 8 * sizeof(WCHAR), buf + 15 };
    assert_int_equal(RtlIntegerToUnicodeString(12, 10, &num), STATUS_SUCCESS);
    assert_int_equal(RtlAppendUnicodeStringToString(&d, &num), STATUS_SUCCESS);
    UNICODE_STRING want;
    RtlInitUnicodeString(&want, L"\\device\\donglpt12");
    assert_true(RtlEqualUnicodeString(&d, &want, TRUE));
    assert_false(RtlEqualUnicodeString(&d, &want, FALSE));
    assert_true(RtlCompareUnicodeString(&d, &want, FALSE) < 0); /* 'D' < 'd' */
    assert_int_equal(RtlAppendUnicodeToString(&d, L"0123456789"), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(d.Length, 17 * sizeof(WCHAR));
    ULONG v;
    RtlInitUnicodeString(&s, L"  0x1F zz");
    assert_int_equal(RtlUnicodeStringToInteger(&s, 0, &v), STATUS_SUCCESS);
    assert_int_equal(v, 31);
    RtlInitUnicodeString(&s, L"-42");
    RtlUnicodeStringToInteger(&s, 10, &v);
    assert_int_equal((LONG)v, -42);
    WCHAR small[2];
    UNICODE_STRING tiny = { 0, sizeof small, small };
    assert_int_equal(RtlIntegerToUnicodeString(123, 10, &tiny), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(RtlUpcaseUnicodeChar(0xE9), 0xC9); /* é -> É */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0436), 0x0416); /* ж -> Ж */
    /* Regression: Ÿ (already upper case) once mapped to ŷ. */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0178), 0x0178);
    assert_int_equal(RtlUpcaseUnicodeChar(0x00FF), 0x0178); /* ÿ -> Ÿ */
    assert_int_equal(RtlUpcaseUnicodeChar(0x013A), 0x0139); /* ĺ -> Ĺ */
    assert_int_equal(RtlUpcaseUnicodeChar(0x017E), 0x017D); /* ž -> Ž */
    assert_int_equal(RtlDowncaseUnicodeChar(0x0178), 0x00FF);
}

static void test_ansi_conversion(void **state)
{
    (void)state;
    ANSI_STRING a;
    UNICODE_STRING u;
    RtlInitAnsiString(&a, "Price \x80 5");
    assert_int_equal(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    assert_int_equal(u.Length, 9 * sizeof(WCHAR));
    assert_int_equal(u.Buffer[6], 0x20AC); /* code page 1252: 0x80 is the euro sign */
    ANSI_STRING back;
    assert_int_equal(RtlUnicodeStringToAnsiString(&back, &u, TRUE), STATUS_SUCCESS);
    assert_int_equal(back.Length, 9);
    assert_memory_equal(back.Buffer, "Price \x80 5", 9);
    RtlFreeUnicodeString(&u);
    RtlFreeAnsiString(&back);
    assert_null(u.Buffer);
}

static void dbgprint_formats(void)
{
    UNICODE_STRING u;
    ANSI_STRING a;
    RtlInitUnicodeString(&u, L"D\x00F6ng");
    RtlInitAnsiString(&a, "ansi");
    DbgPrint("[%wZ|%Z|%ws|%S|%d|%08lx|%I64u|%s|%C]\n", &u, &a, L"wide", L"S", -5, 0xBEEFUL,
             (ULONGLONG)12345678901ULL, "narrow", (int)L'Z');
}

static void test_dbgprint_nt_conversions(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rig_run_child(dbgprint_formats, &out), 0);
    assert_non_null(strstr(out, "[D\xC3\xB6ng|ansi|wide|S|-5|0000beef|12345678901|narrow|Z]"));
    free(out);
}

static void corrupt_list(void)
{
    LIST_ENTRY head, a, b;
    InitializeListHead(&head);
    InsertTailList(&head, &a);
    InsertTailList(&head, &b);
    a.Blink = &b; /* corrupt */
    RemoveEntryList(&a);
}

static void test_corrupt_list_fails_fast(void **state)
{
    (void)state;
    rig_expect_bugcheck(corrupt_list, KERNEL_SECURITY_CHECK_FAILURE, FAST_FAIL_CORRUPT_LIST_ENTRY, NULL);
}

static int deleted;
static VOID delete_proc(PVOID Object)
{
    (void)Object;
    deleted++;
}
static OBJECT_TYPE test_type = { .Name = "Test", .PoolTag = 'tsTO', .DeleteProcedure = delete_proc,
                                  .WaitObjectOffset = -1 };

static void test_object_reference_counting(void **state)
{
    (void)state;
    PVOID obj;
    deleted = 0;
    assert_int_equal(ObpCreateObject(&test_type, 16, &obj), STATUS_SUCCESS);
    assert_int_equal(ObpPointerCount(obj), 1);
    assert_int_equal(ObReferenceObjectByPointer(obj, 0, &test_type, KernelMode), STATUS_SUCCESS);
    assert_int_equal(ObReferenceObjectByPointer(obj, 0, *PsThreadType, KernelMode), STATUS_OBJECT_TYPE_MISMATCH);
    HANDLE h;
    ULONG handles = ObpOpenHandleCount();
    assert_int_equal(ObpCreateHandle(obj, 0, 0, &h), STATUS_SUCCESS);
    assert_int_equal(ObpOpenHandleCount(), handles + 1);
    assert_ptr_equal(ObpGetObjectType(obj), &test_type);
    assert_true(ObpIsObjectOfType(obj, &test_type));
    assert_false(ObpIsObjectOfType(obj, *PsThreadType));
    assert_int_equal(ObpPointerCount(obj), 3);
    ObDereferenceObject(obj);
    ObDereferenceObject(obj);
    assert_int_equal(deleted, 0); /* the handle keeps it */
    assert_null(ObpWaitObject(obj));
    /* Last reference dropped at DISPATCH_LEVEL: deletion waits for PASSIVE_LEVEL. */
    ObReferenceObject(obj);
    assert_int_equal(ZwClose(h), STATUS_SUCCESS);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ObDereferenceObject(obj);
    assert_int_equal(deleted, 0);
    KeLowerIrql(old);
    assert_int_equal(deleted, 1);
    assert_int_equal(ObpLiveObjectCount(&test_type), 0);
    assert_int_equal(ObpOpenHandleCount(), handles);
}

static void test_win32_style_semaphore_object(void **state)
{
    (void)state;
    PKSEMAPHORE s;
    HANDLE h;
    assert_int_equal(ExpCreateSemaphoreObject(1, 2, &s), STATUS_SUCCESS);
    assert_int_equal(ObpCreateHandle(s, GENERIC_ALL, 0, &h), STATUS_SUCCESS);
    ObDereferenceObject(s);
    PDISPATCHER_HEADER wait = ObpWaitObject(ObpLookupHandle(h, UserMode, NULL));
    assert_ptr_equal(wait, &s->Header);
    PVOID objs[1] = { wait };
    LARGE_INTEGER zero = { .QuadPart = 0 };
    assert_int_equal(KiWaitForObjects(1, objs, WaitAny, UserRequest, UserMode, &zero, NULL, "test"), STATUS_WAIT_0);
    assert_int_equal(KiWaitForObjects(1, objs, WaitAny, UserRequest, UserMode, &zero, NULL, "test"), STATUS_TIMEOUT);
    ACCESS_MASK granted;
    ObpLookupHandle(h, UserMode, &granted);
    assert_int_equal(granted, SEMAPHORE_ALL_ACCESS); /* GENERIC_ALL mapped */
    assert_int_equal(ZwClose(h), STATUS_SUCCESS);
}

static void test_reference_object_by_name(void **state)
{
    (void)state;
    PVOID obj, found;
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\KeTestObject");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\KeTest");
    UNICODE_STRING via_link = RTL_CONSTANT_STRING(L"\\DosDevices\\KeTest");
    UNICODE_STRING dir = RTL_CONSTANT_STRING(L"\\Device");
    UNICODE_STRING missing = RTL_CONSTANT_STRING(L"\\Device\\Nope");
    UNICODE_STRING past = RTL_CONSTANT_STRING(L"\\Device\\KeTestObject\\file");
    deleted = 0;
    assert_int_equal(ObpNsInitialize(), STATUS_SUCCESS);
    assert_int_equal(ObpCreateObject(&test_type, 8, &obj), STATUS_SUCCESS);
    assert_int_equal(ObpNsInsertObject(&name, OB_NS_DEVICE, "Test", obj), STATUS_SUCCESS);
    assert_int_equal(
        ObReferenceObjectByName(&name, OBJ_CASE_INSENSITIVE, NULL, 0, &test_type, KernelMode, NULL, &found),
                     STATUS_SUCCESS);
    assert_ptr_equal(found, obj);
    assert_int_equal(ObpPointerCount(obj), 2);
    ObDereferenceObject(found);
    assert_int_equal(ObReferenceObjectByName(&name, 0, NULL, 0, *PsThreadType, KernelMode, NULL, &found),
                     STATUS_OBJECT_TYPE_MISMATCH);
    assert_int_equal(ObReferenceObjectByName(&dir, 0, NULL, 0, NULL, KernelMode, NULL, &found),
                     STATUS_OBJECT_TYPE_MISMATCH);
    assert_int_equal(ObReferenceObjectByName(&missing, 0, NULL, 0, NULL, KernelMode, NULL, &found),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(ObReferenceObjectByName(&past, 0, NULL, 0, NULL, KernelMode, NULL, &found),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(ObpNsCreateSymbolicLink(&link, &name, NULL), STATUS_SUCCESS);
    assert_int_equal(ObReferenceObjectByName(&via_link, 0, NULL, 0, &test_type, KernelMode, NULL, &found),
                     STATUS_SUCCESS);
    assert_ptr_equal(found, obj);
    ObDereferenceObject(found);
    assert_int_equal(ObpNsRemove(&link, OB_NS_SYMLINK, NULL), STATUS_SUCCESS);
    assert_int_equal(ObpPointerCount(obj), 1);
    assert_int_equal(ObpNsRemove(&name, OB_NS_DEVICE, obj), STATUS_SUCCESS);
    ObDereferenceObject(obj);
    assert_int_equal(deleted, 1);
    ObpNsTeardown();
}

static void test_random_is_reproducible(void **state)
{
    (void)state;
    ULONG s1 = 7, s2 = 7;
    ULONG a = RtlRandomEx(&s1), b = RtlRandomEx(&s1);
    assert_int_equal(RtlRandomEx(&s2), a);
    assert_int_equal(RtlRandomEx(&s2), b);
    assert_true(a != b);
    assert_true(a < MAXLONG);
    UCHAR x[4] = { 1, 2, 3, 4 }, y[4] = { 1, 2, 9, 4 };
    assert_int_equal(RtlCompareMemory(x, y, 4), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pool_accounting_by_tag_and_driver, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_lookaside_list_caches_blocks, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_device_queue, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_unicode_strings, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_ansi_conversion, rig_boot, rig_halt),
        cmocka_unit_test(test_dbgprint_nt_conversions),
        cmocka_unit_test(test_corrupt_list_fails_fast),
        cmocka_unit_test_setup_teardown(test_object_reference_counting, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_win32_style_semaphore_object, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_reference_object_by_name, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_random_is_reproducible, rig_boot, rig_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
