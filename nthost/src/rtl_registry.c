/*
 * rtl_registry.c — the Rtl registry helpers drivers use: RtlQueryRegistryValues,
 * RtlWriteRegistryValue, RtlDeleteRegistryValue, RtlCheckRegistryKey and
 * RtlCreateRegistryKey. As on NT they are layered on the Zw key services, so every
 * rule of those (case-insensitive names, handles, deleted keys) applies here too.
 */
#include <ntddk.h>

#include <stdbool.h>
#include <stdlib.h>

#include "ex_internal.h"

/* Tag of the DIRECT string buffers handed to the driver: "RtlQ" in pool dumps. */
#define RTLP_POOL_TAG ((ULONG)'R' | (ULONG)'t' << 8 | (ULONG)'l' << 16 | (ULONG)'Q' << 24)
#define RTLP_RELATIVE_MASK 0x0000FFFFu /* RelativeTo without the HANDLE/OPTIONAL flags */

/* The key each RTL_REGISTRY_* value is relative to. */
static const WCHAR *const rtlp_base_paths[RTL_REGISTRY_MAXIMUM] = {
    [RTL_REGISTRY_ABSOLUTE] = L"",
    [RTL_REGISTRY_SERVICES] = L"\\Registry\\Machine\\System\\CurrentControlSet\\Services",
    [RTL_REGISTRY_CONTROL] = L"\\Registry\\Machine\\System\\CurrentControlSet\\Control",
    [RTL_REGISTRY_WINDOWS_NT] = L"\\Registry\\Machine\\Software\\Microsoft\\Windows NT\\CurrentVersion",
    [RTL_REGISTRY_DEVICEMAP] = L"\\Registry\\Machine\\Hardware\\DeviceMap",
    [RTL_REGISTRY_USER] = L"\\Registry\\User\\.Default",
};

/* The system environment REG_EXPAND_SZ data is expanded against when the caller
 * passes no Environment block (a kernel-mode caller's usual case). */
static const WCHAR rtlp_default_environment[] = L"SystemRoot=C:\\WINDOWS\0windir=C:\\WINDOWS\0";

static size_t rtlp_wcslen(const WCHAR *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static WCHAR rtlp_upcase(WCHAR c)
{
    return (c >= 'a' && c <= 'z') ? (WCHAR)(c - 0x20) : c;
}

/*
 * rtlp_open_key — open (or create) the key named by RelativeTo/Path. With
 * RTL_REGISTRY_HANDLE, Path is an open key handle and *owned stays FALSE.
 */
static NTSTATUS rtlp_open_key(ULONG RelativeTo, PCWSTR Path, BOOLEAN Create, PHANDLE Key, BOOLEAN *Owned)
{
    *Owned = FALSE;
    if (RelativeTo & RTL_REGISTRY_HANDLE) {
        *Key = (HANDLE)Path;
        return STATUS_SUCCESS;
    }
    ULONG base = RelativeTo & RTLP_RELATIVE_MASK;
    if (base >= RTL_REGISTRY_MAXIMUM || (base == RTL_REGISTRY_ABSOLUTE && !Path))
        return STATUS_INVALID_PARAMETER;
    const WCHAR *prefix = rtlp_base_paths[base];
    size_t plen = rtlp_wcslen(prefix), rlen = Path ? rtlp_wcslen(Path) : 0;
    bool sep = plen && rlen && Path[0] != L'\\';
    size_t total = plen + (sep ? 1 : 0) + rlen;
    if (total * sizeof(WCHAR) > MAXUSHORT)
        return STATUS_NAME_TOO_LONG;
    WCHAR *full = malloc((total + 1) * sizeof(WCHAR));
    if (!full)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(full, prefix, plen * sizeof(WCHAR));
    if (sep)
        full[plen] = L'\\';
    if (rlen)
        memcpy(full + plen + (sep ? 1 : 0), Path, rlen * sizeof(WCHAR));
    UNICODE_STRING name = { (USHORT)(total * sizeof(WCHAR)), (USHORT)(total * sizeof(WCHAR)), full };
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    NTSTATUS status = Create ? ZwCreateKey(Key, KEY_ALL_ACCESS, &oa, 0, NULL, REG_OPTION_NON_VOLATILE, NULL)
                             : ZwOpenKey(Key, KEY_READ | KEY_SET_VALUE, &oa);
    free(full);
    if (NT_SUCCESS(status))
        *Owned = TRUE;
    return status;
}

/* Open Name relative to an open key (the RTL_QUERY_REGISTRY_SUBKEY case). */
static NTSTATUS rtlp_open_subkey(HANDLE Parent, PWSTR Name, PHANDLE Key)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, Name);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, Parent, NULL);
    return ZwOpenKey(Key, KEY_READ | KEY_SET_VALUE, &oa);
}

