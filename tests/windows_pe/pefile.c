/*
 * tests/windows_pe/pefile.c — see pefile.h. Every offset read from the file is bounds-checked
 * against the file size before use: the checks run on freshly linked images, and a
 * malformed one must produce a message, not a crash.
 */
#include "pefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PE_COFF_HEADER_SIZE   20
#define PE_SECTION_HEADER_SIZE 40
#define PE_IMPORT_DESC_SIZE   20
#define PE_OPT_MAGIC_PE32     0x10B
#define PE_OPT_MAGIC_PE32PLUS 0x20B
#define PE_OPT_CHECKSUM       64
#define PE_OPT_SUBSYSTEM      68
#define PE_OPT_DLLCHAR        70

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* in_file — true when [off, off + len) lies inside the file. */
static bool in_file(const pe_image *img, uint64_t off, uint64_t len)
{
    return off <= img->size && len <= img->size - off;
}

/*
 * rva_to_off — file offset of rva, or -1 when no section's raw data holds
 * [rva, rva + len).
 */
static int64_t rva_to_off(const pe_image *img, uint32_t rva, uint32_t len)
{
    for (unsigned i = 0; i < img->nsections; i++) {
        const pe_section *s = &img->sections[i];
        if (rva >= s->vaddr && (uint64_t)rva + len <= (uint64_t)s->vaddr + s->raw_size) {
            uint64_t off = (uint64_t)s->raw_offset + (rva - s->vaddr);
            return in_file(img, off, len) ? (int64_t)off : -1;
        }
    }
    return -1;
}

/* rva_string — copy the NUL-terminated string at rva into buf; false if unreadable. */
static bool rva_string(const pe_image *img, uint32_t rva, char *buf, size_t buflen)
{
    int64_t off = rva_to_off(img, rva, 1);
    if (off < 0)
        return false;
    size_t i = 0;
    for (; i + 1 < buflen && (uint64_t)off + i < img->size; i++) {
        buf[i] = (char)img->data[off + i];
        if (!buf[i])
            return true;
    }
    buf[i] = 0;
    return false;
}

/*
 * parse_imports — walk the import descriptors and their lookup tables (the import
 * lookup table, or the address table when a linker left the former empty).
 */
static int parse_imports(pe_image *img, char *err, size_t errlen)
{
    const pe_dir *d = &img->dirs[PE_DIR_IMPORT];
    unsigned thunk_size = img->pe32plus ? 8 : 4;

    if (!d->rva)
        return 0;
    for (uint32_t desc = d->rva;; desc += PE_IMPORT_DESC_SIZE) {
        int64_t off = rva_to_off(img, desc, PE_IMPORT_DESC_SIZE);
        if (off < 0) {
            snprintf(err, errlen, "import descriptor at RVA 0x%x is outside the file", desc);
            return -1;
        }
        const uint8_t *p = img->data + off;
        uint32_t lookup = rd32(p), name = rd32(p + 12), iat = rd32(p + 16);
        if (!lookup && !name && !iat)
            return 0;
        char dll[64];
        if (!rva_string(img, name, dll, sizeof dll)) {
            snprintf(err, errlen, "import descriptor at RVA 0x%x has a bad DLL name", desc);
            return -1;
        }
        for (uint32_t t = lookup ? lookup : iat;; t += thunk_size) {
            int64_t toff = rva_to_off(img, t, thunk_size);
            if (toff < 0) {
                snprintf(err, errlen, "%s: import thunk at RVA 0x%x is outside the file", dll, t);
                return -1;
            }
            uint64_t v = img->pe32plus ? rd64(img->data + toff) : rd32(img->data + toff);
            uint64_t ordinal_flag = img->pe32plus ? 1ull << 63 : 1ull << 31;
            if (!v)
                break;
            if (img->nimports == PE_MAX_IMPORTS) {
                snprintf(err, errlen, "more than %d imports", PE_MAX_IMPORTS);
                return -1;
            }
            pe_import *imp = &img->imports[img->nimports++];
            snprintf(imp->dll, sizeof imp->dll, "%s", dll);
            if (v & ordinal_flag) {
                imp->name[0] = 0;
                imp->ordinal = (uint16_t)v;
            } else if (!rva_string(img, (uint32_t)v + 2, imp->name, sizeof imp->name)) {
                snprintf(err, errlen, "%s: import name at RVA 0x%x is unreadable", dll,
                         (uint32_t)v + 2);
                return -1;
            }
        }
    }
}

/* parse_resource_types — the integer type IDs of the root resource directory. */
static int parse_resource_types(pe_image *img, char *err, size_t errlen)
{
    const pe_dir *d = &img->dirs[PE_DIR_RESOURCE];
    if (!d->rva)
        return 0;
    int64_t off = rva_to_off(img, d->rva, 16);
    if (off < 0) {
        snprintf(err, errlen, "resource directory is outside the file");
        return -1;
    }
    unsigned named = rd16(img->data + off + 12), ids = rd16(img->data + off + 14);
    for (unsigned i = 0; i < named + ids; i++) {
        int64_t e = rva_to_off(img, d->rva + 16 + 8 * i, 8);
        if (e < 0) {
            snprintf(err, errlen, "resource directory entry %u is outside the file", i);
            return -1;
        }
        uint32_t id = rd32(img->data + e);
        if (id & 0x80000000u)  /* a named type: none of ours */
            continue;
        if (img->nrestypes < PE_MAX_RESOURCE_TYPES)
            img->restypes[img->nrestypes++] = id;
    }
    return 0;
}

