/*
 * cm_zw.c — the Zw key services over the registry tree.
 *
 * An open key is an Ob object of type "Key" whose body references a cm_key; its
 * handle lives in the one handle table and is closed by ZwClose like any other. The
 * body's reference keeps a deleted key's node alive, so operations on a handle to a
 * deleted key answer STATUS_KEY_DELETED, as NT does.
 *
 * Names: registry lookups are always case-insensitive (NT ignores the absence of
 * OBJ_CASE_INSENSITIVE for keys). An absolute name starts with \Registry; a name
 * relative to RootDirectory must not start with a backslash.
 *
 * Query results follow NT's length rules: a buffer smaller than the fixed part of the
 * information class gets STATUS_BUFFER_TOO_SMALL and nothing; a buffer holding the
 * fixed part but not all of the name/data gets STATUS_BUFFER_OVERFLOW with the fixed
 * part and as much of the rest as fits; ResultLength is always the full size needed.
 */
#include <ntddk.h>

#include <errno.h>
#include <stdlib.h>

#include "cm_internal.h"
#include "ob_internal.h"

/* "CmKy" in pool dumps. */
#define CM_KEY_POOL_TAG ((ULONG)'C' | (ULONG)'m' << 8 | (ULONG)'K' << 16 | (ULONG)'y' << 24)

typedef struct _CM_KEY_BODY {
    cm_key *Kcb;
} CM_KEY_BODY, *PCM_KEY_BODY;

/* The key object's last reference went: release its hold on the tree node. */
static VOID CmpDeleteKeyObject(PVOID Object);

static struct _OBJECT_TYPE CmpKeyType = {
    .Name = "Key",
    .PoolTag = CM_KEY_POOL_TAG,
    .DeleteProcedure = CmpDeleteKeyObject,
    .GenericMapping = { KEY_READ, KEY_WRITE, KEY_EXECUTE, KEY_ALL_ACCESS },
    .WaitObjectOffset = -1,
};
static POBJECT_TYPE CmpKeyTypePtr = &CmpKeyType;
/* The key object type, exported as NT's CmKeyObjectType. */
POBJECT_TYPE *CmKeyObjectType = &CmpKeyTypePtr;

/* NT system time of the running machine for LastWriteTime. */
static int64_t CmpSystemTime(void)
{
    LARGE_INTEGER now;
    KeQuerySystemTime(&now);
    return now.QuadPart;
}

/* Called by boot once the kernel runs: key times come from the machine clock. */
void CmpUseMachineClock(void)
{
    cm_set_time_source(CmpSystemTime);
}

static VOID CmpDeleteKeyObject(PVOID Object)
{
    PCM_KEY_BODY body = Object;
    if (!body->Kcb)
        return;
    cm_lock();
    cm_key_unref(body->Kcb);
    cm_unlock();
}

/*
 * CmpKeyFromHandle — the key behind a handle, checking type and granted access. The
 * caller holds the CPU, so the object stays valid without a reference.
 */
static NTSTATUS CmpKeyFromHandle(HANDLE Handle, ACCESS_MASK Needed, cm_key **Key)
{
    ACCESS_MASK granted = 0;
    PVOID object = ObpLookupHandle(Handle, KernelMode, &granted);
    if (!object)
        return STATUS_INVALID_HANDLE;
    if (!ObpIsObjectOfType(object, CmpKeyTypePtr))
        return STATUS_OBJECT_TYPE_MISMATCH;
    if ((granted & Needed) != Needed)
        return STATUS_ACCESS_DENIED;
    *Key = ((PCM_KEY_BODY)object)->Kcb;
    return STATUS_SUCCESS;
}

/* The NTSTATUS for a tree operation's result. */
static NTSTATUS CmpStatusFromErrno(int rc)
{
    switch (rc) {
    case 0: return STATUS_SUCCESS;
    case -ENOENT: return STATUS_OBJECT_NAME_NOT_FOUND;
    case -EINVAL: return STATUS_OBJECT_NAME_INVALID;
    case -EBUSY: return STATUS_CANNOT_DELETE;
    default: return STATUS_INSUFFICIENT_RESOURCES;
    }
}

