/*
 * test_rtl_status.c — RtlNtStatusToDosError pins: every status the project's drivers
 * and nthost return, the common ones, and the rules beside the table (success,
 * customer codes, NTSTATUS_FROM_WIN32 / HRESULT_FROM_WIN32, unknown codes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <ntdef.h>
#include <ntstatus.h>

ULONG NTAPI RtlNtStatusToDosError(NTSTATUS Status);

/* Win32 codes, named as in winerror.h (values written out so the test does not share
 * a header with the implementation). */
enum {
    NO_ERROR = 0,
    W_INVALID_FUNCTION = 1,
    W_FILE_NOT_FOUND = 2,
    W_PATH_NOT_FOUND = 3,
    W_ACCESS_DENIED = 5,
    W_INVALID_HANDLE = 6,
    W_NOT_ENOUGH_MEMORY = 8,
    W_NOT_READY = 21,
    W_BAD_COMMAND = 22,
    W_CRC = 23,
    W_BAD_LENGTH = 24,
    W_OUT_OF_PAPER = 28,
    W_GEN_FAILURE = 31,
    W_SHARING_VIOLATION = 32,
    W_HANDLE_EOF = 38,
    W_NOT_SUPPORTED = 50,
    W_DEV_NOT_EXIST = 55,
    W_UNEXP_NET_ERR = 59,
    W_INVALID_PARAMETER = 87,
    W_SEM_TIMEOUT = 121,
    W_INSUFFICIENT_BUFFER = 122,
    W_INVALID_NAME = 123,
    W_PROC_NOT_FOUND = 127,
    W_BUSY = 170,
    W_ALREADY_EXISTS = 183,
    W_BAD_EXE_FORMAT = 193,
    W_MORE_DATA = 234,
    W_NO_MORE_ITEMS = 259,
    W_MR_MID_NOT_FOUND = 317,
    W_OPERATION_ABORTED = 995,
    W_IO_PENDING = 997,
    W_NOACCESS = 998,
    W_KEY_DELETED = 1018,
    W_KEY_HAS_CHILDREN = 1020,
    W_SERVICE_ALREADY_RUNNING = 1056,
    W_IO_DEVICE = 1117,
    W_DEVICE_NOT_CONNECTED = 1167,
    W_NOT_FOUND = 1168,
    W_NO_SYSTEM_RESOURCES = 1450,
    W_TIMEOUT = 1460,
    W_INVALID_USER_BUFFER = 1784,
    W_UNRECOGNIZED_MEDIA = 1785,
    W_BAD_DRIVER = 2001,
};