/* Look a variable up in an environment block ("NAME=value\0...\0"). */
static const WCHAR *rtlp_getenv(const WCHAR *env, const WCHAR *name, size_t nlen)
{
    for (const WCHAR *e = env; *e; e += rtlp_wcslen(e) + 1) {
        size_t i = 0;
        while (i < nlen && e[i] && rtlp_upcase(e[i]) == rtlp_upcase(name[i]))
            i++;
        if (i == nlen && e[i] == L'=')
            return e + i + 1;
    }
    return NULL;
}

/*
 * rtlp_expand — expand %NAME% references in a REG_EXPAND_SZ string (len bytes) into a
 * malloc'ed NUL-terminated string; unknown names stay as written, as
 * RtlExpandEnvironmentStrings_U leaves them.
 */
static WCHAR *rtlp_expand(const WCHAR *src, ULONG len, const WCHAR *env, ULONG *out_len)
{
    size_t n = len / sizeof(WCHAR), cap = n + 64, o = 0;
    WCHAR *out = malloc(cap * sizeof(WCHAR));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n && src[i];) {
        const WCHAR *value = NULL;
        size_t ref_len = 1, vlen = 0;
        if (src[i] == L'%') {
            size_t j = i + 1;
            while (j < n && src[j] && src[j] != L'%')
                j++;
            if (j < n && src[j] == L'%' && j > i + 1) {
                value = rtlp_getenv(env, src + i + 1, j - i - 1);
                if (value) {
                    ref_len = j - i + 1;
                    vlen = rtlp_wcslen(value);
                }
            }
        }
        size_t add = value ? vlen : 1;
        if (o + add + 1 > cap) {
            cap = (o + add + 1) * 2;
            WCHAR *grown = realloc(out, cap * sizeof(WCHAR));
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        if (value)
            memcpy(out + o, value, vlen * sizeof(WCHAR));
        else
            out[o] = src[i];
        o += add;
        i += ref_len;
    }
    out[o++] = 0;
    *out_len = (ULONG)(o * sizeof(WCHAR));
    return out;
}

/* What every entry of one RtlQueryRegistryValues call shares. */
typedef struct rtlp_query {
    PVOID Context;
    const WCHAR *Environment;
    const void *Caller;        /* the driver, charged for DIRECT string buffers */
} rtlp_query;

/* Types DIRECT stores into a UNICODE_STRING. */
static BOOLEAN rtlp_is_string(ULONG type)
{
    return type == REG_SZ || type == REG_EXPAND_SZ || type == REG_MULTI_SZ;
}

/*
 * rtlp_store_direct — RTL_QUERY_REGISTRY_DIRECT: strings go to the UNICODE_STRING at
 * EntryContext (allocated from paged pool when its Buffer is NULL); other data of at
 * most a ULONG is stored in place; larger data needs a buffer whose first LONG is its
 * size — negative: data only; positive: length, type, then data.
 */