/*
 * CmpResolveStart — split ObjectAttributes into the key to start from and the path
 * below it (UTF-16 units); *RootAccess is what the RootDirectory handle grants
 * (everything for an absolute name). Cm lock held.
 */
static NTSTATUS CmpResolveStart(POBJECT_ATTRIBUTES Oa, cm_key **Start, const WCHAR **Path, ULONG *Len,
                                ACCESS_MASK *RootAccess)
{
    *RootAccess = KEY_ALL_ACCESS;
    if (!Oa || Oa->Length != sizeof(OBJECT_ATTRIBUTES))
        return STATUS_INVALID_PARAMETER;
    const WCHAR *name = Oa->ObjectName ? Oa->ObjectName->Buffer : NULL;
    ULONG len = Oa->ObjectName ? Oa->ObjectName->Length / sizeof(WCHAR) : 0;
    if (len && !name)
        return STATUS_INVALID_PARAMETER;
    if (Oa->RootDirectory) {
        cm_key *root;
        NTSTATUS status = CmpKeyFromHandle(Oa->RootDirectory, 0, &root);
        if (!NT_SUCCESS(status))
            return status;
        ObpLookupHandle(Oa->RootDirectory, KernelMode, RootAccess);
        if (len && name[0] == L'\\')
            return STATUS_OBJECT_PATH_SYNTAX_BAD;
        *Start = root;
        *Path = name;
        *Len = len;
        return STATUS_SUCCESS;
    }
    if (!len || name[0] != L'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    /* \Registry is the root key; anything else is not a key in the namespace. */
    static const WCHAR registry[] = L"REGISTRY";
    ULONG first = 1;
    while (first < len && name[first] != L'\\')
        first++;
    if (!cm_name_equal((const uint16_t *)name + 1, first - 1, (const uint16_t *)registry, 8))
        return STATUS_OBJECT_NAME_NOT_FOUND;
    *Start = cm_root();
    *Path = first < len ? name + first + 1 : name + len;
    *Len = first < len ? len - first - 1 : 0;
    if (first < len && !*Len)
        return STATUS_OBJECT_NAME_INVALID;    /* "\Registry\" */
    return STATUS_SUCCESS;
}

/* The access a key handle asks for: the WOW64 view bits select nothing here, and a
 * request for no right at all is refused, as NT refuses it. */
static NTSTATUS CmpCheckDesiredAccess(ACCESS_MASK *Access)
{
    *Access &= ~(ACCESS_MASK)(KEY_WOW64_32KEY | KEY_WOW64_64KEY);
    return *Access ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
}

/* Wrap a referenced key in a new key object and hand out a handle. */
static NTSTATUS CmpOpenHandle(cm_key *Key, ACCESS_MASK Access, ULONG Attributes, PHANDLE Handle)
{
    PCM_KEY_BODY body;
    NTSTATUS status = ObpCreateObject(CmpKeyTypePtr, sizeof(*body), (PVOID *)&body);
    if (!NT_SUCCESS(status)) {
        cm_lock();
        cm_key_unref(Key);
        cm_unlock();
        return status;
    }
    body->Kcb = Key;
    status = ObpCreateHandle(body, Access, Attributes, Handle);
    ObDereferenceObject(body);          /* the handle holds the object now (or nothing does) */
    return status;
}

/* Keep the Class a new key is created with (KEY_FULL/NODE_INFORMATION report it). */
static NTSTATUS CmpSetClass(cm_key *Key, PUNICODE_STRING Class)
{
    if (!Class || !Class->Length)
        return STATUS_SUCCESS;
    Key->class_name = malloc(Class->Length);
    if (!Key->class_name)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(Key->class_name, Class->Buffer, Class->Length);
    Key->class_len = Class->Length / sizeof(WCHAR);
    return STATUS_SUCCESS;
}

/* ZwOpenKey — open an existing key. */
NTSTATUS NTAPI ZwOpenKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes)
{
    if (!KeyHandle)
        return STATUS_INVALID_PARAMETER;
    if (!NT_SUCCESS(CmpCheckDesiredAccess(&DesiredAccess)))
        return STATUS_ACCESS_DENIED;
    cm_key *start, *key = NULL;
    const WCHAR *path;
    ULONG len;
    ACCESS_MASK root_access;
    cm_lock();
    NTSTATUS status = CmpResolveStart(ObjectAttributes, &start, &path, &len, &root_access);
    if (NT_SUCCESS(status) && start->deleted)
        status = STATUS_KEY_DELETED;
    if (NT_SUCCESS(status))
        status = CmpStatusFromErrno(cm_lookup(start, (const uint16_t *)path, len, &key));
    if (NT_SUCCESS(status))
        cm_key_ref(key);
    cm_unlock();
    if (!NT_SUCCESS(status))
        return status;
    return CmpOpenHandle(key, DesiredAccess, ObjectAttributes->Attributes, KeyHandle);
}

