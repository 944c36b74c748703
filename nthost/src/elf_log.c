/*
 * elf_log.c — the event log of the Linux home: entries written by
 * IoWriteErrorLogEntry and by the service control manager, stamped with the machine
 * clock, readable through nthost.h (tests, `dongctl log`) and rendered with the
 * message text of the source's .mc file, as the event viewer renders it from the
 * message DLL registered under Services\EventLog\System\<source>.
 */
#include <ntddk.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_internal.h"
#include "ke_internal.h"
#include "nthost/nthost.h"

#define ELF_SOURCES_KEY "SYSTEM\\CurrentControlSet\\Services\\EventLog\\System"
#define ELF_SCM_SOURCE "Service Control Manager"

typedef struct elf_record {
    nthost_errlog_entry pub;
    char *source;
    void *dump;
    char **strings;
} elf_record;

static pthread_mutex_t elf_mutex = PTHREAD_MUTEX_INITIALIZER;
static elf_record *elf_records;
static size_t elf_count, elf_cap;

/* Messages of the service control manager's own events (event 7000's text). */
static const struct {
    uint32_t id;
    const char *text;
} elf_scm_messages[] = {
    { 0xC0001B58u, "The %1 service failed to start due to the following error: %n%2\n" }, /* event 7000 */
};

static void elf_free_record(elf_record *r)
{
    free(r->source);
    free(r->dump);
    for (size_t i = 0; i < r->pub.nstrings; i++)
        free(r->strings[i]);
    free(r->strings);
}

static char *elf_render(const nthost_errlog_entry *e);

static const char *const elf_severity_names[] = { "success", "information", "warning", "error" };

/*
 * elf_persist — append entry i to the file named by NTHOST_EVENTLOG_FILE (when set),
 * one line per event: machine time, source, code, severity, final status, unique
 * value, then the rendered message (or the insertion strings when no text exists).
 */
static void elf_persist(size_t i)
{
    const char *path = getenv("NTHOST_EVENTLOG_FILE");
    nthost_errlog_entry e;
    if (!path || !*path || !nthost_errlog_get(i, &e))
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    char *text = elf_render(&e);
    fprintf(f, "%llu.%09llu %s 0x%08X %s status=0x%08X unique=%u ", (unsigned long long)(e.machine_time_ns / 1000000000u),
            (unsigned long long)(e.machine_time_ns % 1000000000u), e.source, e.error_code,
            elf_severity_names[e.severity], e.final_status, e.unique_error_value);
    if (text) {
        for (char *c = text; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';                    /* one event, one line */
        fprintf(f, "%s\n", text);
    } else {
        for (size_t k = 0; k < e.nstrings; k++)
            fprintf(f, "%s\"%s\"", k ? " " : "", e.strings[k]);
        fputc('\n', f);
    }
    free(text);
    fclose(f);
}

int elf_log_write(const elf_event *ev)
{
    elf_record r = { 0 };
    r.source = strdup(ev->source ? ev->source : "");
    r.dump = malloc(ev->dump_size ? ev->dump_size : 1);
    r.strings = calloc(ev->nstrings ? ev->nstrings : 1, sizeof(char *));
    bool ok = r.source && r.dump && r.strings;
    for (size_t i = 0; ok && i < ev->nstrings; i++) {
        r.strings[i] = strdup(ev->strings[i] ? ev->strings[i] : "");
        ok = r.strings[i] != NULL;
        r.pub.nstrings = i + 1;
    }
    if (!ok) {
        elf_free_record(&r);
        return -ENOMEM;
    }
    if (ev->dump_size)
        memcpy(r.dump, ev->dump_data, ev->dump_size);
    if (KiIsInitialized()) {
        LARGE_INTEGER now;
        KeQuerySystemTime(&now);
        r.pub.system_time = (uint64_t)now.QuadPart;
        r.pub.machine_time_ns = KiNow();
    }
    r.pub.source = r.source;
    r.pub.error_code = ev->error_code;
    r.pub.severity = ev->error_code >> 30;
    r.pub.final_status = ev->final_status;
    r.pub.unique_error_value = ev->unique_error_value;
    r.pub.sequence_number = ev->sequence_number;
    r.pub.io_control_code = ev->io_control_code;
    r.pub.event_category = ev->event_category;
    r.pub.major_function = ev->major_function;
    r.pub.retry_count = ev->retry_count;
    r.pub.device_offset = ev->device_offset;
    r.pub.dump_data = r.dump;
    r.pub.dump_size = ev->dump_size;
    r.pub.strings = (const char *const *)r.strings;
    pthread_mutex_lock(&elf_mutex);
    if (elf_count == elf_cap) {
        size_t cap = elf_cap ? elf_cap * 2 : 32;
        elf_record *grown = realloc(elf_records, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&elf_mutex);
            elf_free_record(&r);
            return -ENOMEM;
        }
        elf_records = grown;
        elf_cap = cap;
    }
    elf_records[elf_count++] = r;
    size_t index = elf_count - 1;
    pthread_mutex_unlock(&elf_mutex);
    elf_persist(index);
    return 0;
}