static NTSTATUS rtlp_store_direct(PRTL_QUERY_REGISTRY_TABLE e, ULONG type, PVOID data, ULONG len,
                                  const void *caller)
{
    if ((e->Flags & RTL_QUERY_REGISTRY_TYPECHECK) &&
        (e->DefaultType >> RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) != type)
        return STATUS_OBJECT_TYPE_MISMATCH;
    if (rtlp_is_string(type) && !(e->Flags & RTL_QUERY_REGISTRY_NOSTRING)) {
        /* Registry strings normally carry their NUL; data stored without one still
         * yields the whole string (and gets a NUL when there is room for it). */
        PUNICODE_STRING us = e->EntryContext;
        const WCHAR *w = data;
        BOOLEAN terminated = len >= sizeof(WCHAR) && w[len / sizeof(WCHAR) - 1] == 0;
        ULONG need = terminated ? len : len + sizeof(WCHAR);
        if (need > MAXUSHORT)
            return STATUS_BUFFER_TOO_SMALL;
        if (!us->Buffer) {
            us->Buffer = ExpAllocatePoolForImage(PagedPool, need, RTLP_POOL_TAG, caller);
            if (!us->Buffer)
                return STATUS_INSUFFICIENT_RESOURCES;
            us->MaximumLength = (USHORT)need;
        } else if (len > us->MaximumLength) {
            return STATUS_BUFFER_TOO_SMALL;
        }
        memcpy(us->Buffer, data, len);
        us->Length = (USHORT)(terminated ? len - sizeof(WCHAR) : len);
        if (!terminated && us->MaximumLength >= need)
            us->Buffer[len / sizeof(WCHAR)] = 0;
        return STATUS_SUCCESS;
    }
    if (len <= sizeof(ULONG)) {
        memcpy(e->EntryContext, data, len);
        return STATUS_SUCCESS;
    }
    LONG size;
    memcpy(&size, e->EntryContext, sizeof(size));
    if (size < 0) {
        if ((ULONG)-size < len)
            return STATUS_BUFFER_TOO_SMALL;
        memcpy(e->EntryContext, data, len);
        return STATUS_SUCCESS;
    }
    if ((ULONG)size < len + 2 * sizeof(ULONG))
        return STATUS_BUFFER_TOO_SMALL;
    PULONG header = e->EntryContext;
    header[0] = len;
    header[1] = type;
    memcpy(header + 2, data, len);
    return STATUS_SUCCESS;
}

/* Hand one (already expanded) value to the entry: DIRECT storage or its routine. */
static NTSTATUS rtlp_call(PRTL_QUERY_REGISTRY_TABLE e, PWSTR name, ULONG type, PVOID data, ULONG len,
                          const rtlp_query *q)
{
    if (e->Flags & RTL_QUERY_REGISTRY_DIRECT)
        return rtlp_store_direct(e, type, data, len, q->Caller);
    return e->QueryRoutine(name, type, data, len, q->Context, e->EntryContext);
}

/*
 * rtlp_deliver — hand one value to the entry: a REG_MULTI_SZ becomes one REG_SZ call
 * per string and a REG_EXPAND_SZ is expanded to REG_SZ, unless NOEXPAND (or a DIRECT
 * entry for a whole REG_MULTI_SZ) asks for the raw data. The REG_MULTI_SZ split is
 * Windows' as observed: empty strings inside the list are passed on too, only the
 * final NUL (the list terminator) ends it, and a default value that begins with an
 * empty string yields nothing.
 */
