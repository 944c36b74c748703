/*
 * test_cm_zw.c — the Zw key services and the Rtl registry helpers on a booted nthost:
 * open/create dispositions, relative names, NT's buffer-length rules, enumeration
 * order, deletion with open handles, access checks, volatile keys, and every
 * RtlQueryRegistryValues flag.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ntddk.h>

#include "cm_internal.h"
#include "nthost/nthost.h"

static const char test_reg[] =
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ZwTest]\r\n"
    "\"Name\"=\"Dong\"\r\n"
    "\"Count\"=dword:0000002a\r\n"
    "\"Multi\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n"
    "\"Expand\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,00,5c,00,78,00,00,00\r\n"
    "\"Blob\"=hex:01,02,03,04,05,06\r\n"
    "@=\"default\"\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ZwTest\\Parameters]\r\n"
    "\"Timeout\"=dword:00000064\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ZwTest\\b]\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ZwTest\\A]\r\n";

#define ZW_KEY L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\ZwTest"

static char reg_path[64];

static int boot(void **state)
{
    (void)state;
    snprintf(reg_path, sizeof(reg_path), "/tmp/cm_zw_XXXXXX");
    int fd = mkstemp(reg_path);
    if (fd < 0 || write(fd, test_reg, strlen(test_reg)) != (ssize_t)strlen(test_reg))
        return -1;
    close(fd);
    const char *files[] = { reg_path, NULL };
    nthost_config cfg = { .reg_files = files, .no_autostart = true };
    const char *err = nthost_boot(&cfg);
    if (err) {
        fprintf(stderr, "boot: %s\n", err);
        return -1;
    }
    return 0;
}

static int shutdown_host(void **state)
{
    (void)state;
    nthost_shutdown();
    unlink(reg_path);
    return 0;
}

static NTSTATUS open_key(PHANDLE h, PCWSTR path, HANDLE root, ACCESS_MASK access)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, path);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, root, NULL);
    return ZwOpenKey(h, access, &oa);
}

static NTSTATUS create_key(PHANDLE h, PCWSTR path, HANDLE root, ULONG options, PULONG disposition)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, path);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, root, NULL);
    return ZwCreateKey(h, KEY_ALL_ACCESS, &oa, 0, NULL, options, disposition);
}

static void open_and_create(void **state)
{
    (void)state;
    HANDLE h, sub;
    ULONG disp = 0;
    assert_int_equal(open_key(&h, L"\\REGISTRY\\MACHINE\\system\\currentcontrolset\\services\\zwtest", NULL, KEY_READ),
                     STATUS_SUCCESS);
    /* Creating below a RootDirectory handle needs KEY_CREATE_SUB_KEY on it. */
    assert_int_equal(create_key(&sub, L"New", h, 0, &disp), STATUS_ACCESS_DENIED);
    ZwClose(h);
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_ALL_ACCESS), STATUS_SUCCESS);
    assert_int_equal(create_key(&sub, L"New", h, 0, &disp), STATUS_SUCCESS);
    assert_int_equal(disp, REG_CREATED_NEW_KEY);
    assert_int_equal(ZwClose(sub), STATUS_SUCCESS);
    assert_int_equal(create_key(&sub, L"NEW", h, 0, &disp), STATUS_SUCCESS);
    assert_int_equal(disp, REG_OPENED_EXISTING_KEY);
    ZwClose(sub);
    /* ZwCreateKey creates only the last component. */
    assert_int_equal(create_key(&sub, L"Missing\\Leaf", h, 0, &disp), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(open_key(&sub, L"Parameters", h, KEY_READ), STATUS_SUCCESS);
    ZwClose(sub);
    assert_int_equal(open_key(&sub, L"\\Parameters", h, KEY_READ), STATUS_OBJECT_PATH_SYNTAX_BAD);
    assert_int_equal(open_key(&sub, L"Nope", h, KEY_READ), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(open_key(&sub, L"\\Device\\Nope", NULL, KEY_READ), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(open_key(&sub, L"Relative\\Without\\Root", NULL, KEY_READ), STATUS_OBJECT_PATH_SYNTAX_BAD);
    assert_int_equal(open_key(&sub, ZW_KEY L"\\\\Parameters", NULL, KEY_READ), STATUS_OBJECT_NAME_INVALID);
    ZwClose(h);
    assert_int_equal(ZwClose(h), STATUS_INVALID_HANDLE);
}

/* NT's rules: too small for the fixed part -> BUFFER_TOO_SMALL and nothing;
 * fixed part but not all -> BUFFER_OVERFLOW with the fixed part; ResultLength is
 * always the full size. */
static void query_value_lengths(void **state)
{
    (void)state;
    HANDLE h;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_READ), STATUS_SUCCESS);
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"Name");
    UCHAR buf[128];
    ULONG len = 0;
    /* "Dong\0" = 10 bytes of data; partial info header is 12 bytes. */
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformation, buf, 0, &len), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, 22);
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformation, buf, 11, &len), STATUS_BUFFER_TOO_SMALL);
    memset(buf, 0xEE, sizeof(buf));
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformation, buf, 16, &len), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(len, 22);
    PKEY_VALUE_PARTIAL_INFORMATION part = (PKEY_VALUE_PARTIAL_INFORMATION)buf;
    assert_int_equal(part->Type, REG_SZ);
    assert_int_equal(part->DataLength, 10);
    assert_memory_equal(part->Data, "D\0o\0", 4);          /* as much as fits */
    assert_int_equal(buf[16], 0xEE);                       /* and no more */
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformation, buf, 22, &len), STATUS_SUCCESS);
    assert_memory_equal(part->Data, "D\0o\0n\0g\0\0\0", 10);

    /* Basic: 12-byte header + name "Name" (8 bytes). */
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValueBasicInformation, buf, 4, &len), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, 20);
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValueBasicInformation, buf, 20, &len), STATUS_SUCCESS);
    PKEY_VALUE_BASIC_INFORMATION basic = (PKEY_VALUE_BASIC_INFORMATION)buf;
    assert_int_equal(basic->NameLength, 8);
    assert_memory_equal(basic->Name, L"Name", 8);

    /* Full: 20-byte header + name, data at a ULONG-aligned offset (28), 10 bytes. */
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValueFullInformation, buf, 19, &len), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, 38);
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValueFullInformation, buf, 30, &len), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValueFullInformation, buf, 38, &len), STATUS_SUCCESS);
    PKEY_VALUE_FULL_INFORMATION full = (PKEY_VALUE_FULL_INFORMATION)buf;
    assert_int_equal(full->DataOffset, 28);
    assert_int_equal(full->DataLength, 10);
    assert_memory_equal(buf + full->DataOffset, "D\0o\0n\0g\0\0\0", 10);

    /* The Align64 partial form has no TitleIndex: Type, DataLength, data at 8. A NULL
     * buffer of length 0 asks for the size. */
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformationAlign64, NULL, 0, &len),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, 18);
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformationAlign64, buf, 18, &len), STATUS_SUCCESS);
    assert_int_equal(((ULONG *)buf)[0], REG_SZ);
    assert_int_equal(((ULONG *)buf)[1], 10);
    assert_memory_equal(buf + 8, "D\0o\0n\0g\0\0\0", 10);

    /* The default value answers to an empty or NULL name. */
    assert_int_equal(ZwQueryValueKey(h, NULL, KeyValuePartialInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    assert_memory_equal(part->Data, L"default", 16);
    RtlInitUnicodeString(&name, L"NoSuchValue");
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformation, buf, sizeof(buf), &len),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(ZwQueryValueKey(h, &name, (KEY_VALUE_INFORMATION_CLASS)99, buf, sizeof(buf), &len),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    RtlInitUnicodeString(&name, L"count");
    assert_int_equal(ZwQueryValueKey(h, &name, (KEY_VALUE_INFORMATION_CLASS)99, buf, sizeof(buf), &len),
                     STATUS_INVALID_PARAMETER);
    ZwClose(h);
}

static void enumerate(void **state)
{
    (void)state;
    HANDLE h;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_READ), STATUS_SUCCESS);
    UCHAR buf[256];
    ULONG len;
    /* Subkeys come sorted case-insensitively: A, b, Parameters. */
    const WCHAR *expect[] = { L"A", L"b", L"Parameters" };
    for (ULONG i = 0; i < 3; i++) {
        assert_int_equal(ZwEnumerateKey(h, i, KeyBasicInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
        PKEY_BASIC_INFORMATION info = (PKEY_BASIC_INFORMATION)buf;
        size_t n = 0;
        while (expect[i][n])
            n++;
        assert_int_equal(info->NameLength, n * 2);
        assert_memory_equal(info->Name, expect[i], n * 2);
        assert_true(info->LastWriteTime.QuadPart > 0);
    }
    assert_int_equal(ZwEnumerateKey(h, 3, KeyBasicInformation, buf, sizeof(buf), &len), STATUS_NO_MORE_ENTRIES);
    assert_int_equal(ZwEnumerateKey(h, 2, KeyBasicInformation, buf, 17, &len), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(len, 16 + 20);
    /* Values come in creation order. */
    const WCHAR *values[] = { L"Name", L"Count", L"Multi", L"Expand", L"Blob", L"" };
    for (ULONG i = 0; i < 6; i++) {
        assert_int_equal(ZwEnumerateValueKey(h, i, KeyValueBasicInformation, buf, sizeof(buf), &len),
                         STATUS_SUCCESS);
        PKEY_VALUE_BASIC_INFORMATION info = (PKEY_VALUE_BASIC_INFORMATION)buf;
        size_t n = 0;
        while (values[i][n])
            n++;
        assert_int_equal(info->NameLength, n * 2);
        assert_memory_equal(info->Name, values[i], n * 2);
    }
    assert_int_equal(ZwEnumerateValueKey(h, 6, KeyValueBasicInformation, buf, sizeof(buf), &len),
                     STATUS_NO_MORE_ENTRIES);
    assert_int_equal(ZwQueryKey(h, KeyFullInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    PKEY_FULL_INFORMATION full = (PKEY_FULL_INFORMATION)buf;
    assert_int_equal(full->SubKeys, 3);
    assert_int_equal(full->Values, 6);
    assert_int_equal(full->MaxNameLen, 20);           /* "Parameters" */
    assert_int_equal(full->MaxValueNameLen, 12);      /* "Expand" */
    assert_int_equal(full->MaxValueDataLen, 30);      /* "%SystemRoot%\x" */
    assert_int_equal(ZwQueryKey(h, KeyNameInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    PKEY_NAME_INFORMATION kn = (PKEY_NAME_INFORMATION)buf;
    static const WCHAR full_name[] = L"\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ZwTest";
    assert_int_equal(kn->NameLength, sizeof(full_name) - 2);
    assert_memory_equal(kn->Name, full_name, sizeof(full_name) - 2);
    ZwClose(h);
}

static void set_delete_and_deleted_keys(void **state)
{
    (void)state;
    HANDLE h, leaf, again;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_ALL_ACCESS), STATUS_SUCCESS);
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"Fresh");
    ULONG v = 7, len;
    assert_int_equal(ZwSetValueKey(h, &name, 0, REG_DWORD, &v, sizeof(v)), STATUS_SUCCESS);
    UCHAR buf[64];
    assert_int_equal(ZwQueryValueKey(h, &name, KeyValuePartialInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    assert_int_equal(*(ULONG *)((PKEY_VALUE_PARTIAL_INFORMATION)buf)->Data, 7);
    assert_int_equal(ZwDeleteValueKey(h, &name), STATUS_SUCCESS);
    assert_int_equal(ZwDeleteValueKey(h, &name), STATUS_OBJECT_NAME_NOT_FOUND);

    assert_int_equal(ZwDeleteKey(h), STATUS_CANNOT_DELETE);           /* it has subkeys */
    assert_int_equal(open_key(&leaf, L"A", h, KEY_ALL_ACCESS), STATUS_SUCCESS);
    assert_int_equal(open_key(&again, L"A", h, KEY_READ), STATUS_SUCCESS);
    assert_int_equal(ZwDeleteKey(leaf), STATUS_SUCCESS);
    /* Handles to a deleted key stay valid but every operation says so. */
    assert_int_equal(ZwQueryValueKey(again, &name, KeyValuePartialInformation, buf, sizeof(buf), &len),
                     STATUS_KEY_DELETED);
    assert_int_equal(ZwSetValueKey(leaf, &name, 0, REG_DWORD, &v, sizeof(v)), STATUS_KEY_DELETED);
    assert_int_equal(ZwDeleteKey(leaf), STATUS_SUCCESS);              /* again: NT says success */
    HANDLE gone;
    assert_int_equal(open_key(&gone, L"A", h, KEY_READ), STATUS_OBJECT_NAME_NOT_FOUND);
    ZwClose(leaf);
    ZwClose(again);
    ZwClose(h);
}

static void access_checks(void **state)
{
    (void)state;
    HANDLE h;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_QUERY_VALUE), STATUS_SUCCESS);
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"X");
    ULONG v = 1, len;
    UCHAR buf[64];
    assert_int_equal(ZwSetValueKey(h, &name, 0, REG_DWORD, &v, sizeof(v)), STATUS_ACCESS_DENIED);
    assert_int_equal(ZwEnumerateKey(h, 0, KeyBasicInformation, buf, sizeof(buf), &len), STATUS_ACCESS_DENIED);
    assert_int_equal(ZwDeleteKey(h), STATUS_ACCESS_DENIED);
    ZwClose(h);
    assert_int_equal(ZwQueryKey((HANDLE)(ULONG_PTR)0x7777, KeyBasicInformation, buf, sizeof(buf), &len),
                     STATUS_INVALID_HANDLE);
}

/* NT refuses a key handle with no access right; the WOW64 view bits are no right. */
static void desired_access(void **state)
{
    (void)state;
    HANDLE h;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, 0), STATUS_ACCESS_DENIED);
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_WOW64_64KEY), STATUS_ACCESS_DENIED);
    assert_int_equal(open_key(&h, ZW_KEY, NULL, READ_CONTROL | KEY_WOW64_32KEY), STATUS_SUCCESS);
    ZwClose(h);
}

