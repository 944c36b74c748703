/*
 * tools/version.h — the DongLpt release number, one place for dongctl --version and
 * the VERSIONINFO resources of every Windows artifact (windows/version.rc.in).
 * Only #defines: windres reads it too.
 */
#ifndef DONG_TOOLS_VERSION_H
#define DONG_TOOLS_VERSION_H

#define DONG_VERSION_MAJOR 1
#define DONG_VERSION_MINOR 0
#define DONG_VERSION_PATCH 0
#define DONG_VERSION_STRING "1.0.0"

#endif