static NTSTATUS rtlp_deliver(PRTL_QUERY_REGISTRY_TABLE e, PWSTR name, ULONG type, PVOID data, ULONG len,
                             BOOLEAN is_default, const rtlp_query *q)
{
    if (e->Flags & RTL_QUERY_REGISTRY_NOEXPAND)
        return rtlp_call(e, name, type, data, len, q);
    if (type == REG_MULTI_SZ) {
        const WCHAR *s = data;
        size_t n = len / sizeof(WCHAR), i = 0;
        NTSTATUS status = STATUS_SUCCESS;
        if (is_default && n && !s[0])
            return STATUS_SUCCESS;
        while (i < n && NT_SUCCESS(status)) {
            size_t k = i;
            while (k < n && s[k])
                k++;
            if (k == i && i == n - 1)
                break;                            /* the list's own terminator */
            ULONG bytes = (ULONG)((k - i + (k < n ? 1 : 0)) * sizeof(WCHAR));
            status = rtlp_call(e, name, REG_SZ, (PVOID)(s + i), bytes, q);
            i = k + 1;
        }
        return status;
    }
    if (type == REG_EXPAND_SZ) {
        ULONG xlen;
        WCHAR *x = rtlp_expand(data, len, q->Environment, &xlen);
        if (!x)
            return STATUS_INSUFFICIENT_RESOURCES;
        NTSTATUS status = rtlp_call(e, name, REG_SZ, x, xlen, q);
        free(x);
        return status;
    }
    return rtlp_call(e, name, type, data, len, q);
}

/* The default data's length when DefaultLength is 0 for a string type. */
static ULONG rtlp_default_length(ULONG type, const WCHAR *data)
{
    if (type == REG_SZ || type == REG_EXPAND_SZ)
        return (ULONG)((rtlp_wcslen(data) + 1) * sizeof(WCHAR));
    if (type == REG_MULTI_SZ) {
        size_t n = 0;
        while (data[n] || data[n + 1])
            n++;
        return (ULONG)((n + 2) * sizeof(WCHAR));
    }
    return 0;
}

/* Query one named value of Key into a malloc'ed partial-information buffer. */
static NTSTATUS rtlp_query_value(HANDLE Key, PWSTR Name, PKEY_VALUE_PARTIAL_INFORMATION *out)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, Name);
    ULONG size = sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 64;
    for (;;) {
        PKEY_VALUE_PARTIAL_INFORMATION info = malloc(size);
        if (!info)
            return STATUS_INSUFFICIENT_RESOURCES;
        ULONG need = 0;
        NTSTATUS status = ZwQueryValueKey(Key, &name, KeyValuePartialInformation, info, size, &need);
        if (NT_SUCCESS(status)) {
            *out = info;
            return status;
        }
        free(info);
        if (status != STATUS_BUFFER_OVERFLOW && status != STATUS_BUFFER_TOO_SMALL)
            return status;
        size = need;
    }
}

/* A named entry: the value, else the default, else nothing (or the REQUIRED error). */
static NTSTATUS rtlp_query_named(PRTL_QUERY_REGISTRY_TABLE e, HANDLE Key, const rtlp_query *q)
{
    PKEY_VALUE_PARTIAL_INFORMATION info = NULL;
    NTSTATUS status = Key ? rtlp_query_value(Key, e->Name, &info) : STATUS_OBJECT_NAME_NOT_FOUND;
    if (NT_SUCCESS(status)) {
        status = rtlp_deliver(e, e->Name, info->Type, info->Data, info->DataLength, FALSE, q);
        free(info);
        if (NT_SUCCESS(status) && (e->Flags & RTL_QUERY_REGISTRY_DELETE)) {
            UNICODE_STRING name;
            RtlInitUnicodeString(&name, e->Name);
            ZwDeleteValueKey(Key, &name);
        }
        return status;
    }
    if (status != STATUS_OBJECT_NAME_NOT_FOUND)
        return status;
    if (e->Flags & RTL_QUERY_REGISTRY_REQUIRED)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    ULONG dtype = e->DefaultType & ~(ULONG)RTL_QUERY_REGISTRY_TYPECHECK_MASK;
    if (dtype == REG_NONE)
        return STATUS_SUCCESS;
    ULONG dlen = e->DefaultLength;
    if (!dlen && e->DefaultData)
        dlen = rtlp_default_length(dtype, e->DefaultData);
    return rtlp_deliver(e, e->Name, dtype, e->DefaultData, dlen, TRUE, q);
}