/* The Class given at creation is reported by KeyFullInformation and
 * KeyNodeInformation, with NT's lengths. */
static void key_class(void **state)
{
    (void)state;
    HANDLE h, k;
    UNICODE_STRING name, cls;
    RtlInitUnicodeString(&name, L"Classy");
    RtlInitUnicodeString(&cls, L"MyClass");
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_ALL_ACCESS), STATUS_SUCCESS);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, h, NULL);
    assert_int_equal(ZwCreateKey(&k, KEY_ALL_ACCESS, &oa, 0, &cls, REG_OPTION_VOLATILE, NULL), STATUS_SUCCESS);
    ULONG fixed = FIELD_OFFSET(KEY_FULL_INFORMATION, Class), len = 0x55555555;
    UCHAR buf[256];
    assert_int_equal(ZwQueryKey(k, KeyFullInformation, NULL, 0, &len), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, fixed + cls.Length);
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(ZwQueryKey(k, KeyFullInformation, buf, fixed, &len), STATUS_BUFFER_OVERFLOW);
    PKEY_FULL_INFORMATION full = (PKEY_FULL_INFORMATION)buf;
    assert_int_equal(full->ClassOffset, fixed);
    assert_int_equal(full->ClassLength, cls.Length);
    assert_int_equal(buf[fixed], 0x55);                        /* nothing past the buffer */
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(ZwQueryKey(k, KeyFullInformation, buf, fixed + cls.Length - 1, &len), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(buf[fixed + cls.Length - 1], 0x55);       /* the last byte did not fit */
    assert_int_equal(ZwQueryKey(k, KeyFullInformation, buf, fixed + cls.Length, &len), STATUS_SUCCESS);
    assert_memory_equal(buf + fixed, L"MyClass", cls.Length);
    ZwClose(k);
    /* The parent sees the class length, and the subkey's node information carries it. */
    assert_int_equal(ZwQueryKey(h, KeyFullInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    assert_int_equal(full->MaxClassLen, cls.Length);
    assert_int_equal(full->ClassOffset, 0xFFFFFFFFu);        /* the parent has none */
    ULONG index = 0;
    for (;; index++) {
        assert_int_equal(ZwEnumerateKey(h, index, KeyNodeInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
        PKEY_NODE_INFORMATION node = (PKEY_NODE_INFORMATION)buf;
        if (node->NameLength == 12 && !memcmp(node->Name, L"Classy", 12)) {
            assert_int_equal(node->ClassOffset, FIELD_OFFSET(KEY_NODE_INFORMATION, Name) + 12);
            assert_int_equal(node->ClassLength, cls.Length);
            assert_memory_equal(buf + node->ClassOffset, L"MyClass", cls.Length);
            break;
        }
    }
    ZwClose(h);
}

static void volatile_keys(void **state)
{
    (void)state;
    HANDLE h, vol, child;
    ULONG disp;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_ALL_ACCESS), STATUS_SUCCESS);
    assert_int_equal(create_key(&vol, L"Vol", h, REG_OPTION_VOLATILE, &disp), STATUS_SUCCESS);
    assert_int_equal(create_key(&child, L"Stable", vol, 0, &disp), STATUS_CHILD_MUST_BE_VOLATILE);
    assert_int_equal(create_key(&child, L"AlsoVol", vol, REG_OPTION_VOLATILE, &disp), STATUS_SUCCESS);
    ZwClose(child);
    uint8_t *out;
    size_t size;
    char err[128];
    assert_int_equal(cm_export_reg_buffer("SYSTEM\\CurrentControlSet\\Services\\ZwTest", &out, &size, err,
                                          sizeof(err)), 0);
    /* "Vol" in UTF-16LE must not appear in the saved file. */
    bool found = false;
    for (size_t i = 0; i + 6 <= size; i += 2)
        if (!memcmp(out + i, "V\0o\0l\0", 6))
            found = true;
    assert_false(found);
    free(out);
    ZwClose(vol);
    ZwClose(h);
}

/* ------------------------------------------------------ RtlQueryRegistryValues ---- */

typedef struct {
    int calls;
    WCHAR seen[8][32];
    ULONG types[8];
    ULONG lens[8];
} qr_log;

static NTSTATUS NTAPI record_routine(PWSTR ValueName, ULONG ValueType, PVOID ValueData, ULONG ValueLength,
                                     PVOID Context, PVOID EntryContext)
{
    (void)ValueName;
    (void)EntryContext;
    qr_log *log = Context;
    if (log->calls < 8) {
        memset(log->seen[log->calls], 0, sizeof(log->seen[0]));
        if (ValueData && ValueLength <= sizeof(log->seen[0]))
            memcpy(log->seen[log->calls], ValueData, ValueLength);
        log->types[log->calls] = ValueType;
        log->lens[log->calls] = ValueLength;
    }
    log->calls++;
    return STATUS_SUCCESS;
}

static void rtl_direct(void **state)
{
    (void)state;
    ULONG count = 0, missing = 5, dflt = 0x99;
    UNICODE_STRING str = { 0 };
    WCHAR small[2];
    UNICODE_STRING tiny = { 0, sizeof(small), small };
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Count", &count, REG_NONE, NULL, 0 },
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Name", &str, REG_NONE, NULL, 0 },
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Absent", &missing, REG_DWORD, &dflt, sizeof(dflt) },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, NULL, NULL), STATUS_SUCCESS);
    assert_int_equal(count, 42);
    assert_int_equal(str.Length, 8);
    assert_int_equal(str.MaximumLength, 10);
    assert_memory_equal(str.Buffer, L"Dong", 10);
    assert_int_equal(missing, 0x99);                  /* the default */
    ExFreePool(str.Buffer);

    RTL_QUERY_REGISTRY_TABLE t2[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Name", &tiny, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t2, NULL, NULL),
                     STATUS_BUFFER_TOO_SMALL);

    /* Binary data larger than a ULONG: negative size = data only; positive = length,
     * type, data. */
    LONG raw[4] = { -(LONG)sizeof(raw) };
    RTL_QUERY_REGISTRY_TABLE t3[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Blob", raw, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t3, NULL, NULL), STATUS_SUCCESS);
    assert_memory_equal(raw, "\x01\x02\x03\x04\x05\x06", 6);
    ULONG hdr[4] = { sizeof(hdr) };
    t3[0].EntryContext = hdr;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t3, NULL, NULL), STATUS_SUCCESS);
    assert_int_equal(hdr[0], 6);
    assert_int_equal(hdr[1], REG_BINARY);
    assert_memory_equal(&hdr[2], "\x01\x02\x03\x04\x05\x06", 6);
    LONG data_only_small[2] = { -5 };                 /* room for 5 of the 6 bytes */
    t3[0].EntryContext = data_only_small;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t3, NULL, NULL),
                     STATUS_BUFFER_TOO_SMALL);
    ULONG header_small[3] = { sizeof(header_small) }; /* 12 < 8 + 6 */
    t3[0].EntryContext = header_small;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t3, NULL, NULL),
                     STATUS_BUFFER_TOO_SMALL);

    /* TYPECHECK: the expected type rides in DefaultType's top byte. */
    ULONG sink = 0;
    RTL_QUERY_REGISTRY_TABLE t4[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_TYPECHECK, L"Name", &sink,
          (REG_DWORD << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) | REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t4, NULL, NULL),
                     STATUS_OBJECT_TYPE_MISMATCH);
}