/* ZwCreateKey — open a key or create its last path component (not intermediate ones). */
NTSTATUS NTAPI ZwCreateKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                           ULONG TitleIndex, PUNICODE_STRING Class, ULONG CreateOptions, PULONG Disposition)
{
    (void)TitleIndex;
    if (!KeyHandle)
        return STATUS_INVALID_PARAMETER;
    if (!NT_SUCCESS(CmpCheckDesiredAccess(&DesiredAccess)))
        return STATUS_ACCESS_DENIED;
    cm_key *start, *key = NULL;
    const WCHAR *path;
    ULONG len;
    BOOLEAN created = FALSE;
    ACCESS_MASK root_access;
    cm_lock();
    NTSTATUS status = CmpResolveStart(ObjectAttributes, &start, &path, &len, &root_access);
    if (NT_SUCCESS(status) && start->deleted)
        status = STATUS_KEY_DELETED;
    if (NT_SUCCESS(status)) {
        ULONG cut = len;
        while (cut && path[cut - 1] != L'\\')
            cut--;
        cm_key *parent = start;
        if (cut)
            status = CmpStatusFromErrno(cm_lookup(start, (const uint16_t *)path, cut - 1, &parent));
        if (NT_SUCCESS(status)) {
            const uint16_t *leaf = (const uint16_t *)path + cut;
            ULONG leaf_len = len - cut;
            key = leaf_len ? cm_find_child(parent, leaf, leaf_len) : parent;
            if (!key) {
                if (leaf_len > CM_MAX_KEY_NAME_CHARS) {
                    status = STATUS_OBJECT_NAME_INVALID;
                } else if (parent == start && !(root_access & KEY_CREATE_SUB_KEY)) {
                    status = STATUS_ACCESS_DENIED;  /* creating below RootDirectory needs the right */
                } else if (parent->is_volatile && !(CreateOptions & REG_OPTION_VOLATILE)) {
                    status = STATUS_CHILD_MUST_BE_VOLATILE;
                } else {
                    bool made;
                    status = CmpStatusFromErrno(cm_create_path(parent, leaf, leaf_len, &key, &made));
                    if (NT_SUCCESS(status)) {
                        key->is_volatile = (CreateOptions & REG_OPTION_VOLATILE) != 0;
                        created = TRUE;
                        status = CmpSetClass(key, Class);
                    }
                }
            }
        }
    }
    if (NT_SUCCESS(status))
        cm_key_ref(key);
    cm_unlock();
    if (!NT_SUCCESS(status))
        return status;
    status = CmpOpenHandle(key, DesiredAccess, ObjectAttributes->Attributes, KeyHandle);
    if (NT_SUCCESS(status) && Disposition)
        *Disposition = created ? REG_CREATED_NEW_KEY : REG_OPENED_EXISTING_KEY;
    return status;
}

