/*
 * winioctl.h — I/O control code construction for Win32 programs on nthost.
 *
 * The values are Windows' own: a control code is
 *   (DeviceType << 16) | (Access << 14) | (Function << 2) | Method
 * and the I/O manager checks Access against the handle's granted access before a
 * request reaches the driver. The definitions are common/devioctl.h, which the DDK's
 * <wdm.h> includes too (nthost's own sources include both personalities).
 */
#ifndef NTHOST_WINIOCTL_H
#define NTHOST_WINIOCTL_H

#include <windows.h>

/* Device types, CTL_CODE, METHOD_* and FILE_*_ACCESS: shared with the DDK's <wdm.h>. */
#include <devioctl.h>

#endif /* NTHOST_WINIOCTL_H */