static void rtl_required_and_optional(void **state)
{
    (void)state;
    ULONG v = 0;
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED, L"Absent", &v, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, NULL, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"NoSuchService", t, NULL, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES | RTL_REGISTRY_OPTIONAL, L"NoSuchService", t,
                                            NULL, NULL), STATUS_SUCCESS);
    /* Absolute paths and RTL_REGISTRY_HANDLE reach the same key. */
    t[0].Name = L"Count";
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, ZW_KEY, t, NULL, NULL), STATUS_SUCCESS);
    assert_int_equal(v, 42);
    HANDLE h;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_READ), STATUS_SUCCESS);
    v = 0;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_HANDLE, (PCWSTR)h, t, NULL, NULL), STATUS_SUCCESS);
    assert_int_equal(v, 42);
    ZwClose(h);
}

static void rtl_routines_expand_and_subkeys(void **state)
{
    (void)state;
    qr_log log = { 0 };
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { record_routine, 0, L"Multi", NULL, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    /* REG_MULTI_SZ: one REG_SZ call per string. */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &log, NULL), STATUS_SUCCESS);
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.types[0], REG_SZ);
    assert_memory_equal(log.seen[0], L"a", 4);
    assert_int_equal(log.lens[0], 4);
    assert_memory_equal(log.seen[1], L"bc", 6);
    /* NOEXPAND: the whole REG_MULTI_SZ once. */
    memset(&log, 0, sizeof(log));
    t[0].Flags = RTL_QUERY_REGISTRY_NOEXPAND;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &log, NULL), STATUS_SUCCESS);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.types[0], REG_MULTI_SZ);
    assert_int_equal(log.lens[0], 12);
    /* REG_EXPAND_SZ is expanded against the environment into REG_SZ. */
    memset(&log, 0, sizeof(log));
    t[0].Flags = 0;
    t[0].Name = L"Expand";
    static const WCHAR env[] = L"SystemRoot=C:\\NT\0";
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &log, (PVOID)env),
                     STATUS_SUCCESS);
    assert_int_equal(log.types[0], REG_SZ);
    assert_memory_equal(log.seen[0], L"C:\\NT\\x", 16);
    t[0].Flags = RTL_QUERY_REGISTRY_NOEXPAND;
    memset(&log, 0, sizeof(log));
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &log, (PVOID)env),
                     STATUS_SUCCESS);
    assert_int_equal(log.types[0], REG_EXPAND_SZ);
    /* A string default with DefaultLength 0 gets its length computed. */
    memset(&log, 0, sizeof(log));
    RTL_QUERY_REGISTRY_TABLE td[] = {
        { record_routine, 0, L"Absent", NULL, REG_SZ, L"dflt", 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", td, &log, NULL), STATUS_SUCCESS);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.lens[0], 10);
    /* SUBKEY switches to Parameters; TOPKEY back; NOVALUE calls without a value; a
     * NULL Name enumerates every value of the current key. */
    memset(&log, 0, sizeof(log));
    ULONG timeout = 0, count = 0;
    RTL_QUERY_REGISTRY_TABLE ts[] = {
        { NULL, RTL_QUERY_REGISTRY_SUBKEY, L"Parameters", NULL, 0, NULL, 0 },
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Timeout", &timeout, REG_NONE, NULL, 0 },
        { record_routine, 0, NULL, NULL, 0, NULL, 0 },
        { NULL, RTL_QUERY_REGISTRY_TOPKEY, L"top", NULL, 0, NULL, 0 }, /* a Name keeps it from ending the table */
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Count", &count, REG_NONE, NULL, 0 },
        { record_routine, RTL_QUERY_REGISTRY_NOVALUE, L"ignored", NULL, 0, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", ts, &log, NULL), STATUS_SUCCESS);
    assert_int_equal(timeout, 100);
    assert_int_equal(count, 42);
    assert_int_equal(log.calls, 2);                   /* Timeout (enumerated) + NOVALUE */
    assert_int_equal(log.types[0], REG_DWORD);
    assert_int_equal(log.types[1], REG_NONE);
    assert_int_equal(log.lens[1], 0);
}

/* One REG_MULTI_SZ case: the data (with its byte length) and the strings the routine
 * must see, as Windows splits them. */
typedef struct {
    const WCHAR *data;
    ULONG len;
    int count;
    const WCHAR *strings[3];
} multi_case;

#define MS(lit) (lit), sizeof(lit)

static void expect_multi(const qr_log *log, int count, const WCHAR *const *strings)
{
    assert_int_equal(log->calls, count);
    for (int i = 0; i < count; i++) {
        size_t n = 0;
        while (strings[i][n])
            n++;
        assert_int_equal(log->types[i], REG_SZ);
        assert_int_equal(log->lens[i], (n + 1) * sizeof(WCHAR));
        assert_memory_equal(log->seen[i], strings[i], (n + 1) * sizeof(WCHAR));
    }
}

static void rtl_multi_sz_split(void **state)
{
    (void)state;
    static const multi_case values[] = {
        { NULL, 0, 0, { NULL } },
        { MS(L""), 0, { NULL } },
        { MS(L"\0"), 1, { L"" } },                           /* one empty string */
        { MS(L"String"), 1, { L"String" } },
        { MS(L"String\0"), 1, { L"String" } },
        { MS(L"String1\0String2"), 2, { L"String1", L"String2" } },
        { MS(L"String1\0String2\0"), 2, { L"String1", L"String2" } },
        { MS(L"String1\0\0String3"), 3, { L"String1", L"", L"String3" } },
        { MS(L"String1\0\0String3\0"), 3, { L"String1", L"", L"String3" } },
    };
    HANDLE h;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_ALL_ACCESS), STATUS_SUCCESS);
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"Split");
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { record_routine, 0, L"Split", NULL, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(ZwSetValueKey(h, &name, 0, REG_MULTI_SZ, (PVOID)values[i].data, values[i].len),
                         STATUS_SUCCESS);
        qr_log log = { 0 };
        assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_HANDLE, (PCWSTR)h, t, &log, NULL), STATUS_SUCCESS);
        expect_multi(&log, values[i].count, values[i].strings);
    }
    assert_int_equal(ZwDeleteValueKey(h, &name), STATUS_SUCCESS);
    /* Defaults with their length split the same way, except that a default starting
     * with an empty string yields nothing; with DefaultLength 0 the length runs to
     * the first empty string. */
    static const multi_case defaults[] = {
        { MS(L"\0"), 0, { NULL } },
        { MS(L"String1\0\0String3\0"), 3, { L"String1", L"", L"String3" } },
    };
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        t[0].DefaultType = REG_MULTI_SZ;
        t[0].DefaultData = (PVOID)defaults[i].data;
        t[0].DefaultLength = defaults[i].len;
        qr_log log = { 0 };
        assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_HANDLE, (PCWSTR)h, t, &log, NULL), STATUS_SUCCESS);
        expect_multi(&log, defaults[i].count, defaults[i].strings);
    }
    t[0].DefaultLength = 0;
    qr_log log = { 0 };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_HANDLE, (PCWSTR)h, t, &log, NULL), STATUS_SUCCESS);
    static const WCHAR *const first_only[] = { L"String1" };
    expect_multi(&log, 1, first_only);
    t[0].DefaultType = REG_NONE;                     /* no value, no default: no call */
    memset(&log, 0, sizeof(log));
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_HANDLE, (PCWSTR)h, t, &log, NULL), STATUS_SUCCESS);
    assert_int_equal(log.calls, 0);
    ZwClose(h);
}