/* parse_headers — DOS stub, NT signature, COFF and optional headers, section table. */
static int parse_headers(pe_image *img, char *err, size_t errlen)
{
    const uint8_t *b = img->data;

    if (!in_file(img, 0, 0x40) || b[0] != 'M' || b[1] != 'Z') {
        snprintf(err, errlen, "not an MZ executable");
        return -1;
    }
    img->nt_offset = rd32(b + 0x3C);
    if (!in_file(img, img->nt_offset, 4 + PE_COFF_HEADER_SIZE) ||
        memcmp(b + img->nt_offset, "PE\0\0", 4) != 0) {
        snprintf(err, errlen, "no PE signature");
        return -1;
    }
    const uint8_t *coff = b + img->nt_offset + 4;
    img->machine = rd16(coff);
    unsigned nsect = rd16(coff + 2);
    unsigned optsize = rd16(coff + 16);
    img->characteristics = rd16(coff + 18);
    uint32_t opt_off = img->nt_offset + 4 + PE_COFF_HEADER_SIZE;
    if (!in_file(img, opt_off, optsize) || optsize < PE_OPT_DLLCHAR + 2) {
        snprintf(err, errlen, "optional header truncated");
        return -1;
    }
    const uint8_t *opt = b + opt_off;
    uint16_t magic = rd16(opt);
    if (magic != PE_OPT_MAGIC_PE32 && magic != PE_OPT_MAGIC_PE32PLUS) {
        snprintf(err, errlen, "unknown optional header magic 0x%x", magic);
        return -1;
    }
    img->pe32plus = magic == PE_OPT_MAGIC_PE32PLUS;
    img->entry_rva = rd32(opt + 16);
    img->image_base = img->pe32plus ? rd64(opt + 24) : rd32(opt + 28);
    img->checksum_offset = opt_off + PE_OPT_CHECKSUM;
    img->checksum = rd32(opt + PE_OPT_CHECKSUM);
    img->subsystem = rd16(opt + PE_OPT_SUBSYSTEM);
    img->dll_characteristics = rd16(opt + PE_OPT_DLLCHAR);
    unsigned ndir_off = img->pe32plus ? 108 : 92;
    if (optsize < ndir_off + 4) {
        snprintf(err, errlen, "optional header has no data directories");
        return -1;
    }
    unsigned ndirs = rd32(opt + ndir_off);
    for (unsigned i = 0; i < ndirs && i < 16 && ndir_off + 4 + 8 * (i + 1) <= optsize; i++) {
        img->dirs[i].rva = rd32(opt + ndir_off + 4 + 8 * i);
        img->dirs[i].size = rd32(opt + ndir_off + 8 + 8 * i);
    }
    uint32_t sect_off = opt_off + optsize;
    if (nsect > PE_MAX_SECTIONS || !in_file(img, sect_off, (uint64_t)nsect * PE_SECTION_HEADER_SIZE)) {
        snprintf(err, errlen, "section table truncated or too large (%u sections)", nsect);
        return -1;
    }
    for (unsigned i = 0; i < nsect; i++) {
        const uint8_t *s = b + sect_off + i * PE_SECTION_HEADER_SIZE;
        pe_section *sec = &img->sections[i];
        memcpy(sec->name, s, 8);
        sec->name[8] = 0;
        sec->vsize = rd32(s + 8);
        sec->vaddr = rd32(s + 12);
        sec->raw_size = rd32(s + 16);
        sec->raw_offset = rd32(s + 20);
        sec->flags = rd32(s + 36);
    }
    img->nsections = nsect;
    return 0;
}

/*
 * pe_load — read the whole file (images are small) and parse it.
 */
int pe_load(const char *path, pe_image *img, char *err, size_t errlen)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        snprintf(err, errlen, "%s: empty or unreadable", path);
        return -1;
    }
    img->data = malloc((size_t)size);
    img->size = (size_t)size;
    if (!img->data || fread(img->data, 1, img->size, f) != img->size) {
        fclose(f);
        pe_free(img);
        snprintf(err, errlen, "%s: read failed", path);
        return -1;
    }
    fclose(f);
    char why[200];
    if (parse_headers(img, why, sizeof why) || parse_imports(img, why, sizeof why) ||
        parse_resource_types(img, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", path, why);
        pe_free(img);
        return -1;
    }
    return 0;
}

void pe_free(pe_image *img)
{
    free(img->data);
    memset(img, 0, sizeof *img);
}

/*
 * pe_compute_checksum — the image checksum: a 16-bit one's-complement-style sum of
 * the file taken as little-endian words (an odd last byte padded with zero), the
 * CheckSum field itself counted as zero, carries folded back in, plus the file size.
 */
uint32_t pe_compute_checksum(const pe_image *img)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < img->size; i += 2) {
        if (i >= img->checksum_offset && i < (size_t)img->checksum_offset + 4)
            continue;
        uint32_t word = img->data[i];
        if (i + 1 < img->size)
            word |= (uint32_t)img->data[i + 1] << 8;
        sum += word;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint32_t)(sum + img->size);
}

const pe_section *pe_section_of(const pe_image *img, uint32_t rva)
{
    for (unsigned i = 0; i < img->nsections; i++) {
        const pe_section *s = &img->sections[i];
        uint32_t span = s->vsize > s->raw_size ? s->vsize : s->raw_size;
        if (rva >= s->vaddr && rva - s->vaddr < span)
            return s;
    }
    return NULL;
}

const char *pe_subsystem_name(uint16_t subsystem)
{
    switch (subsystem) {
    case PE_SUBSYSTEM_NATIVE: return "native";
    case PE_SUBSYSTEM_WINDOWS_GUI: return "windows";
    case PE_SUBSYSTEM_WINDOWS_CUI: return "console";
    default: return "other";
    }
}