/* ZwDeleteKey — delete a key without subkeys; open handles to it stay valid. Deleting
 * an already deleted key succeeds again, as on NT. */
NTSTATUS NTAPI ZwDeleteKey(HANDLE KeyHandle)
{
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, DELETE, &key);
    if (!NT_SUCCESS(status))
        return status;
    cm_lock();
    if (key->deleted)
        status = STATUS_SUCCESS;
    else if (key == cm_root() || key->parent == cm_root())
        status = STATUS_CANNOT_DELETE;      /* the hive roots */
    else
        status = CmpStatusFromErrno(cm_delete_key(key));
    cm_unlock();
    return status;
}

/* The registry file (NTHOST_REGISTRY_FILE): ZwFlushKey and shutdown write it. */
static char *CmpFlushFile;

/* Where ZwFlushKey saves the registry (cm_internal.h). */
void CmpSetFlushFile(const char *Path)
{
    free(CmpFlushFile);
    CmpFlushFile = Path ? strdup(Path) : NULL;
}

/* Save the whole registry to the flush file, if one is set (cm_internal.h). */
NTSTATUS CmpFlushRegistry(void)
{
    if (!CmpFlushFile)
        return STATUS_SUCCESS;
    char err[256];
    return cm_export_reg_file(CmpFlushFile, "", err, sizeof(err)) ? STATUS_REGISTRY_IO_FAILED : STATUS_SUCCESS;
}

/* ZwFlushKey — write the registry to its file now (the whole registry is one hive). */
NTSTATUS NTAPI ZwFlushKey(HANDLE KeyHandle)
{
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, 0, &key);
    if (!NT_SUCCESS(status))
        return status;
    cm_lock();
    bool deleted = key->deleted;
    cm_unlock();
    return deleted ? STATUS_KEY_DELETED : CmpFlushRegistry();
}

/* ------------------------------------------------------------------ values ---- */

static ULONG CmpAlign(ULONG v, ULONG a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Copy up to `room` of `n` bytes; returns whether all fit. */
static BOOLEAN CmpCopyPart(PUCHAR dst, ULONG room, const void *src, ULONG n)
{
    if (n && room)
        memcpy(dst, src, n < room ? n : room);
    return n <= room;
}

/*
 * CmpFillValueInformation — fill one KEY_VALUE_*_INFORMATION for value v (NT's
 * length rules, see the file header).
 */
static NTSTATUS CmpFillValueInformation(const cm_value *v, KEY_VALUE_INFORMATION_CLASS Class, PVOID Buffer,
                                        ULONG Length, PULONG ResultLength)
{
    ULONG name_bytes = v->name_len * sizeof(WCHAR), fixed, needed;
    PUCHAR out = Buffer;
    BOOLEAN all;
    switch (Class) {
    case KeyValueBasicInformation: {
        fixed = FIELD_OFFSET(KEY_VALUE_BASIC_INFORMATION, Name);
        needed = fixed + name_bytes;
        *ResultLength = needed;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_VALUE_BASIC_INFORMATION info = Buffer;
        info->TitleIndex = 0;
        info->Type = v->type;
        info->NameLength = name_bytes;
        all = CmpCopyPart(out + fixed, Length - fixed, v->name, name_bytes);
        break;
    }
    case KeyValueFullInformation:
    case KeyValueFullInformationAlign64: {
        fixed = FIELD_OFFSET(KEY_VALUE_FULL_INFORMATION, Name);
        ULONG data_offset = CmpAlign(fixed + name_bytes, Class == KeyValueFullInformation ? sizeof(ULONG) : 8);
        needed = data_offset + v->size;
        *ResultLength = needed;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_VALUE_FULL_INFORMATION info = Buffer;
        info->TitleIndex = 0;
        info->Type = v->type;
        info->DataOffset = data_offset;
        info->DataLength = v->size;
        info->NameLength = name_bytes;
        CmpCopyPart(out + fixed, Length - fixed, v->name, name_bytes);
        if (Length > data_offset)
            CmpCopyPart(out + data_offset, Length - data_offset, v->data, v->size);
        all = Length >= needed;            /* the alignment padding counts too */
        break;
    }
    case KeyValuePartialInformationAlign64: {
        /* KEY_VALUE_PARTIAL_INFORMATION_ALIGN64: no TitleIndex, data at offset 8. */
        fixed = 2 * sizeof(ULONG);
        needed = fixed + v->size;
        *ResultLength = needed;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        ULONG header[2] = { v->type, v->size };
        memcpy(out, header, sizeof(header));
        all = CmpCopyPart(out + fixed, Length - fixed, v->data, v->size);
        break;
    }
    case KeyValuePartialInformation: {
        fixed = FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION, Data);
        needed = fixed + v->size;
        *ResultLength = needed;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_VALUE_PARTIAL_INFORMATION info = Buffer;
        info->TitleIndex = 0;
        info->Type = v->type;
        info->DataLength = v->size;
        all = CmpCopyPart(out + fixed, Length - fixed, v->data, v->size);
        break;
    }
    default:
        return STATUS_INVALID_PARAMETER;
    }
    return all ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
}

