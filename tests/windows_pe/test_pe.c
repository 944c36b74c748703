/*
 * tests/windows_pe/test_pe.c — checks of the Windows artifacts that `make windows`
 * builds (build_windows.sh builds them for this test): every PE image's machine,
 * subsystem, entry point, imports, checksum and section flags, read by our own
 * parser (pefile.c) and cross-checked against binutils' objdump; the driver's
 * imports against what libnthost.so implements; the package's INF against
 * driver/donglpt.reg.
 *
 * Environment (tests/windows_pe/CMakeLists.txt): DONG_WINDOWS_DIR, DONG_NTHOST_LIB,
 * DONG_REG_FILE, DONG_MINGW_OBJDUMP, DONG_MINGW_NM.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "pefile.h"
#include "regfile.h"

#define SKIP_EXIT 77

static const char *const flavours[] = { "free", "checked" };
/* Drivers first: donglpt.sys is installed; reference/parport.sys is built only to show
   that the arbitrator source is a Windows driver as well. */
static const char *const artifacts[] = { "donglpt.sys", "reference/parport.sys", "dongctl.exe",
                                         "donginst.exe" };
#define N_DRIVERS 2

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set (tests/windows_pe/CMakeLists.txt sets it)", name);
    return v;
}

/* load — one artifact of one flavour, parsed; the test fails if it is missing. */
static pe_image *load(const char *flavour, const char *file)
{
    char path[1024], err[512];
    pe_image *img = malloc(sizeof *img);

    assert_non_null(img);
    snprintf(path, sizeof path, "%s/%s/%s", env("DONG_WINDOWS_DIR"), flavour, file);
    if (pe_load(path, img, err, sizeof err))
        fail_msg("%s", err);
    return img;
}

static void unload(pe_image *img)
{
    pe_free(img);
    free(img);
}

static bool imports_from(const pe_image *img, const char *dll, const char *name)
{
    for (unsigned i = 0; i < img->nimports; i++)
        if (strcasecmp(img->imports[i].dll, dll) == 0 && strcmp(img->imports[i].name, name) == 0)
            return true;
    return false;
}

/* ---- headers ---------------------------------------------------------------------- */

static void check_common(const pe_image *img, const char *what)
{
    if (img->machine != PE_MACHINE_AMD64 || !img->pe32plus)
        fail_msg("%s: machine 0x%04x, want x86-64 PE32+", what, img->machine);
    if ((img->characteristics & PE_FILE_RELOCS_STRIPPED) || img->dirs[PE_DIR_BASERELOC].size == 0)
        fail_msg("%s: no base relocations; Windows must be able to relocate it", what);
    if (!(img->characteristics & PE_FILE_EXECUTABLE_IMAGE))
        fail_msg("%s: not marked executable", what);
    const pe_section *s = pe_section_of(img, img->entry_rva);
    if (!img->entry_rva || !s || !(s->flags & PE_SCN_MEM_EXECUTE))
        fail_msg("%s: entry point 0x%x is not in an executable section", what, img->entry_rva);
}

/* symbol_rva — the RVA of a symbol from the mingw nm listing of an image, or 0. */
static uint32_t symbol_rva(const char *path, const char *symbol, uint64_t image_base)
{
    char cmd[2048], line[512];
    uint32_t rva = 0;

    snprintf(cmd, sizeof cmd, "'%s' '%s'", env("DONG_MINGW_NM"), path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof line, p)) {
        unsigned long long addr;
        char type, name[256];
        if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 && strcmp(name, symbol) == 0)
            rva = (uint32_t)(addr - image_base);
    }
    pclose(p);
    return rva;
}

/*
 * test_driver_headers — donglpt.sys is a native-subsystem image whose entry point is
 * DriverEntry, relocatable (dynamic base) and DEP-compatible.
 */
static void test_driver_headers(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N_DRIVERS; a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            char path[1024];
            check_common(img, artifacts[a]);
            assert_int_equal(img->subsystem, PE_SUBSYSTEM_NATIVE);
            assert_true(img->dll_characteristics & 0x0040);   /* DYNAMIC_BASE */
            assert_true(img->dll_characteristics & 0x0100);   /* NX_COMPAT */
            snprintf(path, sizeof path, "%s/%s/%s", env("DONG_WINDOWS_DIR"), flavours[f], artifacts[a]);
            uint32_t driver_entry = symbol_rva(path, "DriverEntry", img->image_base);
            if (!driver_entry)
                fail_msg("%s: no DriverEntry symbol", path);
            assert_int_equal(img->entry_rva, driver_entry);
            unload(img);
        }
    }
}

