/*
 * fuzz_stack.h — boot nthost with parport and DongLpt once per fuzzing process, for
 * the targets that fuzz the driver stack (fuzz_ioctl.c, fuzz_keystream.c).
 */
#ifndef DONG_FUZZ_STACK_H
#define DONG_FUZZ_STACK_H

/* Boot (once; later calls do nothing) a machine whose [LPTn] sections are `ports`
   (machine description text; key images must be "none"), in virtual time with the
   verifier on; nthost is shut down at exit. Aborts when the boot fails. */
void fuzz_stack_boot(const char *ports);

#endif
