# mingw_compile.cmake - compile every parallel/*.c, and the ddklib/*.c linked into it,
# with mingw-w64 against its DDK headers, warnings as errors:
# cmake -DGCC= -DSRC= -DLIB= -DMC2H= -DWORK= -P mingw_compile.cmake
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} -DMC=${SRC}/parallel.mc -DOUT=${WORK}/parallelmsg.h -P ${MC2H}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "parallelmsg.h could not be generated")
endif()
file(GLOB sources ${SRC}/*.c ${LIB}/*.c)
foreach(source ${sources})
  get_filename_component(name ${source} NAME_WE)
  execute_process(COMMAND ${GCC} -Wall -Wextra -Werror -I/usr/x86_64-w64-mingw32/include/ddk -I${WORK} -I${SRC} -I${LIB}
                          -c ${source} -o ${WORK}/${name}.o
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${source}: mingw-w64 build failed:\n${err}")
  endif()
endforeach()
message(STATUS "parallel: ${sources} build with mingw-w64")