void elf_log_reset(void)
{
    pthread_mutex_lock(&elf_mutex);
    for (size_t i = 0; i < elf_count; i++)
        elf_free_record(&elf_records[i]);
    free(elf_records);
    elf_records = NULL;
    elf_count = elf_cap = 0;
    pthread_mutex_unlock(&elf_mutex);
}

size_t nthost_errlog_count(void)
{
    pthread_mutex_lock(&elf_mutex);
    size_t n = elf_count;
    pthread_mutex_unlock(&elf_mutex);
    return n;
}

bool nthost_errlog_get(size_t i, nthost_errlog_entry *out)
{
    pthread_mutex_lock(&elf_mutex);
    bool ok = i < elf_count;
    if (ok)
        *out = elf_records[i].pub;
    pthread_mutex_unlock(&elf_mutex);
    return ok;
}

/* EventMessageFile of a source (UTF-8, malloc'ed), or NULL. */
static char *elf_message_file_value(const char *source)
{
    char path[512];
    snprintf(path, sizeof(path), ELF_SOURCES_KEY "\\%s", source);
    uint32_t plen, nlen;
    uint16_t *wpath = cm_utf8_to_utf16(path, &plen);
    uint16_t *wname = cm_utf8_to_utf16("EventMessageFile", &nlen);
    char *result = NULL;
    cm_init();
    cm_lock();
    cm_key *key;
    if (wpath && wname && !cm_lookup(cm_machine(), wpath, plen, &key)) {
        const cm_value *v = cm_find_value(key, wname, nlen);
        if (v && (v->type == CM_REG_SZ || v->type == CM_REG_EXPAND_SZ) && v->size >= 2) {
            uint32_t n = v->size / 2;
            uint16_t *w = malloc(n * sizeof(uint16_t));
            if (w) {
                for (uint32_t k = 0; k < n; k++)
                    w[k] = (uint16_t)(v->data[2 * k] | v->data[2 * k + 1] << 8);
                while (n && !w[n - 1])
                    n--;
                result = cm_utf16_to_utf8(w, n);
                free(w);
            }
        }
    }
    cm_unlock();
    free(wpath);
    free(wname);
    return result;
}

/*
 * elf_resolve_mc — where the .mc for one EventMessageFile element is: a .mc path as
 * given (or its file name in the driver directory), and for a .dll/.sys/.so image
 * the .mc of the same name beside the driver.
 */
static bool elf_resolve_mc(const char *element, char *out, size_t outlen)
{
    const char *base = element;
    for (const char *s = element; *s; s++)
        if (*s == '\\' || *s == '/')
            base = s + 1;
    const char *dot = strrchr(base, '.');
    size_t stem = dot ? (size_t)(dot - base) : strlen(base);
    if (dot && !strcasecmp(dot, ".mc") && element[0] == '/') {
        snprintf(out, outlen, "%s", element);
        return true;
    }
    if (!stem)
        return false;
    char file[256];
    snprintf(file, sizeof(file), "%.*s.mc", (int)stem, base);
    svc_find_driver_file(file, out, outlen);
    return true;
}

/* Message text of one entry from the first message file that has its id, without
 * the trailing line break (the viewer shows none). */
static char *elf_render_raw(const nthost_errlog_entry *e);

static char *elf_render(const nthost_errlog_entry *e)
{
    char *text = elf_render_raw(e);
    if (text) {
        size_t n = strlen(text);
        while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
            text[--n] = 0;
    }
    return text;
}

static char *elf_render_raw(const nthost_errlog_entry *e)
{
    if (!strcmp(e->source, ELF_SCM_SOURCE)) {
        for (size_t i = 0; i < sizeof(elf_scm_messages) / sizeof(elf_scm_messages[0]); i++)
            if (elf_scm_messages[i].id == e->error_code)
                return elf_mc_format(elf_scm_messages[i].text, e->strings, e->nstrings);
        return NULL;
    }
    char *files = elf_message_file_value(e->source);
    if (!files)
        return NULL;
    char *text = NULL, *save = NULL;
    for (char *el = strtok_r(files, ";", &save); el && !text; el = strtok_r(NULL, ";", &save)) {
        char path[1024];
        elf_mc_file mc;
        char err[256];
        if (!elf_resolve_mc(el, path, sizeof(path)) || elf_mc_load(path, &mc, err, sizeof(err)))
            continue;
        const elf_mc_message *m = elf_mc_find(&mc, e->error_code);
        if (m)
            text = elf_mc_format(m->text, e->strings, e->nstrings);
        elf_mc_free(&mc);
    }
    free(files);
    return text;
}

char *nthost_errlog_format(size_t i)
{
    nthost_errlog_entry e;
    if (!nthost_errlog_get(i, &e))
        return NULL;
    return elf_render(&e);
}
