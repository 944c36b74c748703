# DriverModule.cmake - dong_driver_module(): one NT driver of the Linux home, as
# docs/INTERNALS.md describes them: a MODULE named without the lib prefix, every *.c
# of the calling folder, -fno-builtin, linked against nthost and its DDK headers, in
# ${CMAKE_BINARY_DIR}/drivers where nthost loads it from.
#
#   dong_driver_module(<target> [SOURCES <file.c>...] [MESSAGES <file.mc>] [LIBRARIES <lib>...])
#
# SOURCES: the driver's sources when it is not every *.c of its folder (a test driver
# beside its test).
# Nothing is made while nthost's targets are not defined (a tree without nthost yet).
# LIBRARIES may name ddklib: a build that adds a driver folder alone, without the top
# level (tests/fuzz/clang), gets it here.
#
# MESSAGES: the driver's message file. <name>msg.h is made from it (into
# ${CMAKE_CURRENT_BINARY_DIR}/generated, with driver/mc2h.cmake: windmc makes the same
# header on Windows) and the .mc is copied beside the image, where the event log reads
# the message text (EventMessageFile <name>.sys -> <name>.mc, as ImagePath .sys -> .so).
function(dong_driver_module target)
  if(NOT TARGET nthost OR NOT TARGET nthost_ddk)
    message(STATUS "${target}: nthost targets not defined yet; ${target} skipped")
    return()
  endif()
  cmake_parse_arguments(ARG "" "MESSAGES" "SOURCES;LIBRARIES" ${ARGN})
  if("ddklib" IN_LIST ARG_LIBRARIES AND NOT TARGET ddklib)
    add_subdirectory(${DONG_SOURCE_ROOT}/ddklib ${CMAKE_BINARY_DIR}/ddklib)
  endif()
  if(ARG_SOURCES)
    set(sources ${ARG_SOURCES})
  else()
    file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  endif()
  set(generated ${CMAKE_CURRENT_BINARY_DIR}/generated)
  if(ARG_MESSAGES)
    get_filename_component(mc_name ${ARG_MESSAGES} NAME_WE)
    set(header ${generated}/${mc_name}msg.h)
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${generated}
      COMMAND ${CMAKE_COMMAND} -DMC=${ARG_MESSAGES} -DOUT=${header} -P ${DONG_SOURCE_ROOT}/driver/mc2h.cmake
      DEPENDS ${ARG_MESSAGES} ${DONG_SOURCE_ROOT}/driver/mc2h.cmake
      COMMENT "Generating ${mc_name}msg.h from ${mc_name}.mc")
    list(APPEND sources ${header})
  endif()
  add_library(${target} MODULE ${sources})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/drivers)
  target_compile_options(${target} PRIVATE -fno-builtin)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${generated})
  target_link_libraries(${target} PRIVATE nthost nthost_ddk ${ARG_LIBRARIES})
  if(ARG_MESSAGES)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${ARG_MESSAGES} ${CMAKE_BINARY_DIR}/drivers/${mc_name}.mc)
  endif()
endfunction()