/* test_exe_headers — the programs are console images. */
static void test_exe_headers(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = N_DRIVERS; a < N(artifacts); a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            check_common(img, artifacts[a]);
            if (img->subsystem != PE_SUBSYSTEM_WINDOWS_CUI)
                fail_msg("%s/%s: subsystem %s, want console", flavours[f], artifacts[a],
                         pe_subsystem_name(img->subsystem));
            unload(img);
        }
    }
}

/* test_checksums — the stored CheckSum is the one recomputed here (the kernel
   refuses a driver whose checksum is wrong). */
static void test_checksums(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N(artifacts); a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            uint32_t want = pe_compute_checksum(img);
            if (img->checksum != want || want == 0)
                fail_msg("%s/%s: checksum 0x%08x, computed 0x%08x", flavours[f], artifacts[a],
                         img->checksum, want);
            unload(img);
        }
    }
}

/* test_no_writable_code — no section of any image is both writable and executable. */
static void test_no_writable_code(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N(artifacts); a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            for (unsigned i = 0; i < img->nsections; i++) {
                uint32_t fl = img->sections[i].flags;
                if ((fl & PE_SCN_MEM_WRITE) && (fl & PE_SCN_MEM_EXECUTE))
                    fail_msg("%s/%s: section %s is writable and executable", flavours[f],
                             artifacts[a], img->sections[i].name);
            }
            unload(img);
        }
    }
}

/* test_resources — the message table and a version resource are in the driver. */
static void test_resources(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N(artifacts); a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            bool version = false, messages = false;
            for (unsigned i = 0; i < img->nrestypes; i++) {
                version |= img->restypes[i] == PE_RT_VERSION;
                messages |= img->restypes[i] == PE_RT_MESSAGETABLE;
            }
            if (!version)
                fail_msg("%s/%s: no version resource", flavours[f], artifacts[a]);
            if (a == 0 && !messages)
                fail_msg("%s/donglpt.sys: no message table (donglpt.mc)", flavours[f]);
            unload(img);
        }
    }
}

/*
 * test_flavours — the checked build is DBG=1 (KdPrint reaches DbgPrint), the free
 * build DBG=0 (no debug output at all), for both drivers.
 */
static void test_flavours(void **state)
{
    (void)state;
    for (size_t a = 0; a < N_DRIVERS; a++) {
        pe_image *checked = load("checked", artifacts[a]);
        pe_image *free_build = load("free", artifacts[a]);
        if (!imports_from(checked, "ntoskrnl.exe", "DbgPrint"))
            fail_msg("checked/%s does not import DbgPrint: not a DBG=1 build?", artifacts[a]);
        if (imports_from(free_build, "ntoskrnl.exe", "DbgPrint"))
            fail_msg("free/%s imports DbgPrint: not a DBG=0 build?", artifacts[a]);
        unload(checked);
        unload(free_build);
    }
}

/* ---- imports ---------------------------------------------------------------------- */

/* test_driver_imports — the kernel and the HAL, nothing else (no C runtime). */
static void test_driver_imports(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N_DRIVERS; a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            for (unsigned i = 0; i < img->nimports; i++) {
                const char *dll = img->imports[i].dll;
                if (strcasecmp(dll, "ntoskrnl.exe") != 0 && strcasecmp(dll, "hal.dll") != 0)
                    fail_msg("%s/%s imports %s!%s", flavours[f], artifacts[a], dll, img->imports[i].name);
                if (!img->imports[i].name[0])
                    fail_msg("%s/%s imports %s by ordinal", flavours[f], artifacts[a], dll);
            }
            assert_true(imports_from(img, "ntoskrnl.exe", "IoCreateDevice"));
            unload(img);
        }
        pe_image *img = load(flavours[f], "donglpt.sys");
        assert_true(imports_from(img, "ntoskrnl.exe", "IofCallDriver"));
        assert_true(imports_from(img, "ntoskrnl.exe", "IoWriteErrorLogEntry"));
        unload(img);
    }
}

