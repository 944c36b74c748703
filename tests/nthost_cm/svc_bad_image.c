/*
 * svc_bad_image.c — driver images the loader must refuse, as NT refuses them:
 *   BAD_UNDEFINED  1: imports a routine nthost does not export (an unresolved import)
 *   otherwise:        exports no DriverEntry (no entry point)
 */
#include <ntddk.h>

#if BAD_UNDEFINED
NTSTATUS NTAPI NthostHasNoSuchRoutine(PDRIVER_OBJECT DriverObject);

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)RegistryPath;
    return NthostHasNoSuchRoutine(DriverObject);
}
#else
NTSTATUS NTAPI NotTheEntryPoint(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)DriverObject;
    (void)RegistryPath;
    return STATUS_SUCCESS;
}
#endif