/* A value name argument; NULL means the default value, as an empty name does. */
static void CmpValueName(PUNICODE_STRING Name, const uint16_t **s, uint32_t *len)
{
    *s = Name && Name->Buffer ? (const uint16_t *)Name->Buffer : (const uint16_t *)L"";
    *len = Name ? Name->Length / sizeof(WCHAR) : 0;
}

/* ZwQueryValueKey — one value by name (empty or NULL name: the default value). */
NTSTATUS NTAPI ZwQueryValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName,
                               KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass, PVOID KeyValueInformation,
                               ULONG Length, PULONG ResultLength)
{
    if (!ResultLength || (Length && !KeyValueInformation))
        return STATUS_INVALID_PARAMETER;
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, KEY_QUERY_VALUE, &key);
    if (!NT_SUCCESS(status))
        return status;
    const uint16_t *name;
    uint32_t len;
    CmpValueName(ValueName, &name, &len);
    cm_lock();
    const cm_value *v = key->deleted ? NULL : cm_find_value(key, name, len);
    if (key->deleted)
        status = STATUS_KEY_DELETED;
    else if (!v)
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    else
        status = CmpFillValueInformation(v, KeyValueInformationClass, KeyValueInformation, Length, ResultLength);
    cm_unlock();
    return status;
}

/* ZwEnumerateValueKey — the Index'th value in creation order. */
NTSTATUS NTAPI ZwEnumerateValueKey(HANDLE KeyHandle, ULONG Index,
                                   KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass, PVOID KeyValueInformation,
                                   ULONG Length, PULONG ResultLength)
{
    if (!ResultLength || (Length && !KeyValueInformation))
        return STATUS_INVALID_PARAMETER;
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, KEY_QUERY_VALUE, &key);
    if (!NT_SUCCESS(status))
        return status;
    cm_lock();
    if (key->deleted)
        status = STATUS_KEY_DELETED;
    else if (Index >= key->nvalues)
        status = STATUS_NO_MORE_ENTRIES;
    else
        status = CmpFillValueInformation(key->values[Index], KeyValueInformationClass, KeyValueInformation, Length,
                                         ResultLength);
    cm_unlock();
    return status;
}

/* ZwSetValueKey — create or replace a value. */
NTSTATUS NTAPI ZwSetValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName, ULONG TitleIndex, ULONG Type,
                             PVOID Data, ULONG DataSize)
{
    (void)TitleIndex;
    if (DataSize && !Data)
        return STATUS_INVALID_PARAMETER;
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, KEY_SET_VALUE, &key);
    if (!NT_SUCCESS(status))
        return status;
    const uint16_t *name;
    uint32_t len;
    CmpValueName(ValueName, &name, &len);
    if (len > CM_MAX_VALUE_NAME_CHARS)
        return STATUS_INVALID_PARAMETER;
    cm_lock();
    status = key->deleted ? STATUS_KEY_DELETED : CmpStatusFromErrno(cm_set_value(key, name, len, Type, Data, DataSize));
    cm_unlock();
    return status;
}