/* SUBKEY entries with a routine enumerate the subkey; a missing subkey gives the
 * following entries no values (defaults apply) unless it is REQUIRED; DELETE with a
 * NULL name empties the key; long values and long expansions grow their buffers. */
static void rtl_subkeys_enumeration_delete(void **state)
{
    (void)state;
    qr_log log = { 0 };
    ULONG dflt = 9, got = 0;
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { record_routine, RTL_QUERY_REGISTRY_SUBKEY, L"Parameters", NULL, 0, NULL, 0 },
        { NULL, RTL_QUERY_REGISTRY_SUBKEY, L"NoSuchSubkey", NULL, 0, NULL, 0 },
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Timeout", &got, REG_DWORD, &dflt, sizeof(dflt) },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &log, NULL), STATUS_SUCCESS);
    assert_int_equal(log.calls, 1);                       /* Parameters\Timeout */
    assert_int_equal(log.types[0], REG_DWORD);
    assert_int_equal(got, 9);                             /* not found below NoSuchSubkey */
    t[1].Flags |= RTL_QUERY_REGISTRY_REQUIRED;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &log, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);

    /* A value larger than the enumeration's first buffer, and a long expansion. */
    static WCHAR big[300];
    for (int i = 0; i < 299; i++)
        big[i] = (WCHAR)('a' + i % 26);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", L"Big", REG_SZ, big,
                                           sizeof(big)), STATUS_SUCCESS);
    static const WCHAR expand[] = L"%LONG%%LONG%%LONG%";
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", L"Exp", REG_EXPAND_SZ,
                                           (PVOID)expand, sizeof(expand)), STATUS_SUCCESS);
    static WCHAR env[128];
    memcpy(env, L"LONG=", 10);
    for (int i = 0; i < 40; i++)
        env[5 + i] = L'x';
    UNICODE_STRING out = { 0 };
    RTL_QUERY_REGISTRY_TABLE te[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Exp", &out, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", te, NULL, env),
                     STATUS_SUCCESS);
    assert_int_equal(out.Length, 120 * sizeof(WCHAR));
    ExFreePool(out.Buffer);

    /* Enumerate-and-delete: every value is seen once, then the key is empty. */
    memset(&log, 0, sizeof(log));
    RTL_QUERY_REGISTRY_TABLE td[] = {
        { record_routine, RTL_QUERY_REGISTRY_DELETE, NULL, NULL, 0, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", td, &log, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(log.calls, 3);                       /* Timeout, Big, Exp */
    memset(&log, 0, sizeof(log));
    td[0].Flags = RTL_QUERY_REGISTRY_REQUIRED;            /* nothing left to enumerate */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", td, &log, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(log.calls, 0);
}

static NTSTATUS NTAPI failing_routine(PWSTR ValueName, ULONG ValueType, PVOID ValueData, ULONG ValueLength,
                                      PVOID Context, PVOID EntryContext)
{
    (void)ValueName, (void)ValueType, (void)ValueData, (void)ValueLength, (void)EntryContext;
    (*(int *)Context)++;
    return STATUS_INSUFFICIENT_RESOURCES;
}

static void rtl_abort_delete_write(void **state)
{
    (void)state;
    int calls = 0;
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { failing_routine, 0, L"Count", NULL, REG_NONE, NULL, 0 },
        { failing_routine, 0, L"Name", NULL, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest", t, &calls, NULL),
                     STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(calls, 1);                       /* the first failure ends the query */

    ULONG v = 5;
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", L"Written", REG_DWORD, &v,
                                           sizeof(v)), STATUS_SUCCESS);
    ULONG got = 0;
    RTL_QUERY_REGISTRY_TABLE td[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_DELETE, L"Written", &got, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", td, NULL, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(got, 5);
    td[0].Flags |= RTL_QUERY_REGISTRY_REQUIRED;      /* DELETE removed it */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"ZwTest\\Parameters", td, NULL, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);

    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_SERVICES, L"ZwTest\\Created"), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_SERVICES, L"ZwTest\\Created"), STATUS_SUCCESS);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_SERVICES, L"ZwTest\\Created"), STATUS_SUCCESS);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_CONTROL, L"DongTest", L"X", REG_DWORD, &v, sizeof(v)),
                     STATUS_SUCCESS);
    assert_int_equal(RtlDeleteRegistryValue(RTL_REGISTRY_CONTROL, L"DongTest", L"X"), STATUS_SUCCESS);
    assert_int_equal(RtlDeleteRegistryValue(RTL_REGISTRY_CONTROL, L"DongTest", L"X"), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_MAXIMUM, L"x"), STATUS_INVALID_PARAMETER);
    /* DEVICEMAP is HARDWARE\DEVICEMAP, where port drivers publish their names. */
    static const WCHAR lpt[] = L"\\DosDevices\\LPT1";
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_DEVICEMAP, L"PARALLEL PORTS"), STATUS_SUCCESS);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_DEVICEMAP, L"PARALLEL PORTS", L"\\Device\\ParallelPort0",
                                           REG_SZ, (PVOID)lpt, sizeof(lpt)), STATUS_SUCCESS);
    HANDLE key;
    assert_int_equal(open_key(&key, L"\\Registry\\Machine\\HARDWARE\\DEVICEMAP\\Parallel Ports", NULL, KEY_READ),
                     STATUS_SUCCESS);
    UNICODE_STRING vname;
    RtlInitUnicodeString(&vname, L"\\Device\\ParallelPort0");
    UCHAR buf[128];
    ULONG len;
    assert_int_equal(ZwQueryValueKey(key, &vname, KeyValuePartialInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    assert_memory_equal(((PKEY_VALUE_PARTIAL_INFORMATION)buf)->Data, lpt, sizeof(lpt));
    ZwClose(key);
}

/* Whether a UTF-16LE .reg file holds an ASCII word. */
static bool file_has_utf16(const char *path, const char *word)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static uint8_t data[1 << 16];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    size_t k = strlen(word);
    for (size_t i = 0; i + 2 * k <= n; i += 2) {
        size_t j = 0;
        while (j < k && data[i + 2 * j] == (uint8_t)word[j] && data[i + 2 * j + 1] == 0)
            j++;
        if (j == k)
            return true;
    }
    return false;
}

