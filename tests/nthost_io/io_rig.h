/*
 * io_rig.h — shared set-up of the nthost I/O kernel-side tests: boot the test machine,
 * act as the loader for drivers that live in the test program itself, and run a
 * provocation in a forked child to read its bugcheck report.
 */
#ifndef IO_RIG_H
#define IO_RIG_H

#include <ntddk.h>

/* Boot the test machine (io.ini) with no services started; fails the test on error. */
void rig_boot(BOOLEAN verifier);
void rig_shutdown(void);

/* A driver object for code in this test program (\Driver\<name>), as the loader
 * makes one; rig_driver_entered() is the loader's "DriverEntry returned". */
PDRIVER_OBJECT rig_driver(PCWSTR name);
void rig_driver_entered(PDRIVER_OBJECT driver);
void rig_driver_gone(PDRIVER_OBJECT driver);
/* A named device with a zeroed extension of `ext` bytes (name NULL: unnamed). */
PDEVICE_OBJECT rig_device(PDRIVER_OBJECT driver, PCWSTR name, ULONG ext, ULONG flags);

/* The base and size of this test program's image (for the unload checks). */
void rig_image(PVOID *base, SIZE_T *size);

/* Run fn in a forked child that boots with the verifier on; the child must bugcheck.
 * Asserts the report's code, first parameter (p1 = (ULONG_PTR)-1: not checked) and,
 * when `says` is not NULL, that the report contains that text. */
typedef void rig_provocation(void);
void rig_expect_bugcheck(rig_provocation *fn, ULONG code, ULONG_PTR p1, const char *says);

#endif