/* test_program_imports — the programs reach the driver and the SCM as documented. */
static void test_program_imports(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        pe_image *ctl = load(flavours[f], "dongctl.exe");
        assert_true(imports_from(ctl, "kernel32.dll", "DeviceIoControl"));
        assert_true(imports_from(ctl, "kernel32.dll", "CreateFileA"));
        assert_true(imports_from(ctl, "bcrypt.dll", "BCryptGenRandom"));
        assert_true(imports_from(ctl, "bcrypt.dll", "BCryptCreateHash"));
        unload(ctl);
        pe_image *inst = load(flavours[f], "donginst.exe");
        assert_true(imports_from(inst, "advapi32.dll", "CreateServiceW"));
        assert_true(imports_from(inst, "advapi32.dll", "StartServiceW"));
        assert_true(imports_from(inst, "advapi32.dll", "ControlService"));
        assert_true(imports_from(inst, "advapi32.dll", "DeleteService"));
        assert_true(imports_from(inst, "advapi32.dll", "RegSetValueExW"));
        unload(inst);
    }
}

typedef struct name_list {
    char **names;
    size_t count, cap;
} name_list;

static void list_add(name_list *l, const char *s)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->names = realloc(l->names, l->cap * sizeof *l->names);
        assert_non_null(l->names);
    }
    l->names[l->count] = strdup(s);
    assert_non_null(l->names[l->count]);
    l->count++;
}

static bool list_has(const name_list *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->names[i], s) == 0)
            return true;
    return false;
}

static void list_free(name_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

/* objdump_imports — "dll!name" (dll lower-cased) for every import objdump -p lists. */
static void objdump_imports(const char *path, name_list *out)
{
    char cmd[2048], line[512], dll[128] = "";

    snprintf(cmd, sizeof cmd, "'%s' -p '%s'", env("DONG_MINGW_OBJDUMP"), path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof line, p)) {
        unsigned long vma;
        unsigned hint;
        char name[256], entry[400];
        if (sscanf(line, " DLL Name: %127s", dll) == 1) {
            for (char *c = dll; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            continue;
        }
        if (line[0] == '\n' || strstr(line, "Export") || strstr(line, "Address Table"))
            dll[0] = 0;
        if (dll[0] && line[0] == '\t' && sscanf(line, "\t%lx %u %255s", &vma, &hint, name) == 3) {
            snprintf(entry, sizeof entry, "%s!%s", dll, name);
            list_add(out, entry);
        }
    }
    assert_int_equal(pclose(p), 0);
}

/* test_imports_agree_with_objdump — two independent readers, one import list. */
static void test_imports_agree_with_objdump(void **state)
{
    (void)state;
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N(artifacts); a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            name_list ours = { 0 }, theirs = { 0 };
            char path[1024], entry[400];
            snprintf(path, sizeof path, "%s/%s/%s", env("DONG_WINDOWS_DIR"), flavours[f], artifacts[a]);
            objdump_imports(path, &theirs);
            for (unsigned i = 0; i < img->nimports; i++) {
                char dll[64];
                snprintf(dll, sizeof dll, "%s", img->imports[i].dll);
                for (char *c = dll; *c; c++)
                    *c = (char)tolower((unsigned char)*c);
                snprintf(entry, sizeof entry, "%s!%s", dll, img->imports[i].name);
                list_add(&ours, entry);
                if (!list_has(&theirs, entry))
                    fail_msg("%s: %s is not in objdump's import list", path, entry);
            }
            if (ours.count != theirs.count)
                fail_msg("%s: %zu imports here, %zu in objdump -p", path, ours.count, theirs.count);
            list_free(&ours);
            list_free(&theirs);
            unload(img);
        }
    }
}

/* defined_symbols — the dynamic symbols a shared object defines (nm -D --defined-only). */
static void defined_symbols(const char *lib, name_list *out)
{
    char cmd[2048], line[512];

    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", lib);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof line, p)) {
        char addr[64], type[8], name[256];
        if (sscanf(line, "%63s %7s %255s", addr, type, name) == 3) {
            char *at = strchr(name, '@');
            if (at)
                *at = 0;
            list_add(out, name);
        }
    }
    assert_int_equal(pclose(p), 0);
}

/*
 * The C runtime routines ntoskrnl.exe exports that a compiler may call on its own
 * (structure copies and clears): on Linux the C library provides them to the driver.
 */
static const char *const kernel_crt[] = { "memcpy", "memmove", "memset", "memcmp" };

/*
 * test_driver_imports_implemented_by_nthost — every routine donglpt.sys imports
 * from the kernel or the HAL is one that libnthost.so defines, so the Linux tests
 * exercise exactly the API surface the Windows binary uses.
 */
