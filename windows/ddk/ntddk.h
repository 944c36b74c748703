/*
 * windows/ddk/ntddk.h — mingw-w64's <ntddk.h> for the Windows build, with the
 * kernel's object-type exports (PsThreadType, IoFileObjectType, ...) imported the
 * way the kernel exports them. Found before the DDK directory (windows/CMakeLists.txt);
 * the driver source does not change.
 *
 * ntoskrnl.exe exports each of these names as its POBJECT_TYPE variable. The DDK
 * contract is `extern POBJECT_TYPE *PsThreadType`, where the name stands for the
 * driver's import slot, which the loader fills with the variable's address, so
 * `*PsThreadType` is the object type. mingw-w64 declares the names
 * `__declspec(dllimport)`, which makes the name the variable itself and
 * `*PsThreadType` one dereference too many. Here each name is the import slot
 * (`__imp_<name>`, what libntoskrnl.a provides), as on the DDK's own toolchain.
 */
#ifndef DONG_WINDOWS_NTDDK_H
#define DONG_WINDOWS_NTDDK_H

#include_next <ntddk.h>

#define DONG_DDK_OBJECT_TYPES(X) \
    X(CmKeyObjectType) X(ExEventObjectType) X(ExSemaphoreObjectType) X(IoFileObjectType) \
    X(PsProcessType) X(PsThreadType) X(SeTokenObjectType)
#define DONG_DDK_IMPORT_SLOT(name) extern POBJECT_TYPE *__imp_##name;
DONG_DDK_OBJECT_TYPES(DONG_DDK_IMPORT_SLOT)
#undef DONG_DDK_IMPORT_SLOT

#define CmKeyObjectType       __imp_CmKeyObjectType
#define ExEventObjectType     __imp_ExEventObjectType
#define ExSemaphoreObjectType __imp_ExSemaphoreObjectType
#define IoFileObjectType      __imp_IoFileObjectType
#define PsProcessType         __imp_PsProcessType
#define PsThreadType          __imp_PsThreadType
#define SeTokenObjectType     __imp_SeTokenObjectType

#endif
