/*
 * tests/windows_pe/pefile.h — a small reader for the PE images the Windows build
 * produces (donglpt.sys, dongctl.exe, donginst.exe): headers, sections, imports,
 * resource types and the optional header's CheckSum, so the checks recompute facts
 * independently of binutils instead of trusting the linker's own report.
 *
 * Field offsets and constants are the documented PE/COFF ones.
 */
#ifndef DONG_PEFILE_H
#define DONG_PEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PE_MACHINE_AMD64          0x8664
#define PE_MACHINE_I386           0x014C

#define PE_SUBSYSTEM_NATIVE       1
#define PE_SUBSYSTEM_WINDOWS_GUI  2
#define PE_SUBSYSTEM_WINDOWS_CUI  3

#define PE_FILE_RELOCS_STRIPPED   0x0001
#define PE_FILE_EXECUTABLE_IMAGE  0x0002
#define PE_FILE_DLL               0x2000

#define PE_SCN_CNT_CODE           0x00000020u
#define PE_SCN_MEM_DISCARDABLE    0x02000000u
#define PE_SCN_MEM_EXECUTE        0x20000000u
#define PE_SCN_MEM_READ           0x40000000u
#define PE_SCN_MEM_WRITE          0x80000000u

#define PE_DIR_IMPORT             1
#define PE_DIR_RESOURCE           2
#define PE_DIR_BASERELOC          5

#define PE_RT_MESSAGETABLE        11
#define PE_RT_VERSION             16

#define PE_MAX_SECTIONS           96
#define PE_MAX_IMPORTS            1024
#define PE_MAX_RESOURCE_TYPES     32

typedef struct pe_section {
    char name[9];
    uint32_t vaddr;
    uint32_t vsize;
    uint32_t raw_offset;
    uint32_t raw_size;
    uint32_t flags;
} pe_section;

typedef struct pe_import {
    char dll[64];
    char name[128];      /* empty for an import by ordinal */
    uint16_t ordinal;    /* valid when name is empty */
} pe_import;

typedef struct pe_dir {
    uint32_t rva;
    uint32_t size;
} pe_dir;

typedef struct pe_image {
    uint8_t *data;       /* the whole file */
    size_t size;
    uint32_t nt_offset;  /* e_lfanew */
    uint32_t checksum_offset;
    bool pe32plus;
    uint16_t machine;
    uint16_t characteristics;
    uint16_t subsystem;
    uint16_t dll_characteristics;
    uint32_t entry_rva;
    uint64_t image_base;
    uint32_t checksum;   /* as stored */
    pe_dir dirs[16];
    unsigned nsections;
    pe_section sections[PE_MAX_SECTIONS];
    unsigned nimports;
    pe_import imports[PE_MAX_IMPORTS];
    unsigned nrestypes;
    uint32_t restypes[PE_MAX_RESOURCE_TYPES];  /* integer IDs of the root resource directory */
} pe_image;

/* Read and parse path. Returns 0, or -1 with a message in err (img is then empty). */
int pe_load(const char *path, pe_image *img, char *err, size_t errlen);
void pe_free(pe_image *img);

/* The PE checksum of the loaded bytes (stored CheckSum field counted as zero). */
uint32_t pe_compute_checksum(const pe_image *img);

/* The section holding rva, or NULL. */
const pe_section *pe_section_of(const pe_image *img, uint32_t rva);

const char *pe_subsystem_name(uint16_t subsystem);

#endif