static void test_driver_imports_implemented_by_nthost(void **state)
{
    name_list exported = { 0 };
    (void)state;

    defined_symbols(env("DONG_NTHOST_LIB"), &exported);
    assert_true(exported.count > 0);
    for (size_t f = 0; f < N(flavours); f++) {
        for (size_t a = 0; a < N_DRIVERS; a++) {
            pe_image *img = load(flavours[f], artifacts[a]);
            char missing[4096] = "";
            for (unsigned i = 0; i < img->nimports; i++) {
                const char *name = img->imports[i].name;
                bool crt = false;
                for (size_t k = 0; k < N(kernel_crt); k++)
                    crt |= strcmp(name, kernel_crt[k]) == 0;
                if (!crt && !list_has(&exported, name) && strlen(missing) + strlen(name) + 2 < sizeof missing)
                    strcat(strcat(missing, " "), name);
            }
            if (missing[0])
                fail_msg("%s (%s) imports what libnthost.so does not implement:%s", artifacts[a],
                         flavours[f], missing);
            unload(img);
        }
    }
    list_free(&exported);
}

/* ---- the package -------------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: missing", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

typedef struct inf_check {
    const char *inf;
    unsigned checked;
} inf_check;

/* on_parameter — each Parameters value of donglpt.reg has its AddReg line in the INF. */
static int on_parameter(const regf_value *v, void *ctx)
{
    inf_check *c = ctx;
    char line[512];

    if (!strstr(v->key, "\\Services\\DongLpt\\Parameters"))
        return 0;
    if (v->type == REGF_DWORD) {
        unsigned long d = v->data[0] | (unsigned long)v->data[1] << 8 |
                          (unsigned long)v->data[2] << 16 | (unsigned long)v->data[3] << 24;
        snprintf(line, sizeof line, "HKR,Parameters,\"%s\",0x00010001,%lu\r\n", v->name, d);
    } else {
        snprintf(line, sizeof line, "HKR,Parameters,\"%s\",", v->name);
    }
    if (!strstr(c->inf, line))
        fail_msg("donglpt.inf lacks: %s", line);
    c->checked++;
    return 0;
}

/* test_package — INF (legacy install of a kernel driver, parameters of the .reg),
   the .reg itself and the demo key's file are in every flavour's folder. */
static void test_package(void **state)
{
    char path[1024], err[256];
    (void)state;

    for (size_t f = 0; f < N(flavours); f++) {
        snprintf(path, sizeof path, "%s/%s/donglpt.inf", env("DONG_WINDOWS_DIR"), flavours[f]);
        char *inf = slurp(path);
        static const char *const must[] = {
            "[DefaultInstall]", "[DefaultInstall.Services]", "[DefaultUninstall]",
            "[DefaultUninstall.Services]", "DelService = DongLpt,0x00000200",
            "AddService = DongLpt,,DongLpt.Service,DongLpt.EventLog",
            "ServiceType    = 1\r\n", "LoadOrderGroup = \"Extended Base\"",
            "ServiceBinary  = %12%\\donglpt.sys",
            "HKR,,EventMessageFile,0x00020000,\"%%SystemRoot%%\\System32\\IoLogMsg.dll;%%SystemRoot%%\\System32\\drivers\\donglpt.sys\"",
            "HKR,,TypesSupported,0x00010001,7",
        };
        for (size_t i = 0; i < N(must); i++)
            if (!strstr(inf, must[i]))
                fail_msg("%s lacks: %s", path, must[i]);
        inf_check c = { inf, 0 };
        if (regf_parse_file(env("DONG_REG_FILE"), on_parameter, &c, err, sizeof err))
            fail_msg("%s", err);
        assert_true(c.checked > 0);
        free(inf);
        for (const char *const *extra = (const char *const[]){ "donglpt.reg", "demo.key", NULL }; *extra; extra++) {
            snprintf(path, sizeof path, "%s/%s/%s", env("DONG_WINDOWS_DIR"), flavours[f], *extra);
            free(slurp(path));
        }
    }
}

int main(void)
{
    if (system("command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1") != 0) {
        printf("SKIPPED: mingw-w64 is not installed (make windows installs it)\n");
        return SKIP_EXIT;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_headers),
        cmocka_unit_test(test_exe_headers),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_no_writable_code),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_flavours),
        cmocka_unit_test(test_driver_imports),
        cmocka_unit_test(test_program_imports),
        cmocka_unit_test(test_imports_agree_with_objdump),
        cmocka_unit_test(test_driver_imports_implemented_by_nthost),
        cmocka_unit_test(test_package),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