/* NTHOST_REGISTRY_FILE: ZwFlushKey writes the registry there, and so does shutdown. */
static void flush_and_shutdown_save(void **state)
{
    (void)state;
    char saved[64];
    snprintf(saved, sizeof(saved), "/tmp/cm_saved_XXXXXX");
    int fd = mkstemp(saved);
    assert_true(fd >= 0);
    close(fd);
    setenv("NTHOST_REGISTRY_FILE", saved, 1);
    assert_int_equal(boot(NULL), 0);
    unsetenv("NTHOST_REGISTRY_FILE");
    HANDLE h, k;
    ULONG disp;
    assert_int_equal(open_key(&h, ZW_KEY, NULL, KEY_ALL_ACCESS), STATUS_SUCCESS);
    assert_int_equal(create_key(&k, L"FlushedKey", h, 0, &disp), STATUS_SUCCESS);
    assert_int_equal(ZwFlushKey(k), STATUS_SUCCESS);
    ZwClose(k);
    assert_true(file_has_utf16(saved, "FlushedKey"));
    assert_int_equal(create_key(&k, L"AfterFlush", h, 0, &disp), STATUS_SUCCESS);
    ZwClose(k);
    ZwClose(h);
    assert_false(file_has_utf16(saved, "AfterFlush"));
    shutdown_host(NULL);
    assert_true(file_has_utf16(saved, "AfterFlush"));
    /* What was saved is a registry file that imports cleanly. */
    char err[256];
    cm_init();
    assert_int_equal(cm_import_reg_file(saved, err, sizeof(err)), 0);
    cm_shutdown();
    unlink(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_and_create, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(query_value_lengths, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(enumerate, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(set_delete_and_deleted_keys, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(access_checks, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(desired_access, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(key_class, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(volatile_keys, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(rtl_direct, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(rtl_required_and_optional, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(rtl_routines_expand_and_subkeys, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(rtl_abort_delete_write, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(rtl_multi_sz_split, boot, shutdown_host),
        cmocka_unit_test_setup_teardown(rtl_subkeys_enumeration_delete, boot, shutdown_host),
        cmocka_unit_test(flush_and_shutdown_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