static const struct {
    uint32_t status;
    uint32_t error;
    const char *what;
} pairs[] = {
    /* the brief's pins */
    { STATUS_DEVICE_NOT_CONNECTED, W_DEVICE_NOT_CONNECTED, "DEVICE_NOT_CONNECTED" },
    { STATUS_IO_TIMEOUT, W_SEM_TIMEOUT, "IO_TIMEOUT" },
    { STATUS_CANCELLED, W_OPERATION_ABORTED, "CANCELLED" },
    { STATUS_DEVICE_PAPER_EMPTY, W_OUT_OF_PAPER, "DEVICE_PAPER_EMPTY" },
    { STATUS_DEVICE_OFF_LINE, W_NOT_READY, "DEVICE_OFF_LINE" },
    { STATUS_DEVICE_BUSY, W_BUSY, "DEVICE_BUSY" },
    { STATUS_DEVICE_POWERED_OFF, W_NOT_READY, "DEVICE_POWERED_OFF" },
    { STATUS_CRC_ERROR, W_CRC, "CRC_ERROR" },
    { STATUS_DATA_OVERRUN, W_IO_DEVICE, "DATA_OVERRUN" },
    { STATUS_BUFFER_TOO_SMALL, W_INSUFFICIENT_BUFFER, "BUFFER_TOO_SMALL" },
    { STATUS_BUFFER_OVERFLOW, W_MORE_DATA, "BUFFER_OVERFLOW" },
    { STATUS_INVALID_DEVICE_REQUEST, W_INVALID_FUNCTION, "INVALID_DEVICE_REQUEST" },
    { STATUS_ACCESS_DENIED, W_ACCESS_DENIED, "ACCESS_DENIED" },
    { STATUS_PENDING, W_IO_PENDING, "PENDING" },
    { STATUS_TIMEOUT, W_TIMEOUT, "TIMEOUT" },
    /* common ones and those nthost itself returns */
    { STATUS_UNSUCCESSFUL, W_GEN_FAILURE, "UNSUCCESSFUL" },
    { STATUS_NOT_IMPLEMENTED, W_INVALID_FUNCTION, "NOT_IMPLEMENTED" },
    { STATUS_INFO_LENGTH_MISMATCH, W_BAD_LENGTH, "INFO_LENGTH_MISMATCH" },
    { STATUS_ACCESS_VIOLATION, W_NOACCESS, "ACCESS_VIOLATION" },
    { STATUS_INVALID_HANDLE, W_INVALID_HANDLE, "INVALID_HANDLE" },
    { STATUS_INVALID_PARAMETER, W_INVALID_PARAMETER, "INVALID_PARAMETER" },
    { STATUS_INVALID_PARAMETER_3, W_INVALID_PARAMETER, "INVALID_PARAMETER_3" },
    { STATUS_NO_SUCH_DEVICE, W_FILE_NOT_FOUND, "NO_SUCH_DEVICE" },
    { STATUS_NO_SUCH_FILE, W_FILE_NOT_FOUND, "NO_SUCH_FILE" },
    { STATUS_END_OF_FILE, W_HANDLE_EOF, "END_OF_FILE" },
    { STATUS_NO_MEMORY, W_NOT_ENOUGH_MEMORY, "NO_MEMORY" },
    { STATUS_OBJECT_TYPE_MISMATCH, W_INVALID_HANDLE, "OBJECT_TYPE_MISMATCH" },
    { STATUS_OBJECT_NAME_INVALID, W_INVALID_NAME, "OBJECT_NAME_INVALID" },
    { STATUS_OBJECT_NAME_NOT_FOUND, W_FILE_NOT_FOUND, "OBJECT_NAME_NOT_FOUND" },
    { STATUS_OBJECT_NAME_COLLISION, W_ALREADY_EXISTS, "OBJECT_NAME_COLLISION" },
    { STATUS_OBJECT_PATH_NOT_FOUND, W_PATH_NOT_FOUND, "OBJECT_PATH_NOT_FOUND" },
    { STATUS_SHARING_VIOLATION, W_SHARING_VIOLATION, "SHARING_VIOLATION" },
    { STATUS_INSUFFICIENT_RESOURCES, W_NO_SYSTEM_RESOURCES, "INSUFFICIENT_RESOURCES" },
    { STATUS_DEVICE_DATA_ERROR, W_CRC, "DEVICE_DATA_ERROR" },
    { STATUS_DEVICE_NOT_READY, W_NOT_READY, "DEVICE_NOT_READY" },
    { STATUS_DEVICE_POWER_FAILURE, W_NOT_READY, "DEVICE_POWER_FAILURE" },
    { STATUS_NOT_SUPPORTED, W_NOT_SUPPORTED, "NOT_SUPPORTED" },
    { STATUS_DEVICE_DOES_NOT_EXIST, W_DEV_NOT_EXIST, "DEVICE_DOES_NOT_EXIST" },
    { STATUS_INVALID_USER_BUFFER, W_INVALID_USER_BUFFER, "INVALID_USER_BUFFER" },
    { STATUS_INVALID_BUFFER_SIZE, W_INVALID_USER_BUFFER, "INVALID_BUFFER_SIZE" },
    { STATUS_CANNOT_DELETE, W_ACCESS_DENIED, "CANNOT_DELETE" },
    { STATUS_KEY_DELETED, W_KEY_DELETED, "KEY_DELETED" },
    { STATUS_KEY_HAS_CHILDREN, W_KEY_HAS_CHILDREN, "KEY_HAS_CHILDREN" },
    { STATUS_INVALID_DEVICE_STATE, W_BAD_COMMAND, "INVALID_DEVICE_STATE" },
    { STATUS_IO_DEVICE_ERROR, W_IO_DEVICE, "IO_DEVICE_ERROR" },
    { STATUS_DEVICE_PROTOCOL_ERROR, W_IO_DEVICE, "DEVICE_PROTOCOL_ERROR" },
    { STATUS_DRIVER_INTERNAL_ERROR, W_IO_DEVICE, "DRIVER_INTERNAL_ERROR" },
    { STATUS_DEVICE_CONFIGURATION_ERROR, W_INVALID_PARAMETER, "DEVICE_CONFIGURATION_ERROR" },
    { STATUS_NOT_FOUND, W_NOT_FOUND, "NOT_FOUND" },
    { STATUS_NO_MORE_ENTRIES, W_NO_MORE_ITEMS, "NO_MORE_ENTRIES" },
    { STATUS_MORE_PROCESSING_REQUIRED, W_MORE_DATA, "MORE_PROCESSING_REQUIRED" },
    { STATUS_INVALID_IMAGE_FORMAT, W_BAD_EXE_FORMAT, "INVALID_IMAGE_FORMAT" },
    { STATUS_DRIVER_ENTRYPOINT_NOT_FOUND, W_PROC_NOT_FOUND, "DRIVER_ENTRYPOINT_NOT_FOUND" },
    { STATUS_DRIVER_UNABLE_TO_LOAD, W_BAD_DRIVER, "DRIVER_UNABLE_TO_LOAD" },
    { STATUS_IMAGE_ALREADY_LOADED, W_SERVICE_ALREADY_RUNNING, "IMAGE_ALREADY_LOADED" },
    { STATUS_UNRECOGNIZED_MEDIA, W_UNRECOGNIZED_MEDIA, "UNRECOGNIZED_MEDIA" },
    { STATUS_INVALID_ADDRESS, W_UNEXP_NET_ERR, "INVALID_ADDRESS" },
    { STATUS_NO_MEDIA_IN_DEVICE, W_NOT_READY, "NO_MEDIA_IN_DEVICE" },
};

