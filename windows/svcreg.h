/*
 * windows/svcreg.h — what donginst.exe takes from driver/donglpt.reg: the service's
 * settings for CreateService (Services\<name>: Type, Start, ErrorControl, Group,
 * ImagePath) and which values it writes itself (the Parameters subtree). Plain C on
 * top of regfile.h, so the tests check the installer's choices on Linux.
 */
#ifndef DONG_SVCREG_H
#define DONG_SVCREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVCREG_MAX_TEXT 260

typedef struct svc_reg {
    uint32_t type, start, error_control;
    uint16_t group[SVCREG_MAX_TEXT];   /* UTF-16, NUL-terminated; empty when absent */
    uint16_t image[SVCREG_MAX_TEXT];   /* UTF-16; empty when absent */
} svc_reg;

/*
 * Read the settings of Services\<service> from the .reg at path. Returns 0, or -1
 * with the reason in err: unreadable file, Type/Start/ErrorControl missing or not
 * DWORDs, Type other than 1 (kernel driver).
 */
int svc_reg_read(const char *path, const char *service, svc_reg *out, char *err, size_t errlen);

/*
 * For a key of the .reg (as written between [ ]): the path below HKEY_LOCAL_MACHINE
 * to write its values to when it is Services\<service>\Parameters or a key below it,
 * else NULL (the service key itself belongs to the SCM; other keys are not ours).
 */
const char *svc_reg_parameter_subkey(const char *key, const char *service);

#endif
