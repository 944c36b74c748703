/*
 * se_internal.h — the security reference monitor inside nthost (se_access.c): the
 * calling thread's identity (nthost_set_identity) checked against a device's
 * security descriptor when the I/O manager opens it.
 */
#ifndef NTHOST_SE_INTERNAL_H
#define NTHOST_SE_INTERNAL_H

#include <ntddk.h>

/*
 * SepDeviceAccessCheck: may the calling thread open Device for DesiredAccess (GENERIC
 * rights already mapped)? Devices carry NT's default descriptor for a named legacy
 * device (nthost.h, "security"). KernelMode opens always pass.
 * Returns STATUS_SUCCESS or STATUS_ACCESS_DENIED.
 */
NTSTATUS SepDeviceAccessCheck(PDEVICE_OBJECT Device, ACCESS_MASK DesiredAccess, KPROCESSOR_MODE Mode);

#endif
