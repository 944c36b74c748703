/*
 * windows/svcreg.c — see svcreg.h.
 */
#include "svcreg.h"

#include <stdio.h>
#include <string.h>

#include "regfile.h"

#define HKLM_PREFIX     "HKEY_LOCAL_MACHINE\\"
#define SERVICES_PREFIX "SYSTEM\\CurrentControlSet\\Services\\"

typedef struct read_ctx {
    const char *service;
    svc_reg *out;
    bool have_type, have_start, have_error_control;
} read_ctx;

/* ieq — ASCII case-insensitive equality of the first n bytes (registry key rules). */
static bool ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
        if (!x)
            return true;
    }
    return true;
}

/*
 * service_rest — the part of key after HKLM\SYSTEM\CurrentControlSet\Services\<service>
 * ("" for the service key itself, "\..." below it), or NULL for any other key.
 */
static const char *service_rest(const char *key, const char *service)
{
    size_t h = strlen(HKLM_PREFIX), sp = strlen(SERVICES_PREFIX), n = strlen(service);

    if (strlen(key) < h + sp + n || !ieq(key, HKLM_PREFIX, h) || !ieq(key + h, SERVICES_PREFIX, sp) ||
        !ieq(key + h + sp, service, n))
        return NULL;
    const char *rest = key + h + sp + n;
    return *rest == 0 || *rest == '\\' ? rest : NULL;
}

const char *svc_reg_parameter_subkey(const char *key, const char *service)
{
    static const char params[] = "\\Parameters";
    const char *rest = service_rest(key, service);

    if (!rest || strlen(rest) < sizeof params - 1 || !ieq(rest, params, sizeof params - 1))
        return NULL;
    if (rest[sizeof params - 1] != 0 && rest[sizeof params - 1] != '\\')
        return NULL;
    return key + strlen(HKLM_PREFIX);
}

static uint32_t dword_of(const regf_value *v)
{
    return v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
}

/* copy_text — registry string data (UTF-16LE bytes) into a NUL-terminated buffer. */
static void copy_text(const regf_value *v, uint16_t *out)
{
    size_t n = v->size / 2 < SVCREG_MAX_TEXT - 1 ? v->size / 2 : SVCREG_MAX_TEXT - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint16_t)(v->data[2 * i] | v->data[2 * i + 1] << 8);
    out[n] = 0;
}

static int on_value(const regf_value *v, void *arg)
{
    read_ctx *c = arg;
    const char *rest = service_rest(v->key, c->service);
    bool text = v->type == REGF_SZ || v->type == REGF_EXPAND_SZ;

    if (!rest || *rest)
        return 0;
    if (v->type == REGF_DWORD && v->size == 4) {
        if (ieq(v->name, "Type", 5)) {
            c->out->type = dword_of(v);
            c->have_type = true;
        } else if (ieq(v->name, "Start", 6)) {
            c->out->start = dword_of(v);
            c->have_start = true;
        } else if (ieq(v->name, "ErrorControl", 13)) {
            c->out->error_control = dword_of(v);
            c->have_error_control = true;
        }
    } else if (text && ieq(v->name, "Group", 6)) {
        copy_text(v, c->out->group);
    } else if (text && ieq(v->name, "ImagePath", 10)) {
        copy_text(v, c->out->image);
    }
    return 0;
}

int svc_reg_read(const char *path, const char *service, svc_reg *out, char *err, size_t errlen)
{
    read_ctx c = { service, out, false, false, false };

    memset(out, 0, sizeof *out);
    if (regf_parse_file(path, on_value, &c, err, errlen) == -1)
        return -1;
    if (!c.have_type || !c.have_start || !c.have_error_control) {
        snprintf(err, errlen, "%s: [" HKLM_PREFIX SERVICES_PREFIX "%s] needs Type, Start and "
                 "ErrorControl DWORDs", path, service);
        return -1;
    }
    if (out->type != 1) {
        snprintf(err, errlen, "%s: Type is %lu; the service must be a kernel driver (1)", path,
                 (unsigned long)out->type);
        return -1;
    }
    return 0;
}