/* An entry without a Name: the QueryRoutine sees every value of the key. */
static NTSTATUS rtlp_query_all(PRTL_QUERY_REGISTRY_TABLE e, HANDLE Key, const rtlp_query *q)
{
    if (!Key)
        return (e->Flags & RTL_QUERY_REGISTRY_REQUIRED) ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_SUCCESS;
    ULONG index = 0, size = 256;
    for (;;) {
        PKEY_VALUE_FULL_INFORMATION info = malloc(size);
        if (!info)
            return STATUS_INSUFFICIENT_RESOURCES;
        ULONG need = 0;
        NTSTATUS status = ZwEnumerateValueKey(Key, index, KeyValueFullInformation, info, size, &need);
        if (status == STATUS_BUFFER_OVERFLOW || status == STATUS_BUFFER_TOO_SMALL) {
            free(info);
            size = need + sizeof(WCHAR);
            continue;
        }
        if (status == STATUS_NO_MORE_ENTRIES) {
            free(info);
            return index == 0 && (e->Flags & RTL_QUERY_REGISTRY_REQUIRED) ? STATUS_OBJECT_NAME_NOT_FOUND
                                                                           : STATUS_SUCCESS;
        }
        if (!NT_SUCCESS(status)) {
            free(info);
            return status;
        }
        /* The name must reach the routine NUL-terminated; it is copied out because the
         * data may follow it directly. */
        ULONG nchars = info->NameLength / sizeof(WCHAR);
        WCHAR *name = malloc((nchars + 1) * sizeof(WCHAR));
        if (!name) {
            free(info);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        memcpy(name, info->Name, info->NameLength);
        name[nchars] = 0;
        status = rtlp_deliver(e, name, info->Type, (PUCHAR)info + info->DataOffset, info->DataLength, FALSE, q);
        if (NT_SUCCESS(status) && (e->Flags & RTL_QUERY_REGISTRY_DELETE)) {
            UNICODE_STRING uname = { (USHORT)info->NameLength, (USHORT)info->NameLength, name };
            ZwDeleteValueKey(Key, &uname);     /* the next value moves to this index */
        } else {
            index++;
        }
        free(name);
        free(info);
        if (!NT_SUCCESS(status))
            return status;
    }
}

/*
 * RtlQueryRegistryValues — run a query table against the key RelativeTo/Path. Each
 * entry either switches the current key (SUBKEY: a subkey of the starting key;
 * TOPKEY: back to the starting key), queries one named value (with defaults,
 * REQUIRED, DIRECT, DELETE), calls the routine once without a value (NOVALUE), or
 * enumerates all values of the current key (no Name). Processing stops at the first
 * failure, whose status is returned.
 */
NTSTATUS NTAPI RtlQueryRegistryValues(ULONG RelativeTo, PCWSTR Path, PRTL_QUERY_REGISTRY_TABLE QueryTable,
                                      PVOID Context, PVOID Environment)
{
    HANDLE top, sub = NULL;
    BOOLEAN owned;
    NTSTATUS status = rtlp_open_key(RelativeTo, Path, FALSE, &top, &owned);
    if (!NT_SUCCESS(status))
        return (status == STATUS_OBJECT_NAME_NOT_FOUND && (RelativeTo & RTL_REGISTRY_OPTIONAL)) ? STATUS_SUCCESS
                                                                                               : status;
    rtlp_query q = { Context, Environment ? Environment : rtlp_default_environment, __builtin_return_address(0) };
    HANDLE current = top;
    for (PRTL_QUERY_REGISTRY_TABLE e = QueryTable; NT_SUCCESS(status) && (e->QueryRoutine || e->Name); e++) {
        if (e->Flags & (RTL_QUERY_REGISTRY_SUBKEY | RTL_QUERY_REGISTRY_TOPKEY)) {
            if (sub) {
                ZwClose(sub);
                sub = NULL;
            }
            current = top;
            if (e->Flags & RTL_QUERY_REGISTRY_SUBKEY) {
                if (!e->Name) {
                    status = STATUS_INVALID_PARAMETER;
                    break;
                }
                status = rtlp_open_subkey(top, e->Name, &sub);
                if (status == STATUS_OBJECT_NAME_NOT_FOUND && !(e->Flags & RTL_QUERY_REGISTRY_REQUIRED))
                    status = STATUS_SUCCESS;   /* following entries find no values */
                current = sub;
                if (!NT_SUCCESS(status))
                    break;
            }
            if (!e->QueryRoutine)
                continue;
            status = (e->Flags & RTL_QUERY_REGISTRY_NOVALUE)
                         ? e->QueryRoutine(NULL, REG_NONE, NULL, 0, q.Context, e->EntryContext)
                         : rtlp_query_all(e, current, &q);
            continue;
        }
        if (e->Flags & RTL_QUERY_REGISTRY_DIRECT) {
            if (!e->Name || !e->EntryContext) {
                status = STATUS_INVALID_PARAMETER;
                break;
            }
            status = rtlp_query_named(e, current, &q);
        } else if (!e->QueryRoutine) {
            status = STATUS_INVALID_PARAMETER;
        } else if (e->Flags & RTL_QUERY_REGISTRY_NOVALUE) {
            status = e->QueryRoutine(NULL, REG_NONE, NULL, 0, q.Context, e->EntryContext);
        } else if (e->Name) {
            status = rtlp_query_named(e, current, &q);
        } else {
            status = rtlp_query_all(e, current, &q);
        }
    }
    if (sub)
        ZwClose(sub);
    if (owned)
        ZwClose(top);
    return status;
}

/* RtlWriteRegistryValue — set a value, creating the (last) key of the path if needed. */
NTSTATUS NTAPI RtlWriteRegistryValue(ULONG RelativeTo, PCWSTR Path, PCWSTR ValueName, ULONG ValueType,
                                     PVOID ValueData, ULONG ValueLength)
{
    HANDLE key;
    BOOLEAN owned;
    NTSTATUS status = rtlp_open_key(RelativeTo, Path, TRUE, &key, &owned);
    if (!NT_SUCCESS(status))
        return status;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, ValueName);
    status = ZwSetValueKey(key, &name, 0, ValueType, ValueData, ValueLength);
    if (owned)
        ZwClose(key);
    return status;
}

