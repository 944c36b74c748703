# CMake toolchain for the Windows home: Debian's mingw-w64 cross compiler
# (gcc-mingw-w64-x86-64). Used by `make windows`:
#   cmake -S windows -B build/windows -DCMAKE_TOOLCHAIN_FILE=windows/toolchain-x86_64-w64-mingw32.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(DONG_MINGW_PREFIX x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${DONG_MINGW_PREFIX}-gcc-win32 ${DONG_MINGW_PREFIX}-gcc)
find_program(CMAKE_RC_COMPILER NAMES ${DONG_MINGW_PREFIX}-windres)
find_program(DONG_WINDMC NAMES ${DONG_MINGW_PREFIX}-windmc)
if(NOT CMAKE_C_COMPILER OR NOT CMAKE_RC_COMPILER OR NOT DONG_WINDMC)
  message(FATAL_ERROR "mingw-w64 not found: install gcc-mingw-w64-x86-64 and binutils-mingw-w64-x86-64 (make windows does)")
endif()

set(CMAKE_FIND_ROOT_PATH /usr/${DONG_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