/* ZwDeleteValueKey — remove a value. */
NTSTATUS NTAPI ZwDeleteValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName)
{
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, KEY_SET_VALUE, &key);
    if (!NT_SUCCESS(status))
        return status;
    const uint16_t *name;
    uint32_t len;
    CmpValueName(ValueName, &name, &len);
    cm_lock();
    status = key->deleted ? STATUS_KEY_DELETED : CmpStatusFromErrno(cm_delete_value(key, name, len));
    cm_unlock();
    return status;
}

/* -------------------------------------------------------------------- keys ---- */

/* Length in bytes of the key's full name "\REGISTRY\...". */
static ULONG CmpFullNameBytes(const cm_key *key)
{
    ULONG n = 0;
    for (const cm_key *k = key; k; k = k->parent)
        n += (k->name_len + 1) * sizeof(WCHAR);
    return n;
}

/* Write "\REGISTRY\...\<key>" backwards from the end of a buffer of `bytes`. */
static void CmpWriteFullName(const cm_key *key, WCHAR *out, ULONG bytes)
{
    ULONG pos = bytes / sizeof(WCHAR);
    for (const cm_key *k = key; k; k = k->parent) {
        pos -= k->name_len;
        memcpy(out + pos, k->name, k->name_len * sizeof(WCHAR));
        out[--pos] = L'\\';
    }
}