/* RtlDeleteRegistryValue — delete one value of an existing key. */
NTSTATUS NTAPI RtlDeleteRegistryValue(ULONG RelativeTo, PCWSTR Path, PCWSTR ValueName)
{
    HANDLE key;
    BOOLEAN owned;
    NTSTATUS status = rtlp_open_key(RelativeTo, Path, FALSE, &key, &owned);
    if (!NT_SUCCESS(status))
        return status;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, ValueName);
    status = ZwDeleteValueKey(key, &name);
    if (owned)
        ZwClose(key);
    return status;
}

/* rtlp_touch_key — open (Create: or create) the key only to learn whether that works. */
static NTSTATUS rtlp_touch_key(ULONG RelativeTo, PWSTR Path, BOOLEAN Create)
{
    HANDLE key;
    BOOLEAN owned;
    NTSTATUS status = rtlp_open_key(RelativeTo, Path, Create, &key, &owned);
    if (NT_SUCCESS(status) && owned)
        ZwClose(key);
    return status;
}

/* RtlCheckRegistryKey — STATUS_SUCCESS when the key exists. */
NTSTATUS NTAPI RtlCheckRegistryKey(ULONG RelativeTo, PWSTR Path)
{
    return rtlp_touch_key(RelativeTo, Path, FALSE);
}

/* RtlCreateRegistryKey — create the key (its parent must exist, as with ZwCreateKey). */
NTSTATUS NTAPI RtlCreateRegistryKey(ULONG RelativeTo, PWSTR Path)
{
    return rtlp_touch_key(RelativeTo, Path, TRUE);
}
