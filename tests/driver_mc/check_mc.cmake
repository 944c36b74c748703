# check_mc.cmake - driver/mc2h.cmake turns a message file into the header windmc
# would write: severity << 30 | facility << 16 | id, symbolic names, implicit ids,
# and it rejects a malformed file. Run: cmake -DMC2H=... -DWORK=... -P check_mc.cmake
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/t.mc [=[
; /* header comment */
MessageIdTypedef=NTSTATUS
SeverityNames=(Success=0x0:STATUS_SEVERITY_SUCCESS
               Informational=0x1
               Warning=0x2
               Error=0x3:STATUS_SEVERITY_ERROR)
FacilityNames=(Dong=0x107:FACILITY_DONG)

MessageId=0x0010
Facility=Dong
Severity=Warning
SymbolicName=MSG_A
Language=English
First %1 text.
.

MessageId=
Severity=Error
SymbolicName=MSG_B
Language=English
Second */ text.
.
]=])
execute_process(COMMAND ${CMAKE_COMMAND} -DMC=${WORK}/t.mc -DOUT=${WORK}/t.h -P ${MC2H} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mc2h failed on a valid file")
endif()
file(READ ${WORK}/t.h h)
foreach(expect
    "#define MSG_A ((NTSTATUS)0x81070010L)"
    "#define MSG_B ((NTSTATUS)0xC1070011L)"
    "#define FACILITY_DONG 0x107"
    "#define STATUS_SEVERITY_ERROR 0x3"
    " /* header comment */"
    " * First %1 text.")
  string(FIND "${h}" "${expect}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "generated header lacks: ${expect}\n${h}")
  endif()
endforeach()
string(FIND "${h}" "Second */ text" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "a '*/' in message text must not end the comment")
endif()

file(WRITE ${WORK}/bad.mc "MessageIdTypedef=NTSTATUS\nMessageId=1\nSeverity=Bogus\n")
execute_process(COMMAND ${CMAKE_COMMAND} -DMC=${WORK}/bad.mc -DOUT=${WORK}/bad.h -P ${MC2H}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  message(FATAL_ERROR "mc2h accepted an unknown severity")
endif()

# The real message file compiles, and its codes are what docs/DRIVER.md says.
execute_process(COMMAND ${CMAKE_COMMAND} -DMC=${DONG_MC} -DOUT=${WORK}/donglptmsg.h -P ${MC2H} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mc2h failed on donglpt.mc")
endif()
file(READ ${WORK}/donglptmsg.h h)
foreach(expect "DONG_MSG_PORT_STARTED ((NTSTATUS)0x41070001L)" "DONG_MSG_NO_KEY ((NTSTATUS)0x81070010L)"
               "DONG_MSG_LINK_FAILED ((NTSTATUS)0xC1070020L)")
  string(FIND "${h}" "${expect}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "donglptmsg.h lacks: ${expect}")
  endif()
endforeach()