/* Fill one KEY_*_INFORMATION for key k (NT's length rules). */
static NTSTATUS CmpFillKeyInformation(const cm_key *k, KEY_INFORMATION_CLASS Class, PVOID Buffer, ULONG Length,
                                      PULONG ResultLength)
{
    ULONG name_bytes = k->name_len * sizeof(WCHAR), fixed;
    PUCHAR out = Buffer;
    switch (Class) {
    case KeyBasicInformation: {
        fixed = FIELD_OFFSET(KEY_BASIC_INFORMATION, Name);
        *ResultLength = fixed + name_bytes;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_BASIC_INFORMATION info = Buffer;
        info->LastWriteTime.QuadPart = k->last_write;
        info->TitleIndex = 0;
        info->NameLength = name_bytes;
        return CmpCopyPart(out + fixed, Length - fixed, k->name, name_bytes) ? STATUS_SUCCESS
                                                                              : STATUS_BUFFER_OVERFLOW;
    }
    case KeyNodeInformation: {
        /* The class follows the name. */
        fixed = FIELD_OFFSET(KEY_NODE_INFORMATION, Name);
        ULONG class_bytes = k->class_len * sizeof(WCHAR);
        *ResultLength = fixed + name_bytes + class_bytes;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_NODE_INFORMATION info = Buffer;
        info->LastWriteTime.QuadPart = k->last_write;
        info->TitleIndex = 0;
        info->ClassOffset = class_bytes ? fixed + name_bytes : 0xFFFFFFFFu;
        info->ClassLength = class_bytes;
        info->NameLength = name_bytes;
        CmpCopyPart(out + fixed, Length - fixed, k->name, name_bytes);
        if (class_bytes && Length > fixed + name_bytes)
            CmpCopyPart(out + fixed + name_bytes, Length - fixed - name_bytes, k->class_name, class_bytes);
        return Length >= *ResultLength ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
    }
    case KeyFullInformation: {
        fixed = FIELD_OFFSET(KEY_FULL_INFORMATION, Class);
        ULONG class_bytes = k->class_len * sizeof(WCHAR);
        *ResultLength = fixed + class_bytes;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_FULL_INFORMATION info = Buffer;
        info->LastWriteTime.QuadPart = k->last_write;
        info->TitleIndex = 0;
        info->ClassOffset = class_bytes ? fixed : 0xFFFFFFFFu;
        info->ClassLength = class_bytes;
        info->SubKeys = k->nchildren;
        info->Values = k->nvalues;
        info->MaxNameLen = info->MaxClassLen = info->MaxValueNameLen = info->MaxValueDataLen = 0;
        for (uint32_t i = 0; i < k->nchildren; i++) {
            if (k->children[i]->name_len * sizeof(WCHAR) > info->MaxNameLen)
                info->MaxNameLen = k->children[i]->name_len * sizeof(WCHAR);
            if (k->children[i]->class_len * sizeof(WCHAR) > info->MaxClassLen)
                info->MaxClassLen = k->children[i]->class_len * sizeof(WCHAR);
        }
        for (uint32_t i = 0; i < k->nvalues; i++) {
            if (k->values[i]->name_len * sizeof(WCHAR) > info->MaxValueNameLen)
                info->MaxValueNameLen = k->values[i]->name_len * sizeof(WCHAR);
            if (k->values[i]->size > info->MaxValueDataLen)
                info->MaxValueDataLen = k->values[i]->size;
        }
        return CmpCopyPart(out + fixed, Length - fixed, k->class_name, class_bytes) ? STATUS_SUCCESS
                                                                                      : STATUS_BUFFER_OVERFLOW;
    }
    case KeyNameInformation: {
        fixed = FIELD_OFFSET(KEY_NAME_INFORMATION, Name);
        ULONG full = CmpFullNameBytes(k);
        *ResultLength = fixed + full;
        if (Length < fixed)
            return STATUS_BUFFER_TOO_SMALL;
        PKEY_NAME_INFORMATION info = Buffer;
        info->NameLength = full;
        WCHAR *name = malloc(full);
        if (!name)
            return STATUS_INSUFFICIENT_RESOURCES;
        CmpWriteFullName(k, name, full);
        BOOLEAN all = CmpCopyPart(out + fixed, Length - fixed, name, full);
        free(name);
        return all ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
    }
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

/* ZwEnumerateKey — the Index'th subkey, in NT's (case-insensitive sorted) order. */
NTSTATUS NTAPI ZwEnumerateKey(HANDLE KeyHandle, ULONG Index, KEY_INFORMATION_CLASS KeyInformationClass,
                              PVOID KeyInformation, ULONG Length, PULONG ResultLength)
{
    if (!ResultLength || (Length && !KeyInformation))
        return STATUS_INVALID_PARAMETER;
    if (KeyInformationClass == KeyNameInformation)
        return STATUS_INVALID_PARAMETER;    /* ZwQueryKey only */
    cm_key *key;
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, KEY_ENUMERATE_SUB_KEYS, &key);
    if (!NT_SUCCESS(status))
        return status;
    cm_lock();
    if (key->deleted)
        status = STATUS_KEY_DELETED;
    else if (Index >= key->nchildren)
        status = STATUS_NO_MORE_ENTRIES;
    else
        status = CmpFillKeyInformation(key->children[Index], KeyInformationClass, KeyInformation, Length,
                                       ResultLength);
    cm_unlock();
    return status;
}

/* ZwQueryKey — information about the key itself. */
NTSTATUS NTAPI ZwQueryKey(HANDLE KeyHandle, KEY_INFORMATION_CLASS KeyInformationClass, PVOID KeyInformation,
                          ULONG Length, PULONG ResultLength)
{
    if (!ResultLength || (Length && !KeyInformation))
        return STATUS_INVALID_PARAMETER;
    cm_key *key;
    /* KeyNameInformation needs no access right, the others KEY_QUERY_VALUE. */
    NTSTATUS status = CmpKeyFromHandle(KeyHandle, KeyInformationClass == KeyNameInformation ? 0 : KEY_QUERY_VALUE,
                                       &key);
    if (!NT_SUCCESS(status))
        return status;
    cm_lock();
    status = key->deleted ? STATUS_KEY_DELETED
                          : CmpFillKeyInformation(key, KeyInformationClass, KeyInformation, Length, ResultLength);
    cm_unlock();
    return status;
}