static void pinned_pairs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        ULONG got = RtlNtStatusToDosError((NTSTATUS)pairs[i].status);
        if (got != pairs[i].error)
            fail_msg("STATUS_%s (0x%08X): got %u, want %u", pairs[i].what, (unsigned)pairs[i].status,
                     (unsigned)got, (unsigned)pairs[i].error);
    }
}

static void rules_beside_the_table(void **state)
{
    (void)state;
    assert_int_equal(RtlNtStatusToDosError(STATUS_SUCCESS), NO_ERROR);
    /* Unknown codes, success codes without a mapping included. */
    assert_int_equal(RtlNtStatusToDosError((NTSTATUS)0xC0FF0001u), W_MR_MID_NOT_FOUND);
    assert_int_equal(RtlNtStatusToDosError(STATUS_WAIT_1), W_MR_MID_NOT_FOUND);
    assert_int_equal(RtlNtStatusToDosError(STATUS_TIMER_NOT_CANCELED), W_MR_MID_NOT_FOUND);
    /* Customer codes pass through unchanged. */
    assert_int_equal(RtlNtStatusToDosError((NTSTATUS)0xE0040001u), 0xE0040001u);
    /* NTSTATUS_FROM_WIN32 and HRESULT_FROM_WIN32 carry the Win32 code. */
    assert_int_equal(RtlNtStatusToDosError((NTSTATUS)0xC0070020u), W_SHARING_VIOLATION);
    assert_int_equal(RtlNtStatusToDosError((NTSTATUS)0x80070005u), W_ACCESS_DENIED);
    /* Exception codes that are their own Win32 code. */
    assert_int_equal(RtlNtStatusToDosError(STATUS_BREAKPOINT), (ULONG)STATUS_BREAKPOINT);
    assert_int_equal(RtlNtStatusToDosError(STATUS_INTEGER_DIVIDE_BY_ZERO), (ULONG)STATUS_INTEGER_DIVIDE_BY_ZERO);
}

/* Every status nthost's ntstatus.h defines: each has a Win32 code unless NT itself
 * has none (then ERROR_MR_MID_NOT_FOUND). A status added to the header without a
 * mapping fails here until it is mapped or shown to be unmapped on NT too. */
static void every_defined_status(void **state)
{
    (void)state;
    static const char *const unmapped_on_nt[] = {
        "STATUS_WAIT_1", "STATUS_WAIT_2", "STATUS_WAIT_3", "STATUS_WAIT_63", "STATUS_ABANDONED",
        "STATUS_ABANDONED_WAIT_0", "STATUS_ABANDONED_WAIT_63", "STATUS_USER_APC", "STATUS_KERNEL_APC",
        "STATUS_ALERTED", "STATUS_REPARSE", "STATUS_OPLOCK_BREAK_IN_PROGRESS", "STATUS_VOLUME_MOUNTED",
        "STATUS_NOTIFY_CLEANUP", "STATUS_OBJECT_NAME_EXISTS", "STATUS_THREAD_WAS_SUSPENDED",
        "STATUS_IMAGE_NOT_AT_BASE", "STATUS_HANDLES_CLOSED", "STATUS_MEDIA_CHECK", "STATUS_TIMER_NOT_CANCELED",
        "STATUS_DEVICE_ALREADY_ATTACHED", "STATUS_UNEXPECTED_IO_ERROR", "STATUS_UNDEFINED_CHARACTER",
        "STATUS_NOINTERFACE", "STATUS_INVALID_DEVICE_OBJECT_PARAMETER", "STATUS_ASSERTION_FAILURE",
    };
    static const struct {
        const char *name;
        uint32_t value;
    } all[] = {
#define STATUS_ENTRY(s) { #s, (uint32_t)(s) },
#include "all_statuses.inc"
#undef STATUS_ENTRY
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (RtlNtStatusToDosError((NTSTATUS)all[i].value) != W_MR_MID_NOT_FOUND)
            continue;
        bool known = false;
        for (size_t k = 0; k < sizeof(unmapped_on_nt) / sizeof(unmapped_on_nt[0]); k++)
            known |= !strcmp(all[i].name, unmapped_on_nt[k]);
        if (!known)
            fail_msg("%s (0x%08X) has no Win32 mapping", all[i].name, (unsigned)all[i].value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pinned_pairs),
        cmocka_unit_test(rules_beside_the_table),
        cmocka_unit_test(every_defined_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
